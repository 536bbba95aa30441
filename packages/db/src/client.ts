import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/client';
import { poolConfigFromUrl } from './pg-adapter';

export type Db = PrismaClient;

const pools = new WeakMap<Db, pg.Pool>();

/**
 * A Prisma client on the pg driver adapter (no native engine; see README). The adapter runs on a
 * pg pool we create, so that the few hot statements can use that same pool directly (sqlPool).
 */
export function createDb(databaseUrl: string, opts: { poolSize?: number } = {}): Db {
  const pool = new pg.Pool(poolConfigFromUrl(databaseUrl, opts.poolSize));
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
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

/** True when Postgres answers a trivial query (readiness checks). */
export async function pingDb(db: Db): Promise<boolean> {
  try {
    await db.$queryRawUnsafe('SELECT 1');
    return true;
  } catch {
    return false;
  }
}
