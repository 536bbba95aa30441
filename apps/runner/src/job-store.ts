import type { JobHistoryEntry } from '@cwo/contracts';
import type { z } from '@cwo/contracts';
import type { Db, Job, Project } from '@cwo/db';
import { relativeJobLogPath } from '@cwo/workspace';
import type { JobOutcome } from './outcome';

// The runner's reads and writes of jobs and projects. Every state change is a guarded update
// (it names the state it expects), so that two runners, or a runner and the reconciler, racing
// on one job cannot both win.

export type JobWithProject = Job & { project: Project };

const UNFINISHED = ['queued', 'in_progress'] as const;
const HISTORY_LIMIT = 50;

export function loadJob(db: Db, jobId: string): Promise<JobWithProject | null> {
  return db.job.findUnique({ where: { id: jobId }, include: { project: true } });
}

/** The oldest unfinished job of the project created before this one, if any. */
export function findOlderUnfinished(db: Db, job: Pick<Job, 'projectId' | 'seq'>): Promise<{ id: string } | null> {
  return db.job.findFirst({
    where: { projectId: job.projectId, seq: { lt: job.seq }, status: { in: [...UNFINISHED] } },
    orderBy: { seq: 'asc' },
    select: { id: true },
  });
}

/**
 * queued (or in_progress, for a job run again after its runner died) -> in_progress, with a new
 * started_at and attempts + 1, and the project in_progress. Null when the job has finished or a
 * cancel was requested meanwhile. The returned attempt number fences the final write.
 */
export async function markInProgress(db: Db, job: Pick<Job, 'id' | 'projectId'>): Promise<{ attempt: number } | null> {
  // One statement (one round trip, atomic on its own) instead of an interactive transaction of three.
  const rows = await db.$queryRaw<Array<{ attempts: number }>>`
    WITH started AS (
      UPDATE jobs
         SET status = 'in_progress', started_at = now(), finished_at = NULL, attempts = attempts + 1, updated_at = now()
       WHERE id = ${job.id}::uuid AND status IN ('queued', 'in_progress') AND cancel_requested_at IS NULL
      RETURNING attempts, project_id
    ), project AS (
      UPDATE projects SET status = 'in_progress', updated_at = now() FROM started WHERE projects.id = started.project_id
    )
    SELECT attempts FROM started`;
  const row = rows[0];
  return row ? { attempt: Number(row.attempts) } : null;
}

/** The earlier jobs of the project, oldest first, for request.json. */
export async function jobHistory(db: Db, job: Pick<Job, 'projectId' | 'seq'>): Promise<Array<z.infer<typeof JobHistoryEntry>>> {
  const rows = await db.job.findMany({
    where: { projectId: job.projectId, seq: { lt: job.seq } },
    orderBy: { seq: 'desc' },
    take: HISTORY_LIMIT,
    select: { id: true, jobType: true, instruction: true, status: true, summary: true },
  });
  return rows.reverse().map((r) => ({
    job_id: r.id,
    job_type: r.jobType,
    instruction: r.instruction,
    status: r.status,
    summary: r.summary,
  }));
}

/**
 * The agent conversation of the project's latest earlier job that had one, so that this job can
 * continue it (a failed or cancelled job may have none).
 */
export async function latestThreadId(db: Db, job: Pick<Job, 'projectId' | 'seq'>): Promise<string | undefined> {
  const row = await db.job.findFirst({
    where: { projectId: job.projectId, seq: { lt: job.seq }, threadId: { not: null } },
    orderBy: { seq: 'desc' },
    select: { threadId: true },
  });
  return row?.threadId ?? undefined;
}

/**
 * Writes a job's outcome and its project's status and summary in one transaction. With an
 * attempt number the write happens only if the job is still in_progress in that attempt (a
 * runner whose job was handed to another cannot overwrite it); without one (a job ended before
 * it ran), only if it has not finished. False when the guard did not match.
 */
export async function finishJob(
  db: Db,
  job: Pick<Job, 'id' | 'projectId'>,
  attempt: number | null,
  outcome: Omit<JobOutcome, 'attempt'>,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.job.updateMany({
      where:
        attempt === null
          ? { id: job.id, status: { in: [...UNFINISHED] } }
          : { id: job.id, status: 'in_progress', attempts: attempt },
      data: {
        status: outcome.status,
        summary: outcome.summary,
        errors: outcome.errors,
        createdFiles: outcome.created_files,
        modifiedFiles: outcome.modified_files,
        deletedFiles: outcome.deleted_files,
        resultPath: outcome.result_path,
        logsPath: relativeJobLogPath(job.id),
        inputTokens: outcome.usage?.input_tokens ?? null,
        cachedInputTokens: outcome.usage?.cached_input_tokens ?? null,
        outputTokens: outcome.usage?.output_tokens ?? null,
        threadId: outcome.thread_id,
        commitSha: outcome.commit_sha,
        finishedAt: new Date(),
      },
    });
    if (count === 0) return false;
    await tx.project.update({
      where: { id: job.projectId },
      data: { status: outcome.status, ...(outcome.summary ? { summary: outcome.summary } : {}) },
    });
    return true;
  });
}

/** in_progress -> queued, for a job handed back to the queue (shutdown, a retry after a failure). */
export async function returnToQueue(db: Db, job: Pick<Job, 'id' | 'projectId'>, attempt: number): Promise<boolean> {
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
