import { randomUUID } from 'node:crypto';
import type { CheckSpec, JobCreate } from '@cwo/contracts';
import { sqlPool, sqlTransaction, type Db, type Job, type Project } from '@cwo/db';
import { activeJobsBelowCap, lockActiveJobs } from './active-jobs';
import { isUuid } from './ids';
import { recordJobEvent } from './events';
import { refreshProjectStatus } from './project-status';
import { jobFromJson, projectFromJson } from './rows';
import { isForeignKeyViolation } from './sql';

// The transitions into `queued`: a project with its initial job, and a further job. Creation is
// the API's hot path, so each is one statement (under the owner's lock when there is a cap).

/** The owner already has `limit` jobs queued or in_progress (MAX_ACTIVE_JOBS_PER_USER). */
export type ActiveJobLimit = { kind: 'active_job_limit'; limit: number };

/**
 * Runs one creation statement. With an active-job cap it runs in a transaction behind the owner's
 * advisory lock (see lockActiveJobs); without one, the single statement is atomic by itself.
 */
async function runCreation<Row>(
  db: Db,
  ownerId: string,
  capped: boolean,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  const pool = sqlPool(db);
  if (!capped) return (await pool.query(text, values)).rows as Row[];
  return sqlTransaction(db, async (client) => {
    await lockActiveJobs(client, ownerId);
    return (await client.query(text, values)).rows as Row[];
  });
}

export type CreateProjectResult = { kind: 'created'; project: Project; job: Job } | ActiveJobLimit;

/**
 * The project (owned by `ownerId`) and its initial job, both queued. A new project's status is
 * what the derivation gives for its one queued job, so the insert sets it as it is.
 */
export async function createProjectWithInitialJob(
  db: Db,
  input: {
    id: string;
    ownerId: string;
    instruction: string;
    workspacePath: string;
    /** The project's default checks and fix attempts, which its initial job gets too. */
    checks?: CheckSpec[];
    fixAttempts?: number;
    /** Where its code comes from (the contracts' ProjectSource), when it does not start empty. */
    source?: unknown;
  },
  maxActiveJobs: number,
): Promise<CreateProjectResult> {
  const rows = await runCreation<{ project: Record<string, unknown>; job: Record<string, unknown> }>(
    db,
    input.ownerId,
    maxActiveJobs > 0,
    `WITH allowed AS (SELECT ${activeJobsBelowCap('$2', maxActiveJobs)} AS ok),
    p AS (
      INSERT INTO projects (id, owner_id, instruction, workspace_path, checks, fix_attempts, source, updated_at)
      SELECT $1::uuid, $2::uuid, $3, $4, $6::jsonb, $7::int, $8::jsonb, now() FROM allowed WHERE allowed.ok
      RETURNING *
    ),
    j AS (
      INSERT INTO jobs (id, project_id, job_type, instruction, checks, fix_attempts, updated_at)
      SELECT $5::uuid, p.id, 'initial_project', p.instruction, p.checks, p.fix_attempts, now() FROM p
      RETURNING *
    ),
    announced AS (SELECT ${recordJobEvent('j')} FROM j)
    SELECT row_to_json(p) AS project, (SELECT row_to_json(j) FROM j) AS job,
           (SELECT count(*) FROM announced) AS announced FROM p`,
    [
      input.id,
      input.ownerId,
      input.instruction,
      input.workspacePath,
      randomUUID(),
      JSON.stringify(input.checks ?? []),
      input.fixAttempts ?? 0,
      input.source === undefined ? null : JSON.stringify(input.source),
    ],
  );
  const row = rows[0];
  if (!row) return { kind: 'active_job_limit', limit: maxActiveJobs };
  return { kind: 'created', project: projectFromJson(row.project), job: jobFromJson(row.job) };
}

export type CreateJobResult =
  | { kind: 'created'; job: Job }
  | { kind: 'project_not_found' }
  /** A project has exactly one initial job, made with it: a second `initial_project` is refused. */
  | { kind: 'initial_job_exists'; initialJobId: string }
  | ActiveJobLimit;

