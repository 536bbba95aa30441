import { DelayedError, type Job as BullJob } from 'bullmq';
import type { Config } from '@cwo/config';
import type { Db } from '@cwo/db';
import { finishJob, requeueJob, type RunnableJob } from '@cwo/jobs';
import type { Logger } from '@cwo/logger';
import { describeError } from './describe-error';
import { diskFullError, diskIsFull, isDiskFullError } from './disk-full';
import { RunnerStopping } from './job-abort';
import type { JobLog } from './job-log';
import { clearRecordedOutcome, outcomeWithoutRun, readRecordedOutcome } from './outcome';

// The failure policy of an attempt, in one place: what happens when an attempt throws instead of
// producing an outcome.
//   - This runner is stopping: the job is requeued and goes back to BullMQ at once, for another
//     runner (no attempt used).
//   - A full disk: the job ends now in error, saying so (a retry a second later would find it
//     full too).
//   - Anything else is infrastructure (Postgres, Redis, Docker): the job is requeued and BullMQ
//     retries it with backoff until its attempts run out; the last attempt finishes the job in
//     error with the cause, or with the outcome an earlier attempt kept on disk, if any.
// Failures of the job itself (a timeout, a cancel, a bad result) are outcomes, not failures.

/** The queue entry of a job being processed, to delay or fail it. */
export interface QueueEntry {
  bullJob: BullJob;
  token: string | undefined;
}

/**
 * Moves the job back to BullMQ's delayed set: it is taken again after `delayMs` (with jitter, so
 * that the waiting jobs of one project do not retry in lockstep). Not an attempt.
 */
export async function redeliverLater({ bullJob, token }: QueueEntry, delayMs: number): Promise<never> {
  await bullJob.moveToDelayed(Date.now() + delayMs + Math.floor(Math.random() * delayMs * 0.5), token);
  throw new DelayedError();
}

export interface FailedAttempt {
  entry: QueueEntry;
  job: RunnableJob;
  attempt: number;
  log: JobLog;
}

export function createFailurePolicy(deps: { db: Db; config: Pick<Config, 'workspaceRoot'>; logger: Logger }) {
  const { db, config, logger } = deps;

  /** Requeues the job (same attempt), logging rather than throwing when Postgres refuses. */
  async function requeue(job: RunnableJob, attempt: number): Promise<void> {
    await requeueJob(db, job.id, attempt).catch((e) =>
      logger.warn('could not mark the job queued', { jobId: job.id, error: describeError(e) }),
    );
  }

  /**
   * 'error' or 'finished_elsewhere' for a full disk; otherwise throws DelayedError (handed back) or
   * the failure itself (BullMQ retries or fails it).
   */
  return async function afterFailedAttempt(
    err: unknown,
    { entry, job, attempt, log }: FailedAttempt,
  ): Promise<'error' | 'finished_elsewhere'> {
    if (err instanceof RunnerStopping) {
      log.step(`${err.message}: the job goes back to the queue for another runner`);
      logger.info('job handed back to the queue', { jobId: job.id, attempt });
      await requeue(job, attempt);
      log.close();
      return redeliverLater(entry, 0);
    }
    const message = describeError(err);
    if (isDiskFullError(err) || diskIsFull(config.workspaceRoot)) {
      log.step(`attempt ${attempt} failed: ${message}; the disk is full`);
      logger.error('job failed: the workspace disk is full', { jobId: job.id, attempt, error: message });
      log.flush();
      const outcome = { ...outcomeWithoutRun('error', null, [diskFullError(message)]), attempt };
      return (await finishJob(db, job.id, attempt, outcome)) === 'finished' ? 'error' : 'finished_elsewhere';
    }
    const last = entry.bullJob.attemptsMade + 1 >= (entry.bullJob.opts.attempts ?? 1);
    log.step(`attempt ${attempt} failed: ${message}${last ? '; no attempts left' : '; it will be retried'}`);
    logger.error('job attempt failed', { jobId: job.id, attempt, last, error: message });
    if (!last) {
      await requeue(job, attempt);
      throw err;
    }
    // An outcome the agent's run produced beats the failure to record it, if it can be written now.
    const outcome = readRecordedOutcome(config.workspaceRoot, job.id) ?? {
      ...outcomeWithoutRun('error', null, [`infrastructure error: ${message}`]),
      attempt,
    };
    log.flush();
    try {
      await finishJob(db, job.id, attempt, outcome);
      clearRecordedOutcome(config.workspaceRoot, job.id);
    } catch (e) {
      logger.error('could not record the job’s end; the reconciler will', { jobId: job.id, error: describeError(e) });
    }
    throw err;
  };
}
