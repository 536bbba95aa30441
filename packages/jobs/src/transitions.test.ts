import { randomUUID } from 'node:crypto';
import type { Db } from '@cwo/db';
import { cancelJob } from './cancel';
import { createJob, createRevertJob } from './create';
import { deleteProject } from './delete';
import { cancelUnstartedJob, finishJob, giveUpJob, giveUpWithOutcome, requeueJob, startJob } from './run';
import { jobRow, newProject, OWNER, outcome, projectStatus, setJob, testDb } from './__tests__/fixtures';

// Each transition's guard against the real Postgres: what it accepts, what it refuses and from
// which state, and that a refused transition changes nothing.

let db: Db;
beforeAll(() => {
  db = testDb();
});
afterAll(() => db.$disconnect());

const FINISHED = ['completed', 'error', 'cancelled'] as const;
const ANOTHER_OWNER = randomUUID();

/** A project's only job, put in `state`. */
async function jobIn(state: Parameters<typeof setJob>[2]): Promise<{ projectId: string; jobId: string }> {
  const { projectId, jobIds } = await newProject(db);
  await setJob(db, jobIds[0]!, state);
  return { projectId, jobId: jobIds[0]! };
}

/** The job's row without updated_at, to show that a refused transition left it as it was. */
async function unchanged(jobId: string) {
  const { updatedAt: _ignored, ...rest } = await jobRow(db, jobId);
  return rest;
}

describe('start', () => {
  it.each([
    ['queued', 0, 1],
    ['in_progress', 1, 2], // a takeover: its runner died
  ])('from %s: in_progress, attempts + 1, the project in_progress', async (status, attempts, attempt) => {
    const { projectId, jobId } = await jobIn({ status, attempts });
    expect(await startJob(db, jobId)).toEqual({ kind: 'started', attempt });
    expect(await jobRow(db, jobId)).toMatchObject({ status: 'in_progress', attempts: attempt, finishedAt: null });
    expect(await projectStatus(db, projectId)).toBe('in_progress');
  });

  it.each([...FINISHED.map((s) => [s, false] as const), ['queued', true] as const, ['in_progress', true] as const])(
    'refused from %s (cancel requested: %s)',
    async (status, cancelRequested) => {
      const { jobId } = await jobIn({ status, cancelRequested });
      const before = await unchanged(jobId);
      expect(await startJob(db, jobId)).toEqual({ kind: 'refused' });
      expect(await unchanged(jobId)).toEqual(before);
    },
  );
});

