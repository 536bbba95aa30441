import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, type Job as BullJob } from 'bullmq';
import { isFinished, QueuePayload, type WorkerRequest } from '@cwo/contracts';
import type { Config } from '@cwo/config';
import type { Db } from '@cwo/db';
import {
  cancelUnstartedJob,
  finishJob,
  jobContext,
  loadJob,
  nextQueuedJobId,
  requeueJob,
  startJob,
  type RunnableJob,
} from '@cwo/jobs';
import type { Logger } from '@cwo/logger';
import type { JobsQueue } from '@cwo/queue';
import { projectWorkspace } from '@cwo/workspace';
import type { Executor } from './executors/types';
import { describeError } from './describe-error';
import { diskFullError, diskIsFull, isDiskFullError } from './disk-full';
import { executeJob, HandBack } from './execute-job';
import { commitJobChanges } from './job-commit';
import { JobAbort } from './job-abort';
import { openJobLog, type JobLog } from './job-log';
import {
  clearRecordedOutcome,
  outcomeWithoutRun,
  readRecordedOutcome,
  recordOutcome,
  type JobOutcome,
} from './outcome';
import type { ProjectLock, ProjectLocks } from './project-lock';
import type { RunningJobs } from './running-jobs';

// The BullMQ processor: what happens to one {jobId} taken from the queue.
//
// Delivery is at-least-once, so every step tolerates a repeat: a finished job is acknowledged
// and skipped; a job found in_progress (its runner died) is run again from the start, unless an
// earlier attempt recorded its outcome and only the database write was missing.
//
// Ordering: a job runs only while it holds its project's lock in Redis AND it is the oldest
// unfinished job of its project (by jobs.seq). Otherwise it goes back to the queue as a delayed
// job (moveToDelayed + DelayedError), which does not count as an attempt.

export type ProcessResult = 'missing' | 'already_finished' | 'cancelled' | 'completed' | 'error' | 'finished_elsewhere';

export interface ProcessorDeps {
  db: Db;
  config: Config;
  logger: Logger;
  executor: Executor;
  locks: ProjectLocks;
  running: RunningJobs;
  runnerId: string;
  /** To wake a project's next job when one finishes (optional: without it, it wakes on its own). */
  queue?: JobsQueue;
}

async function putBack(bullJob: BullJob, token: string | undefined, delayMs: number): Promise<never> {
  // Jitter keeps the waiting jobs of one project from retrying in lockstep.
  await bullJob.moveToDelayed(Date.now() + delayMs + Math.floor(Math.random() * delayMs * 0.5), token);
  throw new DelayedError();
}

/** How long the final database write may take before the outcome is also kept on disk. */
export const OUTCOME_KEEP_AFTER_MS = 250;

