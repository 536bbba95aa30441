import { sqlPool, type Db } from '@cwo/db';

// Transitions run on the pg pool under Prisma (sqlPool): one round trip per statement and a
// fraction of Prisma's per-query CPU. Reads that are not on a job's path stay on Prisma.

export async function query<Row>(db: Db, text: string, values: unknown[]): Promise<Row[]> {
  return (await sqlPool(db).query(text, values)).rows as Row[];
}

/** Postgres's foreign_key_violation: the project a job was being written for is gone. */
export const isForeignKeyViolation = (err: unknown): boolean => (err as { code?: string }).code === '23503';
