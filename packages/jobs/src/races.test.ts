import pg from 'pg';
import { poolConfigFromUrl, type Db } from '@cwo/db';
import { cancelJob } from './cancel';
import { createJob, createRevertJob } from './create';
import { finishJob, startJob } from './run';
import { jobRow, newProject, OWNER, outcome, projectStatus, setJob, testDb } from './__tests__/fixtures';
import { eventually } from '../../../e2e/helpers/poll';

// Transitions racing on one job or one project, at the database level. A third connection holds
// the row both need, the two transitions are sent in a chosen order and queue up behind it, and
// then it lets go: Postgres hands the row to the waiters in that order, so each order is tested,
// not left to chance.

let db: Db;
let holder: pg.Client;
/** Outside any transaction: pg_stat_activity is read once per transaction. */
let watcher: pg.Client;
beforeAll(async () => {
  db = testDb();
  holder = new pg.Client(poolConfigFromUrl(process.env.DATABASE_URL!));
  watcher = new pg.Client(poolConfigFromUrl(process.env.DATABASE_URL!));
  await Promise.all([holder.connect(), watcher.connect()]);
});
afterAll(async () => {
  await Promise.all([holder.end(), watcher.end()]);
  await db.$disconnect();
});

/** Sessions of this database waiting for a lock. */
async function waiting(): Promise<number> {
  const { rows } = await watcher.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0]!.n;
}

/**
 * Runs `first` then `second` while `lockSql` holds a row, each one waiting behind it before the
 * next is sent; returns both results once the row is let go.
 */
async function inOrder<A, B>(lockSql: string, id: string, first: () => Promise<A>, second: () => Promise<B>) {
  await holder.query('BEGIN');
  await holder.query(lockSql, [id]);
  const a = first();
  await eventually('the first to wait', async () => (await waiting()) >= 1, 5000, 10);
  const b = second();
  await eventually('the second to wait', async () => (await waiting()) >= 2, 5000, 10);
  await holder.query('COMMIT');
  return Promise.all([a, b]);
}

const LOCK_JOB = 'SELECT 1 FROM jobs WHERE id = $1::uuid FOR UPDATE';
const LOCK_PROJECT = 'SELECT 1 FROM projects WHERE id = $1::uuid FOR UPDATE';

describe('cancel vs start of a queued job', () => {
  it('cancel first: the job is cancelled and the runner’s start is refused', async () => {
    const { projectId, jobIds } = await newProject(db);
    const jobId = jobIds[0]!;
    const [cancelled, started] = await inOrder(
      LOCK_JOB,
      jobId,
      () => cancelJob(db, OWNER, projectId, jobId),
      () => startJob(db, jobId),
    );
    expect(cancelled.kind).toBe('cancelled');
    expect(started).toEqual({ kind: 'refused' });
    expect(await jobRow(db, jobId)).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(await projectStatus(db, projectId)).toBe('cancelled');
  });

  it('start first: the job runs, and the cancel becomes a request its runner acts on', async () => {
    const { projectId, jobIds } = await newProject(db);
    const jobId = jobIds[0]!;
    const [started, cancelled] = await inOrder(
      LOCK_JOB,
      jobId,
      () => startJob(db, jobId),
      () => cancelJob(db, OWNER, projectId, jobId),
    );
    expect(started).toEqual({ kind: 'started', attempt: 1 });
    expect(cancelled.kind).toBe('cancelling');
    const job = await jobRow(db, jobId);
    expect(job).toMatchObject({ status: 'in_progress', attempts: 1 });
    expect(job.cancelRequestedAt).not.toBeNull();
    // A runner that now loses its job and gets it back does not start it again.
    expect(await startJob(db, jobId)).toEqual({ kind: 'refused' });
    expect(await projectStatus(db, projectId)).toBe('in_progress');
  });

  it('at the same moment, many times: always one of the two outcomes, never both or neither', async () => {
    for (let i = 0; i < 20; i++) {
      const { projectId, jobIds } = await newProject(db);
      const jobId = jobIds[0]!;
      const [cancelled, started] = await Promise.all([cancelJob(db, OWNER, projectId, jobId), startJob(db, jobId)]);
      const job = await jobRow(db, jobId);
      if (started.kind === 'started') {
        expect(cancelled.kind).toBe('cancelling');
        expect(job.status).toBe('in_progress');
        expect(job.cancelRequestedAt).not.toBeNull();
      } else {
        expect(cancelled.kind).toBe('cancelled');
        expect(job.status).toBe('cancelled');
      }
      expect(await projectStatus(db, projectId)).toBe(job.status);
    }
  });
});

