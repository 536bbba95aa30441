import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import type { AppDeps } from '../deps';
import { DEPENDENCY_TIMEOUT_MS } from '../timeouts';

/** Counts one event for `key`; resolves with null when it is within the limit, else with the ms until the window ends. */
export type CountEvent = (key: string) => Promise<{ msBeforeNext: number } | null>;

/** How often, at most, the fallback to per-process counting is logged while Redis is away. */
const FALLBACK_WARNING_INTERVAL_MS = 60_000;

/**
 * Whether Redis can take a command now. Connected: yes. Failing (an error since it was last
 * ready): no, at once, so an outage costs no waiting. Still making its first connection (just
 * after start-up): whichever comes first, ready or an error.
 */
function redisUsable(redis: Redis): () => Promise<boolean> {
  let failing = false;
  redis.on('error', () => (failing = true));
  redis.on('ready', () => (failing = false));
  // One wait shared by every request that arrives meanwhile (one pair of listeners, not one each).
  let connecting: Promise<boolean> | undefined;
  return () => {
    if (redis.status === 'ready') return Promise.resolve(true);
    if (failing) return Promise.resolve(false);
    connecting ??= new Promise<boolean>((resolve) => {
      const settle = (ok: boolean) => () => {
        redis.off('ready', onReady);
        redis.off('error', onError);
        connecting = undefined;
        resolve(ok);
      };
      const onReady = settle(true);
      const onError = settle(false);
      redis.once('ready', onReady);
      redis.once('error', onError);
    });
    return connecting;
  };
}

/**
 * `points` events per key per `duration` seconds (a fixed window), counted in Redis so that every
 * API replica shares one count; null when points is 0 (no limit).
 *
 * When Redis is unreachable (or does not answer within DEPENDENCY_TIMEOUT_MS), counting falls back
 * to this process's memory instead of failing the request: the limit then holds per replica, not
 * across them.
 */
export function createSharedLimiter(
  { redis, config, logger }: Pick<AppDeps, 'redis' | 'config' | 'logger'>,
  { name, points, duration }: { name: string; points: number; duration: number },
): CountEvent | null {
  if (points === 0) return null;
  let lastWarning = 0;
  const warnFallback = () => {
    if (Date.now() - lastWarning < FALLBACK_WARNING_INTERVAL_MS) return;
    lastWarning = Date.now();
    logger.warn('rate limits: Redis is unavailable; counting in this process only until it is back');
  };
  // The library's insurance limiter, used when Redis fails or does not answer in time (the
  // timeout wrapper's, so that a late failure is not counted a second time).
  const local = new (class extends RateLimiterMemory {
    override consume(...args: Parameters<RateLimiterMemory['consume']>) {
      warnFallback();
      return super.consume(...args);
    }
  })({ points, duration });
  const shared = new RLWrapperTimeouts({
    limiter: new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${config.QUEUE_PREFIX}:rate-limit:${name}`,
      points,
      duration,
      // Not connected: straight to the insurance instead of an error from the client.
      rejectIfRedisNotReady: true,
    }),
    timeoutMs: DEPENDENCY_TIMEOUT_MS,
    insuranceLimiter: local,
  });
  const usable = redisUsable(redis);
  return async (key) => {
    try {
      await ((await usable()) ? shared.consume(key) : local.consume(key));
      return null;
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      return { msBeforeNext: err.msBeforeNext };
    }
  };
}
