import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/client';
import { poolConfigFromUrl } from './pg-adapter';

export type Db = PrismaClient;

const pools = new WeakMap<Db, pg.Pool>();

export interface DbOptions {
  poolSize?: number;
  /** Shown in pg_stat_activity (which process holds which connections). */
  applicationName?: string;
  /**
   * Told of every error on a connection nobody is waiting on (Postgres restarting, ending the
   * connection, the network dropping it). Such an error costs only that connection: the pool
   * opens a fresh one for the next query.
   */
  onConnectionError?: (err: Error) => void;
  /** How long a query waits for a connection to be made (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * How long a query may wait for its answer before it fails and its connection is dropped
   * (default: no limit). For a Postgres that hangs rather than refuses.
   */
  queryTimeoutMs?: number;
}

/**
 * A Prisma client on the pg driver adapter (no native engine; see README). The adapter runs on a
 * pg pool we create, so that the few hot statements can use that same pool directly (sqlPool).
 */
export function createDb(databaseUrl: string, opts: DbOptions = {}): Db {
  const onConnectionError = opts.onConnectionError ?? (() => undefined);
  const pool = new pg.Pool({
    ...poolConfigFromUrl(databaseUrl, opts.poolSize),
    // A query waiting for a connection while Postgres cannot be reached fails after this long
    // instead of waiting forever (the API answers 503 then).
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    // Notices a peer that vanished without closing the connection (a host or network gone).
    keepAlive: true,
    ...(opts.queryTimeoutMs ? { query_timeout: opts.queryTimeoutMs } : {}),
    ...(opts.applicationName ? { application_name: opts.applicationName } : {}),
  });
  // An 'error' event with no listener kills the process. The pool listens on idle connections
  // (and forwards to its own 'error'); a connection that is checked out has no listener of the
  // pool's, and pg emits 'error' on it when Postgres ends it, even in the middle of a query (which
  // fails as well). So every connection gets a listener of its own for its whole life.
  pool.on('error', onConnectionError);
  pool.on('connect', (client) => client.on('error', onConnectionError));
  const db = new PrismaClient({
    adapter: new PrismaPg(pool, { disposeExternalPool: true }),
  });
  pools.set(db, pool);
  return db;
}

/**
 * The pg pool under a client, for hot-path statements written as one SQL statement: Prisma's
 * client costs ~0.7 ms of CPU per query here (its query compiler runs for raw SQL too), plain pg
 * a fraction of that. Everything else goes through Prisma.
 */
export function sqlPool(db: Db): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error('sqlPool: this client was not made by createDb');
  return pool;
}

/**
 * `fn` inside BEGIN … COMMIT on one connection of the pool (ROLLBACK when it throws).
 */
export async function sqlTransaction<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await sqlPool(db).connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** True when Postgres answers a trivial query (readiness checks). */
export async function pingDb(db: Db): Promise<boolean> {
  try {
    await db.$queryRawUnsafe('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
