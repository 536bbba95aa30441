import type { Config } from '@cwo/config';
import type { Db } from '@cwo/db';
import { giveUpJob, giveUpWithOutcome, jobsUntouchedSince, requeueJob, type UnfinishedJob } from '@cwo/jobs';
import type { Logger } from '@cwo/logger';
import { enqueueJob, type JobsQueue } from '@cwo/queue';
import { describeError } from './describe-error';
import { clearRecordedOutcome, readRecordedOutcome } from './outcome';
import type { ProjectLocks } from './project-lock';

// Postgres is the truth and Redis only the transport, so what falls between them is found here,
// at start and every RECONCILE_INTERVAL_SECONDS:
//   - a job `queued` in Postgres that BullMQ does not have (Redis was down when the API wrote it,
//     or the API died between the two writes) is enqueued;
//   - a job `in_progress` whose BullMQ job is gone or failed, and whose project lock no one holds
//     for it, is queued again if it has attempts left, else ends in error "runner lost the job".
// Every runner runs it; that is safe because enqueueing uses the job's own id (adding it twice is
// a no-op) and every state change is a guarded update.

/** BullMQ states in which the job is still on its way to (or in) a runner. */
const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
const BATCH = 500;

export interface ReconcileReport {
  enqueued: string[];
  requeued: string[];
  failed: string[];
}

export interface ReconcilerDeps {
  db: Db;
  queue: JobsQueue;
  config: Pick<
    Config,
    'RUNNER_MAX_ATTEMPTS' | 'RECONCILE_INTERVAL_SECONDS' | 'RECONCILE_GRACE_SECONDS' | 'workspaceRoot'
  >;
  locks: ProjectLocks;
  logger: Logger;
}

export interface Reconciler {
  runOnce(): Promise<ReconcileReport>;
  start(): void;
  stop(): Promise<void>;
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { db, queue, config, locks, logger } = deps;

  /**
   * The job's BullMQ state, 'missing' when Redis does not have it; with the reason of a failure.
   * One Redis call for a job on its way (nearly all of them); its data only when it is not.
   */
  async function queueState(jobId: string): Promise<{ state: string; failedReason?: string }> {
    const state = await queue.getJobState(jobId);
    if (state === 'unknown') return { state: 'missing' };
    if (LIVE_STATES.has(state)) return { state };
    const job = await queue.getJob(jobId);
    if (!job) return { state: 'missing' };
    return { state, failedReason: job.failedReason ? describeError(job.failedReason) : undefined };
  }

  /** Enqueues a job again; a finished BullMQ job of the same id is removed first (ids are unique). */
  async function enqueueFresh(jobId: string, state: string): Promise<void> {
    if (state === 'completed' || state === 'failed') {
      const stale = await queue.getJob(jobId);
      await stale?.remove().catch(() => undefined);
    }
    await enqueueJob(queue, config, jobId);
  }

  async function reconcileQueued(cutoff: Date, report: ReconcileReport): Promise<void> {
    for (const job of await jobsUntouchedSince(db, 'queued', cutoff, BATCH)) {
      const { state, failedReason } = await queueState(job.id);
      if (LIVE_STATES.has(state)) continue;
      if (state === 'failed' && job.attempts >= config.RUNNER_MAX_ATTEMPTS) {
        await giveUp(job, failedReason, report);
        continue;
      }
      await enqueueFresh(job.id, state);
      report.enqueued.push(job.id);
      logger.info('reconciler: enqueued a queued job the queue did not have', { jobId: job.id, queueState: state });
    }
  }

  async function reconcileInProgress(cutoff: Date, report: ReconcileReport): Promise<void> {
    for (const job of await jobsUntouchedSince(db, 'in_progress', cutoff, BATCH)) {
      const { state, failedReason } = await queueState(job.id);
      if (LIVE_STATES.has(state)) continue;
      if ((await locks.holderJobId(job.projectId)) === job.id) continue; // still running somewhere
      if (job.attempts >= config.RUNNER_MAX_ATTEMPTS) {
        await giveUp(job, failedReason, report);
        continue;
      }
      if ((await requeueJob(db, job.id, job.attempts)) !== 'requeued') continue;
      await enqueueFresh(job.id, state);
      report.requeued.push(job.id);
      logger.warn('reconciler: re-enqueued a job its runner lost', {
        jobId: job.id,
        queueState: state,
        attempts: job.attempts,
      });
    }
  }

  async function giveUp(job: UnfinishedJob, failedReason: string | undefined, report: ReconcileReport): Promise<void> {
    const kept = readRecordedOutcome(config.workspaceRoot, job.id);
    if (kept) {
      if ((await giveUpWithOutcome(db, job.id, job, kept)) !== 'gave_up') return;
      clearRecordedOutcome(config.workspaceRoot, job.id);
      report.failed.push(job.id);
      logger.warn('reconciler: finished a job its runner lost from the outcome its last attempt recorded', {
        jobId: job.id,
        status: kept.status,
        attempt: kept.attempt,
      });
      return;
    }
    const errors = ['runner lost the job', ...(failedReason ? [failedReason] : [])];
    if ((await giveUpJob(db, job.id, job, errors)) !== 'gave_up') return;
    report.failed.push(job.id);
    logger.error('reconciler: a job ran out of attempts after its runner lost it', { jobId: job.id, failedReason });
  }

  async function runOnce(): Promise<ReconcileReport> {
    const report: ReconcileReport = { enqueued: [], requeued: [], failed: [] };
    const cutoff = new Date(Date.now() - config.RECONCILE_GRACE_SECONDS * 1000);
    await reconcileQueued(cutoff, report);
    await reconcileInProgress(cutoff, report);
    return report;
  }

  let timer: NodeJS.Timeout | null = null;
  let current: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    current = runOnce()
      .catch((err: unknown) => logger.warn('reconciler pass failed; next pass will try again', { error: err }))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, config.RECONCILE_INTERVAL_SECONDS * 1000);
      });
  };

  return {
    runOnce,
    start() {
      stopped = false;
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
