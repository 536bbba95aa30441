import type { PoolClient } from 'pg';

// MAX_ACTIVE_JOBS_PER_USER: a tenant's jobs queued or in_progress at once, counted in Postgres
// when a project (its initial job) or a job is created.

// First key of the two-key advisory lock: keeps these locks apart from any other use of advisory
// locks in the same database ("cwo" + 1).
const ACTIVE_JOBS_LOCK_SPACE = 0x63776f01;

/**
 * Takes the owner's advisory lock, held until the transaction `client` is in ends. A creation
 * under a cap runs as BEGIN; lockActiveJobs; the insert; COMMIT: concurrent creations by one owner
 * take turns, and since each statement of a read-committed transaction takes a fresh snapshot, the
 * insert's count sees every creation that went before. Other owners are not held up (a hash
 * collision between two owners only makes them take turns). Runners only ever lower the count.
 */
export async function lockActiveJobs(client: PoolClient, ownerId: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [ACTIVE_JOBS_LOCK_SPACE, ownerId]);
}

/**
 * A boolean SQL expression for an insert's WHERE: the owner ($ownerParam) has fewer than `limit`
 * jobs queued or in_progress (always true for `limit` 0, no cap). `limit` is a validated integer.
 */
export function activeJobsBelowCap(ownerParam: string, limit: number): string {
  if (limit === 0) return 'true';
  return `(SELECT count(*) FROM jobs JOIN projects ON projects.id = jobs.project_id
     WHERE projects.owner_id = ${ownerParam}::uuid AND jobs.status IN ('queued', 'in_progress')) < ${Math.trunc(limit)}`;
}