/**
 * A new queued job on one of the owner's projects; the project's status is derived again. Its
 * checks and fix attempts are its own when the input names them, else the project's defaults.
 */
export async function createJob(
  db: Db,
  ownerId: string,
  projectId: string,
  input: JobCreate,
  maxActiveJobs: number,
): Promise<CreateJobResult> {
  if (!isUuid(projectId)) return { kind: 'project_not_found' };
  let rows: Array<{ owned: number; initial: string | null; job: Record<string, unknown> | null }>;
  try {
    rows = await runCreation(
      db,
      ownerId,
      maxActiveJobs > 0,
      `WITH owned AS (SELECT id, checks, fix_attempts FROM projects WHERE id = $1::uuid AND owner_id = $2::uuid),
      initial AS (
        SELECT id FROM jobs WHERE project_id = $1::uuid AND job_type = 'initial_project' AND $4::"JobType" = 'initial_project'
      ),
      allowed AS (SELECT ${activeJobsBelowCap('$2', maxActiveJobs)} AS ok),
      j AS (
        INSERT INTO jobs (id, project_id, job_type, instruction, checks, fix_attempts, updated_at)
        SELECT $3::uuid, owned.id, $4::"JobType", $5, COALESCE($6::jsonb, owned.checks),
               COALESCE($7::int, owned.fix_attempts), now() FROM owned, allowed
         WHERE allowed.ok AND NOT EXISTS (SELECT 1 FROM initial)
        RETURNING *
      ),
      refreshed AS (SELECT ${refreshProjectStatus('project_id')}, ${recordJobEvent('j')} FROM j)
      SELECT (SELECT count(*) FROM owned)::int AS owned, (SELECT id FROM initial LIMIT 1) AS initial,
             (SELECT row_to_json(j) FROM j) AS job, (SELECT count(*) FROM refreshed) AS refreshed`,
      [
        projectId,
        ownerId,
        randomUUID(),
        input.job_type,
        input.instruction,
        input.checks === undefined ? null : JSON.stringify(input.checks),
        input.fix_attempts ?? null,
      ],
    );
  } catch (err) {
    // The project was deleted while the job was being written.
    if (isForeignKeyViolation(err)) return { kind: 'project_not_found' };
    throw err;
  }
  const row = rows[0]!;
  if (row.owned === 0) return { kind: 'project_not_found' };
  if (row.initial) return { kind: 'initial_job_exists', initialJobId: row.initial };
  if (!row.job) return { kind: 'active_job_limit', limit: maxActiveJobs };
  return { kind: 'created', job: jobFromJson(row.job) };
}

export type CreateRevertJobResult =
  | { kind: 'created'; job: Job }
  | { kind: 'project_not_found' }
  | { kind: 'job_not_found' }
  /** The job to undo has not finished: there is nothing settled to undo yet. */
  | { kind: 'job_unfinished'; status: Job['status'] }
  /** The job to undo changed no file, or kept no commit of its changes (an error undid them). */
  | { kind: 'job_unchanged'; status: Job['status'] }
  /** Another revert of the job is queued, running or completed: a job is undone once. */
  | { kind: 'already_reverted'; revertJobId: string; status: Job['status'] }
  | ActiveJobLimit;

/** The revert job's instruction: what it undoes, in words (the history's commit subject says it too). */
const REVERT_INSTRUCTION = `'Undo job ' || target.id || ' (' || target.job_type || ': ' ||
  left(btrim(split_part(btrim(target.instruction, E' \\n\\r\\t'), E'\\n', 1)), 200) || ')'`;

/** The statuses of a revert that counts (migration 20261201190000_one_revert_per_job's index). */
const LIVE_REVERT = `status IN ('queued', 'in_progress', 'completed')`;

/**
 * A queued job of type `revert` that undoes `targetJobId`, a finished job of the same project (one
 * of the owner's) that changed files and kept a commit of them, and that no other revert undoes
 * or is about to. The runner applies the inverse of that commit on top of the project's state when
 * the revert's turn comes (docs/code-io.md). One statement: a finished job never changes again, so
 * what the statement reads of it stays true; two requests at once meet on the unique index of live
 * reverts, and the one that loses answers `already_reverted`.
 */
