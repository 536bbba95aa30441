import { cancelChannel } from '@cwo/contracts';
import { enqueueJob } from '@cwo/queue';
import type { Redis } from 'ioredis';
import type { AppDeps } from './deps';
import { DEPENDENCY_TIMEOUT_MS, TimeoutError, withTimeout } from './timeouts';

// What the API asks of Redis, each bounded in time so that a Redis outage costs a request about
// two seconds and a clear 503, never a hung connection.

/**
 * Resolves once the client is connected (TimeoutError after `ms`). With the offline queue off, a
 * command sent while the client is still connecting (just after start-up) would fail although
 * Redis is fine.
 */
function connected(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new TimeoutError('Redis (connect)', ms));
    }, ms);
    redis.once('ready', onReady);
  });
}

type QueueDeps = Pick<AppDeps, 'queue' | 'config' | 'logger'>;
type RedisDeps = Pick<AppDeps, 'redis' | 'config' | 'logger'>;

/**
 * Enqueues `{jobId}` (BullMQ job id = DB job id). False when Redis did not take it: the row stays
 * queued and the runner's reconciler enqueues it later, so nothing is lost.
 */
export async function enqueue({ queue, config, logger }: QueueDeps, jobId: string): Promise<boolean> {
  try {
    await withTimeout(enqueueJob(queue, config, jobId), DEPENDENCY_TIMEOUT_MS, 'Redis (enqueue)');
    return true;
  } catch (err) {
    logger.warn('enqueue failed; the job stays queued for the reconciler', {
      job_id: jobId,
      error: (err as Error).message,
    });
    return false;
  }
}

/** Removes a job that has not started from the queue; best effort (a runner may hold it already). */
export async function removeQueuedJob({ queue, logger }: QueueDeps, jobId: string): Promise<void> {
  try {
    await withTimeout(queue.remove(jobId), DEPENDENCY_TIMEOUT_MS, 'Redis (remove job)');
  } catch (err) {
    logger.warn('could not remove the job from the queue; the runner will skip it', {
      job_id: jobId,
      error: (err as Error).message,
    });
  }
}

/**
 * Tells the runners to abort a running job. Postgres (cancel_requested_at) already holds the
 * request and runners poll it too, so a lost message only delays the cancel. False on failure.
 */
export async function publishCancel({ redis, config, logger }: RedisDeps, jobId: string): Promise<boolean> {
  try {
    await connected(redis, DEPENDENCY_TIMEOUT_MS);
    await withTimeout(
      redis.publish(cancelChannel(config.QUEUE_PREFIX), jobId),
      DEPENDENCY_TIMEOUT_MS,
      'Redis (publish)',
    );
    return true;
  } catch (err) {
    logger.warn('could not publish the cancel request; runners will see it in Postgres', {
      job_id: jobId,
      error: (err as Error).message,
    });
    return false;
  }
}

/**
 * Stops jobs that were unfinished when their project was deleted: running ones are told to stop,
 * queued ones taken off the queue (best effort, as above).
 */
export async function stopJobs(
  deps: QueueDeps & RedisDeps,
  jobs: Array<{ id: string; status: string }>,
): Promise<void> {
  await Promise.all(
    jobs.map((job) => (job.status === 'in_progress' ? publishCancel(deps, job.id) : removeQueuedJob(deps, job.id))),
  );
}

/** True when Redis answers PING (readiness). */
export async function pingRedis({ redis }: Pick<AppDeps, 'redis'>): Promise<boolean> {
  try {
    await connected(redis, DEPENDENCY_TIMEOUT_MS);
    return (await withTimeout(redis.ping(), DEPENDENCY_TIMEOUT_MS, 'Redis (ping)')) === 'PONG';
  } catch {
    return false;
  }
}
