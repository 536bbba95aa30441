import type { Config } from '@cwo/config';
import { createJobsQueue, redisRetryStrategy, type JobsQueue } from '@cwo/queue';
import { Redis } from 'ioredis';

// The API's Redis connections. While Redis is unreachable, commands fail at once instead of
// waiting in ioredis's offline queue, so a request can answer 503 quickly (every call is also
// bounded in time, see redis-actions.ts). Both reconnect by themselves when Redis is back: the
// queue no further apart than RUNNER_REDIS_RETRY_MS (BullMQ's own back off to 20 s), so the API
// enqueues again within about that once Redis is back; the client as ioredis does (up to 2 s).

// disconnectTimeout: on shutdown, a socket still trying to reach a dead Redis is dropped after
// half a second instead of ioredis's two.
const FAIL_FAST = { enableOfflineQueue: false, connectTimeout: 2000, disconnectTimeout: 500 } as const;

export function createApiQueue(
  config: Pick<Config, 'REDIS_URL' | 'QUEUE_PREFIX' | 'RUNNER_REDIS_RETRY_MS'>,
): JobsQueue {
  return createJobsQueue(config, { ...FAIL_FAST, retryStrategy: redisRetryStrategy(config.RUNNER_REDIS_RETRY_MS) });
}

/** For publishing cancel requests and readiness pings (BullMQ's client is not ours to use). */
export function createApiRedis(config: Pick<Config, 'REDIS_URL'>): Redis {
  return new Redis(config.REDIS_URL, { ...FAIL_FAST, maxRetriesPerRequest: 1 });
}