export async function createRevertJob(
  db: Db,
  ownerId: string,
  projectId: string,
  targetJobId: string,
  maxActiveJobs: number,
): Promise<CreateRevertJobResult> {
  if (!isUuid(projectId)) return { kind: 'project_not_found' };
  if (!isUuid(targetJobId)) return { kind: 'job_not_found' };
  let rows: Array<{
    owned: number;
    target_status: Job['status'] | null;
    target_revertible: boolean | null;
    existing: { id: string; status: Job['status'] } | null;
    allowed: boolean;
    job: Record<string, unknown> | null;
  }>;
  try {
    rows = await runCreation(
      db,
      ownerId,
      maxActiveJobs > 0,
      `WITH owned AS (SELECT id FROM projects WHERE id = $1::uuid AND owner_id = $2::uuid),
      target AS (
        SELECT t.id, t.status, t.job_type, t.instruction,
               t.status IN ('completed', 'error', 'cancelled') AS finished,
               t.commit_sha IS NOT NULL
                 AND cardinality(t.created_files) + cardinality(t.modified_files) + cardinality(t.deleted_files) > 0
                 AS changed
          FROM jobs t JOIN owned ON t.project_id = owned.id WHERE t.id = $3::uuid
      ),
      existing AS (SELECT r.id, r.status FROM jobs r WHERE r.reverts_job_id = $3::uuid AND r.${LIVE_REVERT} LIMIT 1),
      allowed AS (SELECT ${activeJobsBelowCap('$2', maxActiveJobs)} AS ok),
      j AS (
        INSERT INTO jobs (id, project_id, job_type, instruction, reverts_job_id, updated_at)
        SELECT $4::uuid, owned.id, 'revert', ${REVERT_INSTRUCTION}, target.id, now() FROM owned, target, allowed
         WHERE allowed.ok AND target.finished AND target.changed AND NOT EXISTS (SELECT 1 FROM existing)
        ON CONFLICT (reverts_job_id) WHERE ${LIVE_REVERT} DO NOTHING
        RETURNING *
      ),
      refreshed AS (SELECT ${refreshProjectStatus('project_id')}, ${recordJobEvent('j')} FROM j)
      SELECT (SELECT count(*) FROM owned)::int AS owned,
             (SELECT status FROM target) AS target_status,
             (SELECT finished AND changed FROM target) AS target_revertible,
             (SELECT row_to_json(existing) FROM existing) AS existing,
             (SELECT ok FROM allowed) AS allowed,
             (SELECT row_to_json(j) FROM j) AS job, (SELECT count(*) FROM refreshed) AS refreshed`,
      [projectId, ownerId, targetJobId, randomUUID()],
    );
  } catch (err) {
    if (isForeignKeyViolation(err)) return { kind: 'project_not_found' };
    throw err;
  }
  const row = rows[0]!;
  if (row.owned === 0) return { kind: 'project_not_found' };
  if (row.target_status === null) return { kind: 'job_not_found' };
  if (row.job) return { kind: 'created', job: jobFromJson(row.job) };
  if (!['completed', 'error', 'cancelled'].includes(row.target_status))
    return { kind: 'job_unfinished', status: row.target_status };
  if (!row.target_revertible) return { kind: 'job_unchanged', status: row.target_status };
  if (row.existing) return { kind: 'already_reverted', revertJobId: row.existing.id, status: row.existing.status };
  if (!row.allowed) return { kind: 'active_job_limit', limit: maxActiveJobs };
  // A request at the same moment wrote its revert after this statement's snapshot was taken (the
  // index made this insert wait for it, then skip): it is read now, or asked again if it has ended.
  const { rows: others } = await sqlPool(db).query<{ id: string; status: Job['status'] }>(
    `SELECT id, status FROM jobs WHERE reverts_job_id = $1::uuid AND ${LIVE_REVERT} LIMIT 1`,
    [targetJobId],
  );
  const other = others[0];
  if (other) return { kind: 'already_reverted', revertJobId: other.id, status: other.status };
  return createRevertJob(db, ownerId, projectId, targetJobId, maxActiveJobs);
}
