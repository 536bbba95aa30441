import { randomUUID } from 'node:crypto';
import { sqlPool } from '@cwo/db';
import { cancelJob } from './cancel';
import { createJob, createProjectWithInitialJob } from './create';
import { deleteProject } from './delete';
import { cancelUnstartedJob, finishJob, giveUpJob, requeueJob, startJob } from './run';
import { outcome, testDb } from './__tests__/fixtures';

// The webhook outbox: each transition that changes a job's status records the event of its new
// state in its own statement (events.ts), only for an owner with an endpoint subscribed to it.

const db = testDb();
const owners: string[] = [];
afterAll(async () => {
  // Their endpoints, events and deliveries go with them.
  await sqlPool(db).query('DELETE FROM users WHERE id = ANY ($1::uuid[])', [owners]);
  await db.$disconnect();
});

const EVERY_TYPE = ['job.queued', 'job.started', 'job.completed', 'job.failed', 'job.cancelled', 'project.deleted'];

async function ownerWithEndpoint(events: string[] = EVERY_TYPE): Promise<string> {
  const owner = randomUUID();
  owners.push(owner);
  const pool = sqlPool(db);
  await pool.query('INSERT INTO users (id, name, updated_at) VALUES ($1, $2, now())', [owner, `events-${owner}`]);
  await pool.query(
    `INSERT INTO webhook_endpoints (id, owner_id, url, events, secret, updated_at)
     VALUES (gen_random_uuid(), $1, 'https://hooks.example.test/x', $2::text[], 'whsec_dGVzdA==', now())`,
    [owner, events],
  );
  return owner;
}

async function project(owner: string) {
  const id = randomUUID();
  const created = await createProjectWithInitialJob(
    db,
    { id, ownerId: owner, instruction: 'events', workspacePath: `/tmp/${id}` },
    0,
  );
  if (created.kind !== 'created') throw new Error(created.kind);
  return { projectId: id, jobId: created.job.id };
}

async function edit(owner: string, projectId: string): Promise<string> {
  const created = await createJob(db, owner, projectId, { job_type: 'edit', instruction: 'e' }, 0);
  if (created.kind !== 'created') throw new Error(created.kind);
  return created.job.id;
}

/**
 * The owner's recorded events: [type, the job's status in the recorded row, deliveries], sorted
 * (events of one millisecond have no order of their own).
 */
async function recorded(owner: string): Promise<Array<[string, string | undefined, number]>> {
  const { rows } = await sqlPool(db).query<{ type: string; status: string | undefined; deliveries: number }>(
    `SELECT e.type, e.data->>'status' AS status,
            (SELECT count(*) FROM webhook_deliveries d WHERE d.event_id = e.id)::int AS deliveries
       FROM webhook_events e WHERE e.owner_id = $1 ORDER BY e.type, status`,
    [owner],
  );
  return rows.map((r) => [r.type, r.status ?? undefined, r.deliveries]);
}

describe('events recorded by the transitions', () => {
  it('records each job state with the row as it now is, one delivery per subscribed endpoint; a requeue records none', async () => {
    const owner = await ownerWithEndpoint();
    const { projectId, jobId } = await project(owner);
    const started = await startJob(db, jobId);
    if (started.kind !== 'started') throw new Error('not started');
    expect(await requeueJob(db, jobId, started.attempt)).toBe('requeued');
    const again = await startJob(db, jobId);
    if (again.kind !== 'started') throw new Error('not started');
    await finishJob(db, jobId, again.attempt, outcome({ status: 'error', error_code: 'timeout', errors: ['timeout'] }));

    expect(await recorded(owner)).toEqual([
      ['job.failed', 'error', 1],
      ['job.queued', 'queued', 1],
      ['job.started', 'in_progress', 1],
      ['job.started', 'in_progress', 1],
    ]);
    const failed = await sqlPool(db).query<{ data: Record<string, unknown> }>(
      `SELECT data FROM webhook_events WHERE owner_id = $1 AND type = 'job.failed'`,
      [owner],
    );
    expect(failed.rows[0]!.data).toMatchObject({
      id: jobId,
      project_id: projectId,
      attempts: 2,
      error_code: 'timeout',
      errors: ['timeout'],
    });
  });

  it('records the cancels, the reconciler giving up, a completion and the deletion with the jobs it stopped', async () => {
    const owner = await ownerWithEndpoint();
    const { projectId, jobId } = await project(owner);
    const queuedCancel = await edit(owner, projectId);
    const requestedCancel = await edit(owner, projectId);
    const lost = await edit(owner, projectId);
    const left = await edit(owner, projectId);

    const s = await startJob(db, jobId);
    if (s.kind !== 'started') throw new Error('not started');
    await finishJob(db, jobId, s.attempt, outcome({}));
    expect((await cancelJob(db, owner, projectId, queuedCancel)).kind).toBe('cancelled');
    await sqlPool(db).query('UPDATE jobs SET cancel_requested_at = now() WHERE id = $1', [requestedCancel]);
    expect(await cancelUnstartedJob(db, requestedCancel)).toBe('cancelled');
    expect(await giveUpJob(db, lost, { status: 'queued', attempts: 0 }, ['runner lost the job'])).toBe('gave_up');
    expect((await deleteProject(db, owner, projectId)).kind).toBe('deleted');

    const types = (await recorded(owner)).filter(([t]) => t !== 'job.queued');
    expect(types).toEqual([
      ['job.cancelled', 'cancelled', 1],
      ['job.cancelled', 'cancelled', 1],
      ['job.completed', 'completed', 1],
      ['job.failed', 'error', 1],
      ['job.started', 'in_progress', 1],
      ['project.deleted', undefined, 1],
    ]);
    const deleted = await sqlPool(db).query<{ data: { project: { id: string }; stopped_jobs: unknown[] } }>(
      `SELECT data FROM webhook_events WHERE owner_id = $1 AND type = 'project.deleted'`,
      [owner],
    );
    expect(deleted.rows[0]!.data.project.id).toBe(projectId);
    expect(deleted.rows[0]!.data.stopped_jobs).toEqual([{ id: left, status: 'queued' }]);
  });

  it('records nothing for an owner with no endpoint for the type, or whose endpoint is disabled', async () => {
    const owner = await ownerWithEndpoint(['project.deleted']);
    const { jobId } = await project(owner);
    const s = await startJob(db, jobId);
    if (s.kind !== 'started') throw new Error('not started');
    await finishJob(db, jobId, s.attempt, outcome({}));
    expect(await recorded(owner)).toEqual([]);

    await sqlPool(db).query('UPDATE webhook_endpoints SET disabled_at = now() WHERE owner_id = $1', [owner]);
    const other = await project(owner);
    expect((await deleteProject(db, owner, other.projectId)).kind).toBe('deleted');
    expect(await recorded(owner)).toEqual([]);
  });
});
