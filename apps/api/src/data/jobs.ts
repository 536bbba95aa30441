import type { JobCreate, Status } from '@cwo/contracts';
import type { Db, Job } from '@cwo/db';
import { randomUUID } from 'node:crypto';
import { ActiveJobLimitError, activeJobsBelowCap } from './active-jobs';
import { runCreation } from './creation';
import { jobFromJson } from './rows';
import { isUuid } from './ids';
import { recomputeProjectStatus } from './project-status';

// Every query is scoped by the owner of the job's project: another tenant's job reads as missing.

const ownedBy = (ownerId: string) => ({ project: { ownerId } });

/**
 * A new queued job on one of the owner's projects; the project becomes queued too unless something
 * is running. Null when the owner has no such project (any more). Under the owner's active-job cap
 * (ActiveJobLimitError when it is reached; `maxActiveJobs` 0: no cap).
 */
export async function insertJob(
  db: Db,
  ownerId: string,
  projectId: string,
  input: JobCreate,
  maxActiveJobs: number,
): Promise<Job | null> {
  if (!isUuid(projectId)) return null;
  // One statement (creation is the hot path), under the owner's lock when there is a cap (see
  // runCreation). A project with a running job stays in_progress; any other becomes queued.
  let rows: Array<{ owned: number; job: Record<string, unknown> | null }>;
  try {
    rows = await runCreation(
      db,
      ownerId,
      maxActiveJobs > 0,
      `WITH owned AS (SELECT id FROM projects WHERE id = $1::uuid AND owner_id = $2::uuid),
      allowed AS (SELECT ${activeJobsBelowCap('$2', maxActiveJobs)} AS ok),
      j AS (
        INSERT INTO jobs (id, project_id, job_type, instruction, updated_at)
        SELECT $3::uuid, owned.id, $4::"JobType", $5, now() FROM owned, allowed WHERE allowed.ok
        RETURNING *
      ),
      touched AS (
        UPDATE projects SET status = 'queued', updated_at = now()
        WHERE id IN (SELECT project_id FROM j) AND status NOT IN ('queued', 'in_progress')
      )
      SELECT (SELECT count(*) FROM owned)::int AS owned, (SELECT row_to_json(j) FROM j) AS job`,
      [projectId, ownerId, randomUUID(), input.job_type, input.instruction],
    );
  } catch (err) {
    // The project was deleted between the lookup and the insert (foreign_key_violation).
    if ((err as { code?: string }).code === '23503') return null;
    throw err;
  }
  const row = rows[0]!;
  if (row.owned === 0) return null;
  if (!row.job) throw new ActiveJobLimitError(maxActiveJobs);
  return jobFromJson(row.job);
}

/** A job of the given project (null for another project's or owner's job, or a malformed id). */
export async function findJob(db: Db, ownerId: string, projectId: string, jobId: string): Promise<Job | null> {
  if (!isUuid(projectId) || !isUuid(jobId)) return null;
  return db.job.findFirst({ where: { id: jobId, projectId, ...ownedBy(ownerId) } });
}

export async function listJobs(db: Db, ownerId: string, projectId: string): Promise<Job[]> {
  if (!isUuid(projectId)) return [];
  return db.job.findMany({ where: { projectId, ...ownedBy(ownerId) }, orderBy: { seq: 'asc' } });
}

/** Null when the job is gone (its project deleted). */
export async function findJobStatus(db: Db, ownerId: string, jobId: string): Promise<Status | null> {
  const job = await db.job.findFirst({ where: { id: jobId, ...ownedBy(ownerId) }, select: { status: true } });
  return job?.status ?? null;
}

/**
 * queued -> cancelled, guarded so that a runner taking the job at the same moment wins or loses
 * cleanly. False when the job was no longer queued.
 */
export async function cancelQueuedJob(db: Db, ownerId: string, job: Pick<Job, 'id' | 'projectId'>): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const now = new Date();
    const { count } = await tx.job.updateMany({
      where: { id: job.id, status: 'queued', ...ownedBy(ownerId) },
      data: { status: 'cancelled', finishedAt: now },
    });
    if (count === 1) await recomputeProjectStatus(tx, job.projectId);
    return count === 1;
  });
}

/**
 * Records a cancel request on a running job (the runner aborts it and writes the final status).
 * The first request's time is kept. False when the job was no longer running.
 */
export async function requestRunningJobCancel(db: Db, ownerId: string, jobId: string): Promise<boolean> {
  const now = new Date();
  const first = await db.job.updateMany({
    where: { id: jobId, status: 'in_progress', cancelRequestedAt: null, ...ownedBy(ownerId) },
    data: { cancelRequestedAt: now },
  });
  if (first.count === 1) return true;
  const again = await db.job.count({ where: { id: jobId, status: 'in_progress', ...ownedBy(ownerId) } });
  return again === 1;
}

export async function findJobById(db: Db, ownerId: string, jobId: string): Promise<Job | null> {
  return isUuid(jobId) ? db.job.findFirst({ where: { id: jobId, ...ownedBy(ownerId) } }) : null;
}
