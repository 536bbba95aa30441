import { PrismaClient } from '../generated/client';
import { createPgAdapter } from './pg-adapter';

export type Db = PrismaClient;

/** A Prisma client on the pg driver adapter (no native engine; see README). */
export function createDb(databaseUrl: string, opts: { poolSize?: number } = {}): Db {
  return new PrismaClient({ adapter: createPgAdapter(databaseUrl, opts.poolSize) });
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
