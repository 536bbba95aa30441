import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { cancelChannel, JOBS_QUEUE_NAME, type QueuePayload } from '@cwo/contracts';
import type { Config } from '@cwo/config';
import type { Db } from '@cwo/db';
import type { Logger } from '@cwo/logger';
import { createJobsQueue, redisConnection, redisRetryStrategy, type JobsQueue } from '@cwo/queue';
import { gitVersion, useHistoryThreads } from '@cwo/history';
import type { Dispatcher } from '@cwo/webhooks';
import { createCancelWatcher, type CancelWatcher } from './cancel-watcher';
import { describeError } from './describe-error';
import type { Executor } from './executors/types';
import { createJobProcessor, type ProcessResult } from './processor';
import { ProjectLocks } from './project-lock';
import { createReconciler, type Reconciler } from './reconciler';
import { createRunnerId } from './runner-id';
import { RunningJobs } from './running-jobs';

// The runner process's parts, wired together: a BullMQ worker with the job processor, the
// project locks, the cancel watcher and the reconciler, and the webhook dispatcher beside them. Everything it needs from outside is
// passed in, so tests build the real thing against the real Postgres and Redis.

export interface RunnerDeps {
  db: Db;
  config: Config;
  logger: Logger;
  executor: Executor;
  /** Delivers webhooks from its own queue and connections (packages/webhooks); none when absent. */
  webhooks?: Dispatcher;
}

export interface Runner {
  /** The runner's one id (runner-id.ts). */
  readonly id: string;
  start(): Promise<void>;
  /**
   * Stops taking jobs, lets running ones finish for up to SHUTDOWN_GRACE_SECONDS (or `graceMs`),
   * then aborts them so that they go back to the queue for another runner; then disconnects.
   */
  stop(graceMs?: number): Promise<void>;
  /** The jobs this process is running now (tests and diagnostics). */
  runningJobIds(): string[];
  reconciler: Reconciler;
  cancelWatcher: CancelWatcher;
}

export function createRunner(deps: RunnerDeps): Runner {
  const { db, config, logger, executor } = deps;
  const id = createRunnerId();
  // Reconnects to Redis no further apart than RUNNER_REDIS_RETRY_MS (ioredis's own: up to 2 s, BullMQ's
  // up to 20 s), so that a runner takes and reconciles jobs again within about that once Redis is back.
  const retryMs = config.RUNNER_REDIS_RETRY_MS;
  const retryStrategy = redisRetryStrategy(retryMs);
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2, retryStrategy });
  redis.on('error', (err) => logger.warn('runner redis: error', { error: err.message }));
  const locks = new ProjectLocks({
    redis,
    prefix: config.QUEUE_PREFIX,
    ttlMs: config.PROJECT_LOCK_TTL_SECONDS * 1000,
    logger,
  });
  const running = new RunningJobs();
  // The reconciler's and the next-job wake-up's queue: the same reconnects as the worker's.
  const queue: JobsQueue = createJobsQueue(config, { retryStrategy });
  queue.on('error', (err) => logger.warn('runner queue: redis error', { error: err.message }));
  const reconciler = createReconciler({ db, queue, config, locks, logger });
  const cancelWatcher = createCancelWatcher({
    redisUrl: config.REDIS_URL,
    channel: cancelChannel(config.QUEUE_PREFIX),
    db,
    running,
    pollMs: config.CANCEL_POLL_SECONDS * 1000,
    logger,
  });
  const processor = createJobProcessor({ db, config, logger, executor, locks, running, runnerId: id, queue });
  let worker: Worker<QueuePayload, ProcessResult> | null = null;
  let stopping: Promise<void> | null = null;
  let releaseHistoryThreads: (() => Promise<void>) | null = null;

  return {
    id,
    reconciler,
    cancelWatcher,
    runningJobIds: () => running.ids(),

    async start() {
      releaseHistoryThreads = useHistoryThreads();
      await redis.connect();
      await executor.start?.({ runnerId: id, db, redis });
      await cancelWatcher.start();
      // BullMQ's own waits after Redis went away (reconnects backing off to 20 s, 15 s after a
      // failed fetch) left a runner idle for up to ~20 s once Redis was back.
      worker = new Worker<QueuePayload, ProcessResult>(JOBS_QUEUE_NAME, processor, {
        connection: redisConnection(config.REDIS_URL, { retryStrategy }),
        runRetryDelay: retryMs,
        prefix: config.QUEUE_PREFIX,
        concurrency: config.RUNNER_CONCURRENCY,
        name: id,
        // A runner that dies stops renewing its jobs' locks; the stalled check (run by every
        // runner) then moves those jobs back to the queue for another runner.
        lockDuration: config.STALLED_CHECK_SECONDS * 1000,
        stalledInterval: config.STALLED_CHECK_SECONDS * 1000,
        maxStalledCount: 1,
      });
      worker.on('error', (err) => logger.warn('worker error', { error: describeError(err) }));
      worker.on('failed', (job, err) =>
        logger.warn('job attempt failed in the queue', {
          jobId: job?.id,
          attemptsMade: job?.attemptsMade,
          error: describeError(err),
        }),
      );
      await worker.waitUntilReady();
      reconciler.start();
      await deps.webhooks?.start();
      const git = await gitVersion().catch(() => null);
      if (!git) logger.warn('git is not installed: jobs will get no commit in their project history, and no diff');
      logger.info('runner started', {
        runnerId: id,
        executor: executor.name,
        concurrency: config.RUNNER_CONCURRENCY,
        queuePrefix: config.QUEUE_PREFIX,
        git,
      });
    },

    stop(graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000) {
      stopping ??= (async () => {
        logger.info('runner stopping: no new jobs', { runnerId: id, running: running.size, graceMs });
        await reconciler.stop();
        // Webhooks stop at once: a delivery cut short is retried by another runner.
        const webhooksStopped = deps.webhooks
          ?.stop()
          .catch((err: unknown) => logger.warn('webhooks: stopping failed', { error: describeError(err) }));
        const grace = setTimeout(() => {
          const n = running.abortAll('shutdown');
          if (n) logger.warn('grace period over: handing running jobs back to the queue', { jobs: n });
        }, graceMs);
        try {
          await worker?.close();
        } finally {
          clearTimeout(grace);
        }
        await cancelWatcher.stop();
        await webhooksStopped;
        await executor.close?.();
        await queue.close().catch(() => undefined);
        await redis.quit().catch(() => redis.disconnect());
        await releaseHistoryThreads?.();
        logger.info('runner stopped', { runnerId: id });
      })();
      return stopping;
    },
  };
}