describe('finish vs takeover (another runner starting the job again)', () => {
  async function runningJob() {
    const { projectId, jobIds } = await newProject(db);
    await setJob(db, jobIds[0]!, { status: 'in_progress', attempts: 1 });
    return { projectId, jobId: jobIds[0]! };
  }

  it('finish first: the outcome stands and the takeover is refused', async () => {
    const { projectId, jobId } = await runningJob();
    const [finished, takenOver] = await inOrder(
      LOCK_JOB,
      jobId,
      () => finishJob(db, jobId, 1, outcome({ summary: 'first runner' })),
      () => startJob(db, jobId),
    );
    expect(finished).toBe('finished');
    expect(takenOver).toEqual({ kind: 'refused' });
    expect(await jobRow(db, jobId)).toMatchObject({ status: 'completed', attempts: 1, summary: 'first runner' });
    expect(await projectStatus(db, projectId)).toBe('completed');
  });

  it('takeover first: attempt 2 runs and the first runner’s late outcome is discarded', async () => {
    const { projectId, jobId } = await runningJob();
    const [takenOver, finished] = await inOrder(
      LOCK_JOB,
      jobId,
      () => startJob(db, jobId),
      () => finishJob(db, jobId, 1, outcome({ summary: 'first runner' })),
    );
    expect(takenOver).toEqual({ kind: 'started', attempt: 2 });
    expect(finished).toBe('superseded');
    expect(await jobRow(db, jobId)).toMatchObject({ status: 'in_progress', attempts: 2, summary: null });
    expect(await projectStatus(db, projectId)).toBe('in_progress');
    expect(await finishJob(db, jobId, 2, outcome())).toBe('finished');
  });
});

describe('a job finishing while another job of its project is queued', () => {
  it('leaves the project queued, not completed', async () => {
    const { projectId, jobIds } = await newProject(db, 1);
    const started = await startJob(db, jobIds[0]!);
    expect(await projectStatus(db, projectId)).toBe('in_progress');
    await finishJob(db, jobIds[0]!, (started as { attempt: number }).attempt, outcome());
    expect(await projectStatus(db, projectId)).toBe('queued');
  });

  it.each([
    ['the finish', 'the new job'],
    ['the new job', 'the finish'],
  ])('leaves it queued when %s derives before %s, at the same moment', async (firstName) => {
    const { projectId, jobIds } = await newProject(db);
    await setJob(db, jobIds[0]!, { status: 'in_progress', attempts: 1 });
    const finish = () => finishJob(db, jobIds[0]!, 1, outcome());
    const create = () => createJob(db, OWNER, projectId, { job_type: 'edit', instruction: 'next' }, 0);
    const results =
      firstName === 'the finish'
        ? await inOrder(LOCK_PROJECT, projectId, finish, create)
        : (await inOrder(LOCK_PROJECT, projectId, create, finish)).reverse();
    expect(results[0]).toBe('finished');
    expect(results[1]).toMatchObject({ kind: 'created' });
    expect(await projectStatus(db, projectId)).toBe('queued');
  });
});

describe('reverts of one job asked at the same moment', () => {
  async function finishedWithChanges() {
    const { projectId, jobIds } = await newProject(db);
    await setJob(db, jobIds[0]!, { status: 'in_progress', attempts: 1 });
    await finishJob(db, jobIds[0]!, 1, outcome({ modified_files: ['app.py'], commit_sha: 'a'.repeat(40) }));
    return { projectId, jobId: jobIds[0]! };
  }

  it('both past their checks before either is written: one revert, the other request told which', async () => {
    const { projectId, jobId } = await finishedWithChanges();
    // The first waits on the held project row (its status derivation) with its revert written but
    // not committed; the second's insert then waits on the first's, behind the unique index.
    const [first, second] = await inOrder(
      LOCK_PROJECT,
      projectId,
      () => createRevertJob(db, OWNER, projectId, jobId, 0),
      () => createRevertJob(db, OWNER, projectId, jobId, 0),
    );
    expect(first.kind).toBe('created');
    expect(second).toEqual({
      kind: 'already_reverted',
      revertJobId: first.kind === 'created' ? first.job.id : null,
      status: 'queued',
    });
    expect(await db.job.count({ where: { projectId, jobType: 'revert' } })).toBe(1);
    expect(await projectStatus(db, projectId)).toBe('queued');
  });

  it('under the active-job cap too (the owner’s lock orders them)', async () => {
    const { projectId, jobId } = await finishedWithChanges();
    // Other test files leave this owner's jobs queued in the same database: a cap above what is
    // active now takes the capped path without being reached.
    const [active] = await db.$queryRawUnsafe<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM jobs JOIN projects ON projects.id = jobs.project_id
        WHERE projects.owner_id = $1::uuid AND jobs.status IN ('queued', 'in_progress')`,
      OWNER,
    );
    const cap = active!.n + 10;
    const results = await Promise.all([1, 2, 3].map(() => createRevertJob(db, OWNER, projectId, jobId, cap)));
    expect(results.filter((r) => r.kind === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'already_reverted')).toHaveLength(2);
    expect(await db.job.count({ where: { projectId, jobType: 'revert' } })).toBe(1);
  });

  it('a revert asked while the job’s finish is being written is refused as unfinished, then allowed', async () => {
    const { projectId, jobIds } = await newProject(db);
    const jobId = jobIds[0]!;
    await setJob(db, jobId, { status: 'in_progress', attempts: 1 });
    await holder.query('BEGIN');
    await holder.query(LOCK_JOB, [jobId]);
    const finishing = finishJob(db, jobId, 1, outcome({ modified_files: ['app.py'], commit_sha: 'a'.repeat(40) }));
    await eventually('the finish to wait', async () => (await waiting()) >= 1, 5000, 10);
    expect(await createRevertJob(db, OWNER, projectId, jobId, 0)).toEqual({
      kind: 'job_unfinished',
      status: 'in_progress',
    });
    await holder.query('COMMIT');
    expect(await finishing).toBe('finished');
    expect(await createRevertJob(db, OWNER, projectId, jobId, 0)).toMatchObject({ kind: 'created' });
  });
});
