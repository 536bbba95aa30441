import type { ErrorCode } from '@cwo/contracts';
import type { Db } from '@cwo/db';
import { relativeJobLogPath } from '@cwo/workspace';
import { recordJobEvent } from './events';
import { refreshProjectStatus } from './project-status';
import { query } from './sql';

// The runner's transitions of a job, each one guarded statement that also derives the project's
// status again. The guard names the state it expects, so that two runners, or a runner and the
// reconciler, racing on one job cannot both win; `attempts` fences a runner whose job was taken
// over by another: only the attempt that started last may finish or hand back the job. Those that
// change a job's status record its event for webhooks in the same statement (events.ts); a job
// handed back to the queue (requeue) records none: it starts again, and says so then.

/** How a job ended, as the runner determined it. */
export interface JobOutcome {
  status: 'completed' | 'error' | 'cancelled';
  summary: string | null;
  errors: string[];
  created_files: string[];
  modified_files: string[];
  deleted_files: string[];
  /** Workspace-relative path of the job's copy of result.json, when the agent wrote a valid one. */
  result_path: string | null;
  usage: { input_tokens: number; cached_input_tokens: number; output_tokens: number } | null;
  thread_id: string | null;
  commit_sha: string | null;
  /** The contracts' EgressRecord, when the agent ran behind the egress proxy. */
  egress?: unknown;
  /** Why it did not complete (docs/outcomes.md): null exactly when status is completed. */
  error_code: ErrorCode | null;
  /** The contracts' CheckResults, when the job's checks ran. */
  checks?: unknown;
}

export type StartResult = { kind: 'started'; attempt: number } | { kind: 'refused' };

/**
 * start: queued (or in_progress, a job run again after its runner died: a takeover) ->
 * in_progress, with a new started_at and attempts + 1. Refused when the job has finished or a
 * cancel was requested. The returned attempt number fences the job's later transitions.
 */
export async function startJob(db: Db, jobId: string): Promise<StartResult> {
  const rows = await query<{ attempts: number }>(
    db,
    `WITH started AS (
      UPDATE jobs
         SET status = 'in_progress', started_at = now(), finished_at = NULL, attempts = attempts + 1, updated_at = now()
       WHERE id = $1::uuid AND status IN ('queued', 'in_progress') AND cancel_requested_at IS NULL
      RETURNING *
    )
    SELECT attempts, ${refreshProjectStatus('project_id')}, ${recordJobEvent('started')} FROM started`,
    [jobId],
  );
  const row = rows[0];
  return row ? { kind: 'started', attempt: Number(row.attempts) } : { kind: 'refused' };
}

/** 'superseded': the job is no longer in_progress in that attempt (finished, or taken over). */
export type FencedResult<Done extends string> = Done | 'superseded';

/** The columns an outcome sets, parameters $2 to $17 (see outcomeParams; $1 is the job's id). */
const OUTCOME_SET = `status = $2::"Status", summary = $3, errors = $4::text[], created_files = $5::text[],
              modified_files = $6::text[], deleted_files = $7::text[], result_path = $8, logs_path = $9,
              input_tokens = $10::int, cached_input_tokens = $11::int, output_tokens = $12::int,
              thread_id = $13, commit_sha = $14, egress = $15::jsonb, error_code = $16, check_results = $17::jsonb, finished_at = now(),
              updated_at = now()`;

const outcomeParams = (jobId: string, outcome: JobOutcome) => [
  jobId,
  outcome.status,
  outcome.summary,
  outcome.errors,
  outcome.created_files,
  outcome.modified_files,
  outcome.deleted_files,
  outcome.result_path,
  relativeJobLogPath(jobId),
  outcome.usage?.input_tokens ?? null,
  outcome.usage?.cached_input_tokens ?? null,
  outcome.usage?.output_tokens ?? null,
  outcome.thread_id,
  outcome.commit_sha,
  outcome.egress == null ? null : JSON.stringify(outcome.egress),
  outcome.status === 'completed' ? null : outcome.error_code,
  outcome.checks == null ? null : JSON.stringify(outcome.checks),
];

/**
 * finish: in_progress in `attempt` -> completed | error | cancelled, with the outcome; the
 * project takes the job's summary when it has one.
 */
export async function finishJob(
  db: Db,
  jobId: string,
  attempt: number,
  outcome: JobOutcome,
): Promise<FencedResult<'finished'>> {
  return (await finishJobFindingNext(db, jobId, attempt, outcome)).written;
}

export interface FinishResult {
  written: FencedResult<'finished'>;
  /** The project's oldest queued job when the job finished (null when none, or superseded). */
  nextQueuedId: string | null;
}

