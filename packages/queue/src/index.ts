import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { JOBS_QUEUE_NAME, type QueuePayload } from '@cwo/contracts';
import type { Config } from '@cwo/config';

export type JobsQueue = Queue<QueuePayload>;

/** BullMQ's connection options from REDIS_URL (BullMQ makes its own ioredis clients from them). */
export function redisConnection(redisUrl: string, overrides: Record<string, unknown> = {}): ConnectionOptions {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    ...overrides,
  };
}

/**
 * The wait before the `times`-th reconnect to Redis after it went away: 100 ms more each time, never
 * more than `maxMs` (RUNNER_REDIS_RETRY_MS; ioredis's own backs off to 2 s, BullMQ's to 20 s), so a
 * client is back within about `maxMs` once Redis is. The runner's and the webhook dispatcher's
 * clients take it from here.
 */
export function redisRetryStrategy(maxMs: number): (times: number) => number {
  return (times) => Math.min(times * 100, maxMs);
}

/**
 * How every job is added, by the API and by the runner's reconciler alike. The BullMQ job id is
 * the database job id, so adding a job twice is harmless. Finished jobs leave Redis after a while:
 * Postgres keeps the history.
 */
export function jobOptions(config: Pick<Config, 'RUNNER_MAX_ATTEMPTS'>, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: config.RUNNER_MAX_ATTEMPTS,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

export const RUN_JOB = 'run';

export function createJobsQueue(
  config: Pick<Config, 'REDIS_URL' | 'QUEUE_PREFIX'>,
  connectionOverrides: Record<string, unknown> = {},
): JobsQueue {
  return new Queue<QueuePayload>(JOBS_QUEUE_NAME, {
    connection: redisConnection(config.REDIS_URL, connectionOverrides),
    prefix: config.QUEUE_PREFIX,
  });
}

export function enqueueJob(
  queue: JobsQueue,
  config: Pick<Config, 'RUNNER_MAX_ATTEMPTS'>,
  jobId: string,
): Promise<unknown> {
  return queue.add(RUN_JOB, { jobId }, jobOptions(config, jobId));
}
