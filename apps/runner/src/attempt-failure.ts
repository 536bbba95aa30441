import { DelayedError, type Job as BullJob } from 'bullmq';
import type { Config } from '@cwo/config';
import { z } from '@cwo/contracts';
import { isDatabaseUnavailable, type Db } from '@cwo/db';
import { finishJob, requeueJob, type RunnableJob } from '@cwo/jobs';
import type { Logger } from '@cwo/logger';
import { describeError } from './describe-error';
import { diskFullError, diskIsFull, isDiskFullError } from './disk-full';
import { UnreachableError } from './executors/types';
import { RunnerStopping } from './job-abort';
import type { JobLog } from './job-log';
import { clearRecordedOutcome, outcomeWithoutRun, readRecordedOutcome } from './outcome';

// The failure policy of an attempt, in one place: what happens when an attempt throws instead of
// producing an outcome.
//   - This runner is stopping: the job is requeued and goes back to BullMQ at once, for another
//     runner (no attempt used).
//   - A full disk: the job ends now in error, saying so (a retry a second later would find it
//     full too), with what it changed undone.
//   - An outage (Postgres or the container engine not answering at all: a restart takes tens of
//     seconds): the job is put back with growing delays without using an attempt, for up to
//     OUTAGE_RETRY_SECONDS in all; past that, as below, so that a dead dependency still ends jobs.
//   - Anything else is infrastructure (Postgres, Redis, Docker): the job is requeued and BullMQ
//     retries it with backoff until its attempts run out; the last attempt finishes the job in
//     error with the cause (what it changed undone), or with the outcome an earlier attempt kept
//     on disk, if any.
// Failures of the job itself (a timeout, a cancel, a bad result) are outcomes, not failures. The
// next attempt starts from the workspace as the history recorded it (restore-step.ts).

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

/** What did not answer, when `err` is an outage worth waiting out; null otherwise. */
export function outageOf(err: unknown): string | null {
  if (err instanceof UnreachableError) return err.dependency;
  if (isDatabaseUnavailable(err)) return 'Postgres';
  return null;
}

/** The first put-back delay of an outage, doubled each time, up to the largest. */
const OUTAGE_FIRST_DELAY_MS = 1000;
const OUTAGE_MAX_DELAY_MS = 10_000;

/** Kept in the queue entry's data: since when the job has been waiting out outages, and how often. */
const OutageWait = z.object({ since: z.number(), waits: z.number().int().min(0) });

interface OutageVerdict {
  dependency: string;
  since: number;
  waits: number;
  waitedMs: number;
  /** Before the job is taken again; null when it has waited OUTAGE_RETRY_SECONDS already. */
  delayMs: number | null;
}

function judgeOutage(entry: QueueEntry, limitSeconds: number, err: unknown): OutageVerdict | null {
  const dependency = outageOf(err);
  if (!dependency) return null;
  const seen = OutageWait.safeParse((entry.bullJob.data as { outage?: unknown }).outage);
  const now = Date.now();
  const since = seen.success ? seen.data.since : now;
  const waits = seen.success ? seen.data.waits : 0;
  const left = limitSeconds * 1000 - (now - since);
  const delayMs = left <= 0 ? null : Math.min(OUTAGE_FIRST_DELAY_MS * 2 ** waits, OUTAGE_MAX_DELAY_MS, left);
  return { dependency, since, waits, waitedMs: now - since, delayMs };
}

/** Puts the job back in the queue for `delayMs`, not as an attempt, noting the wait in its data. */
async function putBack(entry: QueueEntry, verdict: OutageVerdict & { delayMs: number }): Promise<never> {
  await entry.bullJob.updateData({ ...entry.bullJob.data, outage: { since: verdict.since, waits: verdict.waits + 1 } });
  return redeliverLater(entry, verdict.delayMs);
}

/**
 * For a step before the attempt has started (loading or starting the job): an outage puts the job
 * back (throws DelayedError); anything else, or an outage waited out for long enough, is rethrown.
 */
export async function waitOutOutage(
  entry: QueueEntry,
  config: Pick<Config, 'OUTAGE_RETRY_SECONDS'>,
  err: unknown,
): Promise<never> {
  const verdict = judgeOutage(entry, config.OUTAGE_RETRY_SECONDS, err);
  if (verdict?.delayMs == null) throw err;
  return putBack(entry, { ...verdict, delayMs: verdict.delayMs });
}

export interface FailedAttempt {
  entry: QueueEntry;
  job: RunnableJob;
  attempt: number;
  log: JobLog;
  /**
   * Puts the workspace back to what the history recorded before the job, when the job ends in
   * error without its changes (restore-step.ts); false when that could not be done.
   */
  rollBack?: () => Promise<boolean>;
}

export function createFailurePolicy(deps: {
  db: Db;
  config: Pick<Config, 'workspaceRoot' | 'OUTAGE_RETRY_SECONDS'>;
  logger: Logger;
}) {
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
    { entry, job, attempt, log, rollBack }: FailedAttempt,
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
      await rollBack?.();
      log.flush();
      const outcome = { ...outcomeWithoutRun('error', null, [diskFullError(message)], 'disk_full'), attempt };
      return (await finishJob(db, job.id, attempt, outcome)) === 'finished' ? 'error' : 'finished_elsewhere';
    }
    const outage = judgeOutage(entry, config.OUTAGE_RETRY_SECONDS, err);
    if (outage?.delayMs != null) {
      const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
      log.step(
        `attempt ${attempt}: ${outage.dependency} did not answer (${message}); the job waits for it and ` +
          `is tried again in ${seconds(outage.delayMs)}, without using an attempt ` +
          `(waited ${seconds(outage.waitedMs)} of OUTAGE_RETRY_SECONDS=${config.OUTAGE_RETRY_SECONDS})`,
      );
      logger.warn('job waits out an outage', { jobId: job.id, attempt, dependency: outage.dependency, error: message });
      await requeue(job, attempt);
      log.close();
      return putBack(entry, { ...outage, delayMs: outage.delayMs });
    }
    const cause = outage
      ? `${outage.dependency} did not answer for ${Math.round(outage.waitedMs / 1000)} s (OUTAGE_RETRY_SECONDS): ${message}`
      : message;
    const last = entry.bullJob.attemptsMade + 1 >= (entry.bullJob.opts.attempts ?? 1);
    log.step(`attempt ${attempt} failed: ${cause}${last ? '; no attempts left' : '; it will be retried'}`);
    logger.error('job attempt failed', { jobId: job.id, attempt, last, error: cause });
    if (!last) {
      await requeue(job, attempt);
      throw err;
    }
    // An outcome the agent's run produced beats the failure to record it, if it can be written now;
    // without one, the job ends in error and what the attempt changed is undone.
    const kept = readRecordedOutcome(config.workspaceRoot, job.id);
    if (!kept) await rollBack?.();
    const outcome = kept ?? {
      ...outcomeWithoutRun('error', null, [`infrastructure error: ${cause}`], 'infrastructure'),
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