/** finish, naming in the same statement the project's next job (the runner wakes it). */
export async function finishJobFindingNext(
  db: Db,
  jobId: string,
  attempt: number,
  outcome: JobOutcome,
): Promise<FinishResult> {
  const rows = await query<{ next_queued: string | null }>(
    db,
    `WITH done AS (
       UPDATE jobs SET ${OUTCOME_SET}
        WHERE id = $1::uuid AND status = 'in_progress' AND attempts = $18::int
       RETURNING *
     )
     SELECT ${refreshProjectStatus('project_id', '$3')}, ${recordJobEvent('done')},
            (SELECT n.id FROM jobs n WHERE n.project_id = done.project_id AND n.status = 'queued'
              ORDER BY n.seq ASC LIMIT 1) AS next_queued
       FROM done`,
    [...outcomeParams(jobId, outcome), attempt],
  );
  const row = rows[0];
  return row ? { written: 'finished', nextQueuedId: row.next_queued } : { written: 'superseded', nextQueuedId: null };
}

/**
 * requeue: in_progress in `attempt` -> queued, unfinished: handed back by a runner that stops, or
 * to be retried after an infrastructure failure, or found by the reconciler with its runner gone.
 */
export async function requeueJob(db: Db, jobId: string, attempt: number): Promise<FencedResult<'requeued'>> {
  const rows = await query(
    db,
    `WITH requeued AS (
       UPDATE jobs SET status = 'queued', updated_at = now()
        WHERE id = $1::uuid AND status = 'in_progress' AND attempts = $2::int
       RETURNING project_id
     )
     SELECT ${refreshProjectStatus('project_id')} FROM requeued`,
    [jobId, attempt],
  );
  return rows.length ? 'requeued' : 'superseded';
}

/**
 * give up: a job still as the caller saw it (`seen`: its status and attempts) -> error with
 * `errors` and the code `infrastructure`, for a job no runner will finish (the reconciler, when its
 * attempts ran out).
 */
export async function giveUpJob(
  db: Db,
  jobId: string,
  seen: { status: 'queued' | 'in_progress'; attempts: number },
  errors: string[],
): Promise<FencedResult<'gave_up'>> {
  const rows = await query(
    db,
    `WITH failed AS (
       UPDATE jobs SET status = 'error', errors = $4::text[], error_code = 'infrastructure', finished_at = now(),
              updated_at = now()
        WHERE id = $1::uuid AND status = $2::"Status" AND attempts = $3::int
       RETURNING *
     )
     SELECT ${refreshProjectStatus('project_id')}, ${recordJobEvent('failed')} FROM failed`,
    [jobId, seen.status, seen.attempts, errors],
  );
  return rows.length ? 'gave_up' : 'superseded';
}

/**
 * give up with a recorded outcome: a job still as the caller saw it (`seen`) -> the outcome an
 * attempt produced and kept on disk but could not write (the reconciler, when the job's attempts
 * ran out after its final write failed): the job ends as that attempt ended, without another run.
 */
export async function giveUpWithOutcome(
  db: Db,
  jobId: string,
  seen: { status: 'queued' | 'in_progress'; attempts: number },
  outcome: JobOutcome,
): Promise<FencedResult<'gave_up'>> {
  const rows = await query(
    db,
    `WITH done AS (
       UPDATE jobs SET ${OUTCOME_SET}
        WHERE id = $1::uuid AND status = $18::"Status" AND attempts = $19::int
       RETURNING *
     )
     SELECT ${refreshProjectStatus('project_id', '$3')}, ${recordJobEvent('done')} FROM done`,
    [...outcomeParams(jobId, outcome), seen.status, seen.attempts],
  );
  return rows.length ? 'gave_up' : 'superseded';
}

/**
 * cancel before start: an unfinished job whose cancel was requested (while it ran on a runner
 * that then died; the API ends queued jobs itself) -> cancelled, by the runner that takes it next.
 */
export async function cancelUnstartedJob(db: Db, jobId: string): Promise<'cancelled' | 'refused'> {
  const rows = await query(
    db,
    `WITH cancelled AS (
       UPDATE jobs
          SET status = 'cancelled', summary = 'Cancelled before it started.', errors = '{}', logs_path = $2,
              error_code = 'cancelled', finished_at = now(), updated_at = now()
        WHERE id = $1::uuid AND status IN ('queued', 'in_progress') AND cancel_requested_at IS NOT NULL
       RETURNING *
     )
     SELECT ${refreshProjectStatus('project_id', "'Cancelled before it started.'")}, ${recordJobEvent('cancelled')}
       FROM cancelled`,
    [jobId, relativeJobLogPath(jobId)],
  );
  return rows.length ? 'cancelled' : 'refused';
}
