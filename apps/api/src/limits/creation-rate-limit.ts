import type { Principal } from '../auth/accounts';
import type { AppDeps } from '../deps';
import { tooManyRequests } from '../http/errors';
import { createSharedLimiter } from './shared-limiter';

/** Counts one creation (a project or a job) against the caller's limit; throws a 429 HttpError past it. */
export type ConsumeCreation = (principal: Principal) => Promise<void>;

/** Per key; the implicit local user (AUTH_MODE=none) and other key-less callers per user. */
const limitKey = (p: Principal): string => (p.keyId ? `key:${p.keyId}` : `user:${p.userId}`);

/**
 * RATE_LIMIT_CREATE_PER_MINUTE creations per RATE_LIMIT_WINDOW_SECONDS, shared by the replicas
 * through Redis (limits/shared-limiter.ts).
 *
 * When Redis is unreachable the count falls back to this process's memory instead of failing the
 * request. Failing with 503 instead would lose more than it protects: creations land in
 * Postgres first and the runner's reconciler enqueues them once Redis is back (the client gets a
 * 503 naming what was saved), and the active-job cap, counted in Postgres, still bounds how much
 * work any tenant can queue.
 */
export function createCreationRateLimit(deps: Pick<AppDeps, 'redis' | 'config' | 'logger'>): ConsumeCreation {
  const points = deps.config.RATE_LIMIT_CREATE_PER_MINUTE;
  const duration = deps.config.RATE_LIMIT_WINDOW_SECONDS;
  const count = createSharedLimiter(deps, { name: 'create', points, duration });
  if (!count) return () => Promise.resolve();
  return async (principal) => {
    const limited = await count(limitKey(principal));
    if (!limited) return;
    const per = principal.keyId ? 'API key' : 'user';
    throw tooManyRequests(
      `Rate limit reached: at most ${points} projects and jobs may be created per ${duration} s per ${per}`,
      limited.msBeforeNext / 1000,
    );
  };
}
