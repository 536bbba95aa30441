import type { Db, Prisma } from '@cwo/db';

type Client = Db | Prisma.TransactionClient;

/**
 * Sets a project's status from its jobs, in one statement so that concurrent writers (the API,
 * any runner) cannot interleave: a running job makes it in_progress, else a queued one queued,
 * else it takes the status of its latest job that was not cancelled (cancelled if all were).
 */
export async function recomputeProjectStatus(db: Client, projectId: string): Promise<void> {
  await db.$executeRaw`
    WITH next AS (
      SELECT (CASE
        WHEN EXISTS (SELECT 1 FROM jobs WHERE project_id = ${projectId}::uuid AND status = 'in_progress') THEN 'in_progress'
        WHEN EXISTS (SELECT 1 FROM jobs WHERE project_id = ${projectId}::uuid AND status = 'queued') THEN 'queued'
        ELSE COALESCE(
          (SELECT status::text FROM jobs WHERE project_id = ${projectId}::uuid AND status <> 'cancelled'
            ORDER BY seq DESC LIMIT 1),
          'cancelled')
      END)::"Status" AS status
    )
    UPDATE projects SET status = next.status, updated_at = now()
    FROM next
    WHERE projects.id = ${projectId}::uuid AND projects.status <> next.status`;
}
