// Shared by the state machine's tests: this run's real Postgres database, projects made through
// the transitions themselves, and a way to put a job in any state directly.
import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '@cwo/db';
import { createJob, createProjectWithInitialJob } from '../create';
import type { JobOutcome } from '../run';

/** The implicit local user of AUTH_MODE=none (made by the migrations). */
export const OWNER = '00000000-0000-4000-8000-000000000001';

export const testDb = (): Db => createDb(process.env.DATABASE_URL!);

/** A project with its queued initial job; `edits` more queued jobs after it. */
export async function newProject(db: Db, edits = 0): Promise<{ projectId: string; jobIds: string[] }> {
  const id = randomUUID();
  const created = await createProjectWithInitialJob(
    db,
    { id, ownerId: OWNER, instruction: 'a Fibonacci CLI', workspacePath: `/tmp/${id}` },
    0,
  );
  if (created.kind !== 'created') throw new Error(created.kind);
  const jobIds = [created.job.id];
  for (let i = 0; i < edits; i++) {
    const edit = await createJob(db, OWNER, id, { job_type: 'edit', instruction: `edit ${i + 1}` }, 0);
    if (edit.kind !== 'created') throw new Error(edit.kind);
    jobIds.push(edit.job.id);
  }
  return { projectId: id, jobIds };
}

/**
 * Puts a job in a state as if it had got there (no transition: the project is left as it was); a
 * job put in error or cancelled gets a code as it would (agent_error, cancelled).
 */
export async function setJob(
  db: Db,
  jobId: string,
  state: { status: string; attempts?: number; cancelRequested?: boolean },
): Promise<void> {
  await db.$executeRawUnsafe(
    `UPDATE jobs SET status = $2::"Status", attempts = COALESCE($3::int, attempts),
       cancel_requested_at = CASE WHEN $4::boolean THEN now() ELSE NULL END,
       error_code = CASE $2 WHEN 'error' THEN 'agent_error' WHEN 'cancelled' THEN 'cancelled' END WHERE id = $1::uuid`,
    jobId,
    state.status,
    state.attempts ?? null,
    state.cancelRequested ?? false,
  );
}

export async function jobRow(db: Db, jobId: string) {
  return db.job.findUniqueOrThrow({ where: { id: jobId } });
}

export async function projectStatus(db: Db, projectId: string): Promise<string> {
  return (await db.project.findUniqueOrThrow({ where: { id: projectId } })).status;
}

export const outcome = (extra: Partial<JobOutcome> = {}): JobOutcome => ({
  status: 'completed',
  summary: 'done',
  errors: [],
  created_files: [],
  modified_files: [],
  deleted_files: [],
  result_path: null,
  usage: null,
  thread_id: null,
  commit_sha: null,
  error_code: extra.status === 'cancelled' ? 'cancelled' : extra.status === 'error' ? 'agent_error' : null,
  ...extra,
});
