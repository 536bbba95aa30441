import { isDatabaseUnavailable } from '@cwo/db';
import { TimeoutError } from '../timeouts';

// Errors that mean "a service we depend on is down" (503), as opposed to our own bugs (500).
// Postgres's many forms are told apart in @cwo/db, which the runner shares.

export { isDatabaseUnavailable };

export function isDependencyTimeout(err: unknown): boolean {
  return err instanceof TimeoutError;
}

/**
 * ioredis (under BullMQ too) refusing a command because its connection is down: with the offline
 * queue off (redis-clients.ts) a command fails at once instead of waiting for Redis to return.
 */
const REDIS_DOWN = /enableOfflineQueue options is false|^Connection is closed\.?$|max retries per request limit/;

export function isRedisUnavailable(err: unknown): boolean {
  return err instanceof Error && REDIS_DOWN.test(err.message);
}