describe('finish and requeue (fenced by the attempt)', () => {
  it('finish: in_progress in that attempt -> the outcome; the project takes its status and summary', async () => {
    const { projectId, jobId } = await jobIn({ status: 'in_progress', attempts: 2 });
    expect(await finishJob(db, jobId, 2, outcome({ status: 'error', summary: 'it broke', errors: ['x'] }))).toBe(
      'finished',
    );
    const job = await jobRow(db, jobId);
    expect(job).toMatchObject({
      status: 'error',
      summary: 'it broke',
      errors: ['x'],
      logsPath: `.codex/jobs/${jobId}/job.log`,
    });
    expect(job.finishedAt).not.toBeNull();
    expect(await db.project.findUniqueOrThrow({ where: { id: projectId } })).toMatchObject({
      status: 'error',
      summary: 'it broke',
    });
  });

  it('requeue: in_progress in that attempt -> queued, attempts kept; the project queued', async () => {
    const { projectId, jobId } = await jobIn({ status: 'in_progress', attempts: 1 });
    expect(await requeueJob(db, jobId, 1)).toBe('requeued');
    expect(await jobRow(db, jobId)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(await projectStatus(db, projectId)).toBe('queued');
  });

  it.each<[string, number]>([
    ['queued', 1],
    ['in_progress', 2], // taken over by another runner's attempt 2
    ...FINISHED.map((s): [string, number] => [s, 1]),
  ])('both refused from %s with attempts %s (for attempt 1)', async (status, attempts) => {
    const { jobId } = await jobIn({ status, attempts });
    const before = await unchanged(jobId);
    expect(await finishJob(db, jobId, 1, outcome())).toBe('superseded');
    expect(await requeueJob(db, jobId, 1)).toBe('superseded');
    expect(await unchanged(jobId)).toEqual(before);
  });
});

describe('give up (the reconciler)', () => {
  it.each(['queued', 'in_progress'] as const)('from %s as seen: error with the reasons', async (status) => {
    const { projectId, jobId } = await jobIn({ status, attempts: 3 });
    expect(await giveUpJob(db, jobId, { status, attempts: 3 }, ['runner lost the job'])).toBe('gave_up');
    expect(await jobRow(db, jobId)).toMatchObject({ status: 'error', errors: ['runner lost the job'] });
    expect(await projectStatus(db, projectId)).toBe('error');
  });

  it.each<[string, number, 'queued' | 'in_progress']>([
    ['in_progress', 4, 'in_progress'], // started again since it was seen
    ['in_progress', 3, 'queued'], // started since it was seen queued
    ...FINISHED.map((s): [string, number, 'in_progress'] => [s, 3, 'in_progress']),
  ])('refused when it is %s with attempts %s (seen %s with attempts 3)', async (status, attempts, seen) => {
    const { jobId } = await jobIn({ status, attempts });
    const before = await unchanged(jobId);
    expect(await giveUpJob(db, jobId, { status: seen, attempts: 3 }, ['x'])).toBe('superseded');
    expect(await giveUpWithOutcome(db, jobId, { status: seen, attempts: 3 }, outcome())).toBe('superseded');
    expect(await unchanged(jobId)).toEqual(before);
  });

  it.each(['queued', 'in_progress'] as const)(
    'from %s as seen, with an outcome an attempt recorded: finished as that attempt ended',
    async (status) => {
      const { projectId, jobId } = await jobIn({ status, attempts: 3 });
      const recorded = outcome({
        summary: 'Appended a comment',
        modified_files: ['app.py'],
        commit_sha: 'c'.repeat(40),
      });
      expect(await giveUpWithOutcome(db, jobId, { status, attempts: 3 }, recorded)).toBe('gave_up');
      expect(await jobRow(db, jobId)).toMatchObject({
        status: 'completed',
        summary: 'Appended a comment',
        modifiedFiles: ['app.py'],
        commitSha: 'c'.repeat(40),
        attempts: 3,
      });
      expect(await projectStatus(db, projectId)).toBe('completed');
    },
  );
});

describe('cancel before start (the runner, for a job whose cancel was requested)', () => {
  it.each(['queued', 'in_progress'])('from %s with a cancel request: cancelled', async (status) => {
    const { projectId, jobId } = await jobIn({ status, cancelRequested: true });
    expect(await cancelUnstartedJob(db, jobId)).toBe('cancelled');
    expect(await jobRow(db, jobId)).toMatchObject({ status: 'cancelled', summary: 'Cancelled before it started.' });
    expect(await projectStatus(db, projectId)).toBe('cancelled');
  });

  it.each<[string, boolean]>([
    ['queued', false],
    ['in_progress', false],
    ...FINISHED.map((s): [string, boolean] => [s, true]),
  ])('refused from %s (cancel requested: %s)', async (status, cancelRequested) => {
    const { jobId } = await jobIn({ status, cancelRequested });
    const before = await unchanged(jobId);
    expect(await cancelUnstartedJob(db, jobId)).toBe('refused');
    expect(await unchanged(jobId)).toEqual(before);
  });
});

describe('cancel (the API)', () => {
  it('queued: cancelled at once; the project derived again', async () => {
    const { projectId, jobId } = await jobIn({ status: 'queued' });
    const result = await cancelJob(db, OWNER, projectId, jobId);
    expect(result).toMatchObject({ kind: 'cancelled', job: { id: jobId, status: 'cancelled' } });
    expect(await projectStatus(db, projectId)).toBe('cancelled');
  });

  it('in_progress: cancelling, the first request’s time kept; the status unchanged', async () => {
    const { projectId, jobId } = await jobIn({ status: 'in_progress' });
    const first = await cancelJob(db, OWNER, projectId, jobId);
    expect(first).toMatchObject({ kind: 'cancelling', job: { status: 'in_progress' } });
    const requestedAt = (first as { job: { cancelRequestedAt: Date } }).job.cancelRequestedAt;
    expect(requestedAt).toBeInstanceOf(Date);
    const again = await cancelJob(db, OWNER, projectId, jobId);
    expect((again as { job: { cancelRequestedAt: Date } }).job.cancelRequestedAt).toEqual(requestedAt);
  });

  it.each(FINISHED)('refused from %s: already_finished, unchanged', async (status) => {
    const { projectId, jobId } = await jobIn({ status });
    const before = await unchanged(jobId);
    expect(await cancelJob(db, OWNER, projectId, jobId)).toMatchObject({ kind: 'already_finished', job: { status } });
    expect(await unchanged(jobId)).toEqual(before);
  });

  it('not_found for another owner’s job, another project’s job, or a malformed id', async () => {
    const { projectId, jobId } = await jobIn({ status: 'queued' });
    const other = await newProject(db);
    expect(await cancelJob(db, ANOTHER_OWNER, projectId, jobId)).toEqual({ kind: 'not_found' });
    expect(await cancelJob(db, OWNER, other.projectId, jobId)).toEqual({ kind: 'not_found' });
    expect(await cancelJob(db, OWNER, projectId, 'not-a-uuid')).toEqual({ kind: 'not_found' });
    expect((await jobRow(db, jobId)).status).toBe('queued');
  });
});

describe('create job', () => {
  it('an edit: queued, after the project’s other jobs; a finished project queued again', async () => {
    const { projectId, jobIds } = await newProject(db);
    await setJob(db, jobIds[0]!, { status: 'in_progress', attempts: 1 });
    await finishJob(db, jobIds[0]!, 1, outcome());
    expect(await projectStatus(db, projectId)).toBe('completed');
    const created = await createJob(db, OWNER, projectId, { job_type: 'edit', instruction: 'add a flag' }, 0);
    expect(created).toMatchObject({ kind: 'created', job: { status: 'queued', jobType: 'edit' } });
    expect(await projectStatus(db, projectId)).toBe('queued');
  });

  it('refuses a second initial_project job, whatever the first one’s state', async () => {
    for (const status of ['queued', 'in_progress', ...FINISHED]) {
      const { projectId, jobId } = await jobIn({ status });
      const created = await createJob(db, OWNER, projectId, { job_type: 'initial_project', instruction: 'again' }, 0);
      expect(created).toEqual({ kind: 'initial_job_exists', initialJobId: jobId });
      expect(await db.job.count({ where: { projectId } })).toBe(1);
    }
  });

  it('project_not_found for another owner’s project, a deleted one, or a malformed id', async () => {
    const { projectId } = await newProject(db);
    const edit = { job_type: 'edit' as const, instruction: 'x' };
    expect(await createJob(db, ANOTHER_OWNER, projectId, edit, 0)).toEqual({ kind: 'project_not_found' });
    expect(await createJob(db, OWNER, 'nope', edit, 0)).toEqual({ kind: 'project_not_found' });
    await deleteProject(db, OWNER, projectId);
    expect(await createJob(db, OWNER, projectId, edit, 0)).toEqual({ kind: 'project_not_found' });
  });

  it('active_job_limit at the owner’s cap, nothing written', async () => {
    const { projectId } = await newProject(db); // one queued job of the owner's, at least
    const active = await db.job.count({
      where: { status: { in: ['queued', 'in_progress'] }, project: { ownerId: OWNER } },
    });
    const result = await createJob(db, OWNER, projectId, { job_type: 'edit', instruction: 'x' }, active);
    expect(result).toEqual({ kind: 'active_job_limit', limit: active });
    expect(await db.job.count({ where: { projectId } })).toBe(1);
  });
});

describe('delete project', () => {
  it('deletes the project and its jobs; returns those that were unfinished, as they were', async () => {
    const { projectId, jobIds } = await newProject(db, 2);
    await setJob(db, jobIds[0]!, { status: 'completed' });
    await setJob(db, jobIds[1]!, { status: 'in_progress' });
    expect(await deleteProject(db, OWNER, projectId)).toEqual({
      kind: 'deleted',
      stopped: [
        { id: jobIds[1], status: 'in_progress' },
        { id: jobIds[2], status: 'queued' },
      ],
    });
    expect(await db.project.count({ where: { id: projectId } })).toBe(0);
    expect(await db.job.count({ where: { projectId } })).toBe(0);
  });

  it('not_found for another owner’s project (left alone), or one already deleted', async () => {
    const { projectId } = await newProject(db);
    expect(await deleteProject(db, ANOTHER_OWNER, projectId)).toEqual({ kind: 'not_found' });
    expect(await db.project.count({ where: { id: projectId } })).toBe(1);
    await deleteProject(db, OWNER, projectId);
    expect(await deleteProject(db, OWNER, projectId)).toEqual({ kind: 'not_found' });
  });
});

describe('create revert job', () => {
  const SHA = 'a'.repeat(40);

  /** A project whose initial job finished with `changes` (a commit and a modified file) or without. */
  async function finishedJob(
    changes: { commit: boolean; files: boolean },
    status: 'completed' | 'error' = 'completed',
  ) {
    const { projectId, jobIds } = await newProject(db);
    await setJob(db, jobIds[0]!, { status: 'in_progress', attempts: 1 });
    const done = outcome({
      status,
      errors: status === 'error' ? ['x'] : [],
      error_code: status === 'error' ? 'checks_failed' : null,
      modified_files: changes.files ? ['app.py'] : [],
      commit_sha: changes.commit ? SHA : null,
    });
    expect(await finishJob(db, jobIds[0]!, 1, done)).toBe('finished');
    return { projectId, jobId: jobIds[0]! };
  }

  it('a finished job that changed files: a queued revert naming it, the project queued again', async () => {
    for (const status of ['completed', 'error'] as const) {
      const { projectId, jobId } = await finishedJob({ commit: true, files: true }, status);
      const created = await createRevertJob(db, OWNER, projectId, jobId, 0);
      expect(created).toMatchObject({
        kind: 'created',
        job: { status: 'queued', jobType: 'revert', revertsJobId: jobId, projectId },
      });
      if (created.kind === 'created')
        expect(created.job.instruction).toMatch(/^Undo job [0-9a-f-]{36} \(initial_project: /);
      expect(await projectStatus(db, projectId)).toBe('queued');
    }
  });

  it('refuses a job that has not finished, nothing written', async () => {
    for (const status of ['queued', 'in_progress']) {
      const { projectId, jobId } = await jobIn({ status });
      expect(await createRevertJob(db, OWNER, projectId, jobId, 0)).toEqual({ kind: 'job_unfinished', status });
      expect(await db.job.count({ where: { projectId } })).toBe(1);
    }
  });

  it('refuses a job that changed nothing, or kept no commit of its changes', async () => {
    for (const changes of [
      { commit: true, files: false },
      { commit: false, files: true },
    ]) {
      const { projectId, jobId } = await finishedJob(changes);
      expect(await createRevertJob(db, OWNER, projectId, jobId, 0)).toEqual({
        kind: 'job_unchanged',
        status: 'completed',
      });
      expect(await db.job.count({ where: { projectId } })).toBe(1);
    }
    const { projectId, jobId } = await jobIn({ status: 'cancelled' });
    expect(await createRevertJob(db, OWNER, projectId, jobId, 0)).toEqual({
      kind: 'job_unchanged',
      status: 'cancelled',
    });
  });

  it('refuses a second revert while one is queued, running or completed; allows one after a failed or cancelled one', async () => {
    const { projectId, jobId } = await finishedJob({ commit: true, files: true });
    const first = await createRevertJob(db, OWNER, projectId, jobId, 0);
    if (first.kind !== 'created') throw new Error(first.kind);
    for (const status of ['queued', 'in_progress', 'completed']) {
      await setJob(db, first.job.id, { status });
      expect(await createRevertJob(db, OWNER, projectId, jobId, 0)).toEqual({
        kind: 'already_reverted',
        revertJobId: first.job.id,
        status,
      });
    }
    expect(await db.job.count({ where: { projectId, jobType: 'revert' } })).toBe(1);
    for (const status of ['error', 'cancelled']) {
      const { projectId: p, jobId: j } = await finishedJob({ commit: true, files: true });
      const failed = await createRevertJob(db, OWNER, p, j, 0);
      if (failed.kind !== 'created') throw new Error(failed.kind);
      await setJob(db, failed.job.id, { status });
      expect(await createRevertJob(db, OWNER, p, j, 0)).toMatchObject({ kind: 'created' });
    }
  });

  it('job_not_found for a job of another project or a malformed id; project_not_found for another owner', async () => {
    const { projectId } = await finishedJob({ commit: true, files: true });
    const other = await finishedJob({ commit: true, files: true });
    expect(await createRevertJob(db, OWNER, projectId, other.jobId, 0)).toEqual({ kind: 'job_not_found' });
    expect(await createRevertJob(db, OWNER, projectId, 'nope', 0)).toEqual({ kind: 'job_not_found' });
    expect(await createRevertJob(db, ANOTHER_OWNER, other.projectId, other.jobId, 0)).toEqual({
      kind: 'project_not_found',
    });
  });

  it('active_job_limit at the owner’s cap', async () => {
    const { projectId, jobId } = await finishedJob({ commit: true, files: true });
    await newProject(db); // one queued job of the owner's, at least
    const active = await db.job.count({
      where: { status: { in: ['queued', 'in_progress'] }, project: { ownerId: OWNER } },
    });
    expect(await createRevertJob(db, OWNER, projectId, jobId, active)).toEqual({
      kind: 'active_job_limit',
      limit: active,
    });
    expect(await db.job.count({ where: { projectId } })).toBe(1);
  });
});
