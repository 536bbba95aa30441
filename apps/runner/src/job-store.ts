import type { JobHistoryEntry } from '@cwo/contracts';
import type { z } from '@cwo/contracts';
import { sqlPool, type Db } from '@cwo/db';
import { relativeJobLogPath } from '@cwo/workspace';
import type { JobOutcome } from './outcome';

// The runner's reads and writes of jobs and projects. Every state change is a guarded update
// (it names the state it expects), so that two runners, or a runner and the reconciler, racing
// on one job cannot both win.
//
// The statements on a job's path are single SQL statements on the pg pool under Prisma (sqlPool):
// one round trip each, and a fraction of Prisma's per-query CPU. The rest stays on Prisma.

type Status = 'queued' | 'in_progress' | 'completed' | 'error' | 'cancelled';

/** What the runner needs of a job to run it. */
export interface RunnableJob {
  id: string;
  projectId: string;
  /** jobs.seq (a bigint), as text. */
  seq: string;
  jobType: 'initial_project' | 'edit';
  instruction: string;
  status: Status;
  cancelRequestedAt: Date | null;
  /** The oldest unfinished job of the project created before this one, if any, when it was loaded. */
  olderUnfinishedId: string | null;
}

const HISTORY_LIMIT = 50;

/**
 * The job, with the oldest unfinished earlier job of its project (one statement). Checking the
 * order here rather than after the lock is as safe: a job only ever finishes, and no job can get
 * an earlier seq later, so "no older unfinished job" stays true once it is true.
 */
