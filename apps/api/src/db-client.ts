import type { Config } from '@cwo/config';
import { createDb, type Db } from '@cwo/db';
import { connectionErrorLogger, type Logger } from '@cwo/logger';
import { DATABASE_CONNECT_TIMEOUT_MS, DATABASE_QUERY_TIMEOUT_MS } from './timeouts';

/**
 * The API's Postgres client. Every wait on Postgres is bounded (for a connection, then for a
 * query), so that a Postgres that is down or hangs costs a request a 503 within seconds; a
 * connection Postgres ends is logged and replaced, never fatal.
 */
export function createApiDb(config: Pick<Config, 'DATABASE_URL'>, logger: Logger, applicationName = 'cwo-api'): Db {
  return createDb(config.DATABASE_URL, {
    applicationName,
    connectTimeoutMs: DATABASE_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: DATABASE_QUERY_TIMEOUT_MS,
    onConnectionError: connectionErrorLogger(logger, 'postgres'),
  });
}