export function createJobProcessor(deps: ProcessorDeps) {
  const { db, config, logger, locks, running } = deps;

  async function buildRequest(job: RunnableJob): Promise<WorkerRequest> {
    const { history, threadId } = await jobContext(db, job);
    const request: WorkerRequest = {
      project_id: job.projectId,
      job_id: job.id,
      job_type: job.jobType,
      instruction: job.instruction,
      history,
    };
    return threadId ? { ...request, thread_id: threadId } : request;
  }

  /** Runs an attempt that holds the lock and is marked in_progress; returns the written status. */
  async function runAttempt(
    bullJob: BullJob,
    token: string | undefined,
    job: RunnableJob,
    attempt: number,
    controller: AbortController,
    lock: ProjectLock,
  ): Promise<ProcessResult> {
    const workspace = projectWorkspace(config.workspaceRoot, job.projectId);
    let log: JobLog | null = null;
    try {
      // Independent: the log file, the outcome an earlier attempt may have recorded, and the
      // request (read from Postgres; unused when an outcome was recorded, which is rare).
      const recorded = readRecordedOutcome(config.workspaceRoot, job.id);
      const requested = buildRequest(job);
      // Awaited below; not unhandled if opening the log fails first.
      recorded.catch(() => undefined);
      requested.catch(() => undefined);
      log = await openJobLog(workspace, job.id, logger);
      log.step(`attempt ${attempt} of job ${job.id} (${job.jobType}) started on runner ${deps.runnerId}`);
      let outcome: JobOutcome | null = await recorded;
      const outcomeWasRecorded = outcome !== null;
      if (outcome) {
        log.step(`an earlier attempt finished the job (${outcome.status}) but could not record it; recording it now`);
        outcome = { ...outcome, attempt };
      } else {
        const request = await requested;
        const executed = await executeJob({
          config,
          executor: deps.executor,
          workspace,
          request,
          attempt,
          log,
          controller,
          mayChangeWorkspace: () => {
            if (lock.isFresh()) return true;
            controller.abort(new JobAbort('lock_lost'));
            return false;
          },
        });
        const commitSha = await commitJobChanges({
          config,
          job,
          workspace,
          log,
          logger,
          snapshot: executed.after ?? undefined,
        });
        outcome = { ...executed.outcome, commit_sha: commitSha };
        // Its changes are in the workspace but could not be recorded in the history: the job has
        // not really completed.
        if (commitSha === null && outcome.status === 'completed' && diskIsFull(config.workspaceRoot)) {
          outcome = {
            ...outcome,
            status: 'error',
            errors: [diskFullError('the job’s changes could not be committed to the project history')],
          };
        }
      }
      // The last line is in the file before the status says finished (see JobLog.flush).
      log.step(`finished: ${outcome.status}${outcome.errors.length ? ` (${outcome.errors.join('; ')})` : ''}`);
      await log.flush();
      // When Postgres refuses the outcome, or is slow to take it, the outcome is kept on disk, so
      // that a retry (or another runner, if this one dies meanwhile) writes it instead of running
      // the agent again (which would, e.g., append an edit twice). Not before every write: file
      // creation is a job's dearest cost on these disks, and a write that ends within
      // OUTCOME_KEEP_AFTER_MS leaves only that long for a crash to cost a second run.
      const final = outcome;
      let kept = false;
      const keep = async () => {
        if (kept) return;
        kept = true;
        await recordOutcome(config.workspaceRoot, job.id, final);
      };
      const slow = setTimeout(
        () =>
          void keep().catch((e) =>
            logger.warn('could not keep the job’s outcome on disk', { jobId: job.id, error: describeError(e) }),
          ),
        OUTCOME_KEEP_AFTER_MS,
      );
      let written: boolean;
      try {
        written = (await finishJob(db, job.id, attempt, outcome)) === 'finished';
      } catch (err) {
        await keep();
        throw err;
      } finally {
        clearTimeout(slow);
      }
      if (outcomeWasRecorded || kept) await clearRecordedOutcome(config.workspaceRoot, job.id);
      if (!written) {
        log.step('the job was finished or taken over elsewhere meanwhile; this attempt’s outcome is discarded');
        return 'finished_elsewhere';
      }
      logger.info('job finished', { jobId: job.id, projectId: job.projectId, status: outcome.status, attempt });
      return outcome.status === 'cancelled' ? 'cancelled' : outcome.status;
    } catch (err) {
      if (err instanceof HandBack) {
        log?.step(`${err.message}: the job goes back to the queue for another runner`);
        logger.info('job handed back to the queue', { jobId: job.id, attempt });
        await requeueJob(db, job.id, attempt).catch((e) =>
          logger.warn('could not mark the job queued', { jobId: job.id, error: describeError(e) }),
        );
        await log?.close();
        log = null;
        return putBack(bullJob, token, 0);
      }
      const message = describeError(err);
      // A full disk: the job ends now, saying so (a retry a second later would find it full too).
      if (isDiskFullError(err) || diskIsFull(config.workspaceRoot)) {
        log?.step(`attempt ${attempt} failed: ${message}; the disk is full`);
        logger.error('job failed: the workspace disk is full', { jobId: job.id, attempt, error: message });
        const outcome: JobOutcome = { ...outcomeWithoutRun('error', null, [diskFullError(message)]), attempt };
        await log?.flush();
        return (await finishJob(db, job, attempt, outcome)) ? 'error' : 'finished_elsewhere';
      }
      // Infrastructure (Postgres, Redis, Docker): BullMQ retries with backoff until the attempts
      // run out; the last one records the cause on the job.
      const last = bullJob.attemptsMade + 1 >= (bullJob.opts.attempts ?? 1);
      log?.step(`attempt ${attempt} failed: ${message}${last ? '; no attempts left' : '; it will be retried'}`);
      logger.error('job attempt failed', { jobId: job.id, attempt, last, error: message });
      if (last) {
        // An outcome the agent's run produced beats the failure to record it, if it can be written now.
        const recorded = await readRecordedOutcome(config.workspaceRoot, job.id);
        const outcome: JobOutcome = recorded
          ? { ...recorded, attempt }
          : { ...outcomeWithoutRun('error', null, [`infrastructure error: ${message}`]), attempt };
        await log?.flush();
        await finishJob(db, job.id, attempt, outcome)
          .then(() => clearRecordedOutcome(config.workspaceRoot, job.id))
          .catch((e) =>
            logger.error('could not record the job’s end; the reconciler will', {
              jobId: job.id,
              error: describeError(e),
            }),
          );
      } else {
        await requeueJob(db, job.id, attempt).catch(() => undefined);
      }
      throw err;
    } finally {
      await log?.close();
    }
  }

  /**
   * Lets the project's next job start now rather than when its delay runs out. Only an
   * optimisation: the next job would also find its turn on its own.
   */
  async function wakeNextOf(projectId: string): Promise<void> {
    if (!deps.queue) return;
    try {
      const next = await nextQueuedJobId(db, projectId);
      if (!next) return;
      // If a runner is looking at it right now, it may be about to put it back for a while: look
      // again shortly after.
      for (const pause of [0, 100, 300]) {
        if (pause) await sleep(pause);
        const queued = await deps.queue.getJob(next);
        const state = queued ? await queued.getState() : 'missing';
        if (state === 'delayed') return void (await queued!.promote());
        if (state !== 'active') return;
      }
    } catch (err) {
      logger.debug('could not wake the project’s next job', { projectId, error: describeError(err) });
    }
  }

  /** A job whose cancel was requested before it ran (the API normally ends queued ones itself). */
  async function cancelBeforeStart(job: RunnableJob): Promise<ProcessResult> {
    await cancelUnstartedJob(db, job.id);
    await clearRecordedOutcome(config.workspaceRoot, job.id);
    logger.info('job cancelled before it started', { jobId: job.id });
    return 'cancelled';
  }

  return async function processJob(bullJob: BullJob, token?: string): Promise<ProcessResult> {
    const { jobId } = QueuePayload.parse(bullJob.data);
    const job = await loadJob(db, jobId);
    if (!job) {
      logger.warn('job not in the database (its project was deleted?); dropped', { jobId });
      return 'missing';
    }
    if (isFinished(job.status)) return 'already_finished';
    if (job.cancelRequestedAt) return cancelBeforeStart(job);
    // Not its turn (see loadJob: checked before the lock, which saves taking and releasing it).
    if (job.olderUnfinishedId) return putBack(bullJob, token, config.PROJECT_BUSY_RETRY_MS);

    const lock: ProjectLock | null = await locks.acquire(job.projectId, job.id);
    if (!lock) return putBack(bullJob, token, config.PROJECT_BUSY_RETRY_MS);
    // Registered before the job is marked in_progress, so that a cancel sent from then on finds it.
    const controller = running.add(job.id);
    let ranToTheEnd = false;
    try {
      lock.onLost(() => controller.abort(new JobAbort('lock_lost')));
      const started = await startJob(db, job.id);
      if (started.kind === 'refused') {
        // Finished elsewhere, or a cancel was requested since the job was loaded.
        const now = await loadJob(db, job.id);
        return now && !isFinished(now.status) && now.cancelRequestedAt ? cancelBeforeStart(now) : 'finished_elsewhere';
      }
      const result = await runAttempt(bullJob, token, job, started.attempt, controller, lock);
      ranToTheEnd = true;
      return result;
    } finally {
      running.remove(job.id);
      await lock.release();
      if (ranToTheEnd) void wakeNextOf(job.projectId);
    }
  };
}
