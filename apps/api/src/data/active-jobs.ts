import type { Prisma } from '@cwo/db';

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
 * Called inside the transaction that creates a job: waits for the owner's advisory lock (held
 * until that transaction ends), then counts their jobs queued or in_progress. Concurrent creations
 * by one owner therefore count one after another and cannot together pass the cap; other owners
 * are not held up (a hash collision between two owners only makes them take turns). Runners only
 * ever lower the count, so they need no lock. `limit` 0 means no cap.
 */
export async function ensureActiveJobSlot(tx: Prisma.TransactionClient, ownerId: string, limit: number): Promise<void> {
  if (limit === 0) return;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ACTIVE_JOBS_LOCK_SPACE}::int, hashtext(${ownerId}))`;
  const active = await tx.job.count({ where: { status: { in: ['queued', 'in_progress'] }, project: { ownerId } } });
  if (active >= limit) throw new ActiveJobLimitError(limit);
}
