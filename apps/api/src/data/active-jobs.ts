import { Prisma, type Db } from '@cwo/db';

/** A tenant has MAX_ACTIVE_JOBS_PER_USER jobs queued or in_progress already. */
export class ActiveJobLimitError extends Error {
  constructor(readonly limit: number) {
    super(`at most ${limit} jobs may be queued or in_progress at once`);
    this.name = 'ActiveJobLimitError';
  }
}

// First key of the two-key advisory lock: keeps these locks apart from any other use of advisory
// locks in the same database ("cwo" + 1).
const ACTIVE_JOBS_LOCK_SPACE = 0x63776f01;

/**
 * The owner's advisory lock, held until the transaction it runs in ends. A creation under a cap
 * runs as `$transaction([lockActiveJobs(...), insert])`: concurrent creations by one owner take
 * turns, and since each statement of a read-committed transaction takes a fresh snapshot, the
 * insert's count sees every creation that went before. Other owners are not held up (a hash
 * collision between two owners only makes them take turns). Runners only ever lower the count.
 */
export function lockActiveJobs(db: Db, ownerId: string) {
  return db.$executeRaw`SELECT pg_advisory_xact_lock(${ACTIVE_JOBS_LOCK_SPACE}::int, hashtext(${ownerId}))`;
}

/**
 * A boolean SQL expression for an insert's WHERE: the owner has fewer than `limit` jobs queued or
 * in_progress (always true for `limit` 0, no cap).
 */
export function activeJobsBelowCap(ownerId: string, limit: number): Prisma.Sql {
  if (limit === 0) return Prisma.sql`true`;
  return Prisma.sql`(
    SELECT count(*) FROM jobs JOIN projects ON projects.id = jobs.project_id
    WHERE projects.owner_id = ${ownerId}::uuid AND jobs.status IN ('queued', 'in_progress')
  ) < ${limit}`;
}
