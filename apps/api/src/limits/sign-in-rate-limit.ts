import type { AppDeps } from '../deps';
import { tooManyRequests } from '../http/errors';
import { createSharedLimiter } from './shared-limiter';

/** Counts one sign-in attempt of a client address; throws a 429 HttpError past the limit. */
export type ConsumeSignIn = (clientIp: string) => Promise<void>;

/**
 * SIGN_IN_ATTEMPTS_PER_MINUTE attempts (right or wrong) per client address per
 * RATE_LIMIT_WINDOW_SECONDS, across replicas. A key has 256 bits of entropy, so this is not what
 * makes guessing hopeless; it keeps a client from using sign-in to hammer the database.
 */
export function createSignInRateLimit(deps: Pick<AppDeps, 'redis' | 'config' | 'logger'>): ConsumeSignIn {
  const points = deps.config.SIGN_IN_ATTEMPTS_PER_MINUTE;
  const duration = deps.config.RATE_LIMIT_WINDOW_SECONDS;
  const count = createSharedLimiter(deps, { name: 'sign-in', points, duration });
  if (!count) return () => Promise.resolve();
  return async (clientIp) => {
    const limited = await count(`ip:${clientIp}`);
    if (!limited) return;
    throw tooManyRequests(
      `Too many sign-in attempts: at most ${points} per ${duration} s from one address`,
      limited.msBeforeNext / 1000,
    );
  };
}
