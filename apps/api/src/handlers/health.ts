import type { Readiness } from '@cwo/contracts';
import { pingDb } from '@cwo/db';
import { json, type Reply } from '../http/reply';
import type { PublicContext } from '../http/route';
import { pingRedis } from '../redis-actions';
import { DEPENDENCY_TIMEOUT_MS, withTimeout } from '../timeouts';

/** GET /healthz: the process answers; no dependency is consulted (restarts must not cascade). */
export function liveness(): Promise<Reply> {
  return Promise.resolve(json(200, { status: 'ok' }));
}

/** GET /readyz: Postgres and Redis both answer; 503 with which one is down otherwise. */
export async function readiness({ deps }: PublicContext): Promise<Reply> {
  const [postgres, redis] = await Promise.all([
    withTimeout(pingDb(deps.db), DEPENDENCY_TIMEOUT_MS, 'Postgres (ping)').catch(() => false),
    pingRedis(deps),
  ]);
  const body: Readiness = {
    status: postgres && redis ? 'ok' : 'unavailable',
    checks: { postgres: postgres ? 'ok' : 'down', redis: redis ? 'ok' : 'down' },
  };
  return json(postgres && redis ? 200 : 503, body);
}