export async function loadJob(db: Db, jobId: string): Promise<RunnableJob | null> {
  const { rows } = await sqlPool(db).query<{
    id: string;
    project_id: string;
    seq: string;
    job_type: RunnableJob['jobType'];
    instruction: string;
    status: Status;
    cancel_requested_at: Date | null;
    older: string | null;
  }>(
    `SELECT j.id, j.project_id, j.seq::text AS seq, j.job_type, j.instruction, j.status, j.cancel_requested_at,
            (SELECT o.id FROM jobs o
              WHERE o.project_id = j.project_id AND o.seq < j.seq AND o.status IN ('queued', 'in_progress')
              ORDER BY o.seq ASC LIMIT 1) AS older
       FROM jobs j WHERE j.id = $1::uuid`,
    [jobId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    projectId: r.project_id,
    seq: r.seq,
    jobType: r.job_type,
    instruction: r.instruction,
    status: r.status,
    cancelRequestedAt: r.cancel_requested_at,
    olderUnfinishedId: r.older,
  };
}

/**
 * queued (or in_progress, for a job run again after its runner died) -> in_progress, with a new
 * started_at and attempts + 1, and the project in_progress. Null when the job has finished or a
 * cancel was requested meanwhile. The returned attempt number fences the final write.
 */
export async function markInProgress(db: Db, job: Pick<RunnableJob, 'id'>): Promise<{ attempt: number } | null> {
  // One statement (one round trip, atomic on its own) instead of an interactive transaction of three.
  const { rows } = await sqlPool(db).query<{ attempts: number }>(
    `WITH started AS (
      UPDATE jobs
         SET status = 'in_progress', started_at = now(), finished_at = NULL, attempts = attempts + 1, updated_at = now()
       WHERE id = $1::uuid AND status IN ('queued', 'in_progress') AND cancel_requested_at IS NULL
      RETURNING attempts, project_id
    ), project AS (
      UPDATE projects SET status = 'in_progress', updated_at = now() FROM started WHERE projects.id = started.project_id
    )
    SELECT attempts FROM started`,
    [job.id],
  );
  const row = rows[0];
  return row ? { attempt: Number(row.attempts) } : null;
}

type JobRef = { projectId: string; seq: string | bigint };

/**
 * What request.json says of the project's past, in one statement: the earlier jobs, oldest first,
 * and the agent conversation of the latest earlier job that had one (so that this job can continue
 * it; a failed or cancelled job may have none).
 */
export async function jobContext(
  db: Db,
  job: JobRef,
): Promise<{ history: Array<z.infer<typeof JobHistoryEntry>>; threadId: string | undefined }> {
  const { rows } = await sqlPool(db).query<{
    id: string | null;
    job_type: 'initial_project' | 'edit';
    instruction: string;
    status: Status;
    summary: string | null;
    thread: string | null;
  }>(
    `WITH thread AS (
       SELECT thread_id FROM jobs
        WHERE project_id = $1::uuid AND seq < $2::bigint AND thread_id IS NOT NULL
        ORDER BY seq DESC LIMIT 1
     ), history AS (
       SELECT id, job_type, instruction, status, summary, seq FROM jobs
        WHERE project_id = $1::uuid AND seq < $2::bigint
        ORDER BY seq DESC LIMIT ${HISTORY_LIMIT}
     )
     SELECT h.id, h.job_type, h.instruction, h.status, h.summary, (SELECT thread_id FROM thread) AS thread
       FROM (SELECT 1) one LEFT JOIN history h ON true
      ORDER BY h.seq ASC`,
    [job.projectId, String(job.seq)],
  );
  const history = rows
    .filter((r) => r.id !== null)
    .map((r) => ({
      job_id: r.id!,
      job_type: r.job_type,
      instruction: r.instruction,
      status: r.status,
      summary: r.summary,
    }));
  return { history, threadId: rows[0]?.thread ?? undefined };
}

/**
 * Writes a job's outcome and its project's status and summary in one statement (atomic on its
 * own). With an attempt number the write happens only if the job is still in_progress in that
 * attempt (a runner whose job was handed to another cannot overwrite it); without one (a job
 * ended before it ran), only if it has not finished. False when the guard did not match.
 */
export async function finishJob(
  db: Db,
  job: Pick<RunnableJob, 'id' | 'projectId'>,
  attempt: number | null,
  outcome: Omit<JobOutcome, 'attempt'>,
): Promise<boolean> {
  const guard =
    attempt === null ? `status IN ('queued', 'in_progress')` : `status = 'in_progress' AND attempts = $16::int`;
  const params: unknown[] = [
    job.id,
    outcome.status,
    outcome.summary,
    outcome.errors,
    outcome.created_files,
    outcome.modified_files,
    outcome.deleted_files,
    outcome.result_path,
    relativeJobLogPath(job.id),
    outcome.usage?.input_tokens ?? null,
    outcome.usage?.cached_input_tokens ?? null,
    outcome.usage?.output_tokens ?? null,
    outcome.thread_id,
    outcome.commit_sha,
    job.projectId,
  ];
  if (attempt !== null) params.push(attempt);
  const { rows } = await sqlPool(db).query<{ n: number }>(
    `WITH done AS (
       UPDATE jobs
          SET status = $2::"Status", summary = $3, errors = $4::text[], created_files = $5::text[],
              modified_files = $6::text[], deleted_files = $7::text[], result_path = $8, logs_path = $9,
              input_tokens = $10::int, cached_input_tokens = $11::int, output_tokens = $12::int,
              thread_id = $13, commit_sha = $14, finished_at = now(), updated_at = now()
        WHERE id = $1::uuid AND ${guard}
       RETURNING id
     ), project AS (
       UPDATE projects SET status = $2::"Status", summary = COALESCE(NULLIF($3, ''), summary), updated_at = now()
        WHERE id = $15::uuid AND EXISTS (SELECT 1 FROM done)
     )
     SELECT count(*)::int AS n FROM done`,
    params,
  );
  return (rows[0]?.n ?? 0) > 0;
}

/** The project's oldest queued job, if any (to wake it when the one before it finishes). */
export async function nextQueuedJobId(db: Db, projectId: string): Promise<string | null> {
  const { rows } = await sqlPool(db).query<{ id: string }>(
    `SELECT id FROM jobs WHERE project_id = $1::uuid AND status = 'queued' ORDER BY seq ASC LIMIT 1`,
    [projectId],
  );
  return rows[0]?.id ?? null;
}

/** in_progress -> queued, for a job handed back to the queue (shutdown, a retry after a failure). */
export async function returnToQueue(
  db: Db,
  job: Pick<RunnableJob, 'id' | 'projectId'>,
  attempt: number,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.job.updateMany({
      where: { id: job.id, status: 'in_progress', attempts: attempt },
      data: { status: 'queued' },
    });
    if (count === 0) return false;
    await tx.project.update({ where: { id: job.projectId }, data: { status: 'queued' } });
    return true;
  });
}
