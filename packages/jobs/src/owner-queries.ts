import type { ProjectListQuery, QueuePosition, Status } from '@cwo/contracts';
import type { Db, Job, Project } from '@cwo/db';
import { isUuid } from './ids';
import { query } from './sql';

// What the API reads. Every query is scoped by the owner: another tenant's project or job reads as
// missing, exactly like one that never existed.

export type ProjectWithJobs = Project & { jobs: Job[] };

const ownedBy = (ownerId: string) => ({ project: { ownerId } });

export async function findProject(db: Db, ownerId: string, id: string): Promise<Project | null> {
  return isUuid(id) ? db.project.findFirst({ where: { id, ownerId } }) : null;
}

/** The project with its jobs in creation order. */
export async function findProjectWithJobs(db: Db, ownerId: string, id: string): Promise<ProjectWithJobs | null> {
  if (!isUuid(id)) return null;
  return db.project.findFirst({ where: { id, ownerId }, include: { jobs: { orderBy: { seq: 'asc' } } } });
}

/** The owner's projects, newest first; `total` counts all of them, for the client's pager. */
export async function listProjects(
  db: Db,
  ownerId: string,
  page: ProjectListQuery,
): Promise<{ items: Project[]; total: number }> {
  const [items, total] = await db.$transaction([
    db.project.findMany({
      where: { ownerId },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: page.limit,
      skip: page.offset,
    }),
    db.project.count({ where: { ownerId } }),
  ]);
  return { items, total };
}

/** A job of the given project (null for another project's or owner's job, or a malformed id). */
export async function findJob(db: Db, ownerId: string, projectId: string, jobId: string): Promise<Job | null> {
  if (!isUuid(projectId) || !isUuid(jobId)) return null;
  return db.job.findFirst({ where: { id: jobId, projectId, ...ownedBy(ownerId) } });
}

export async function listJobs(db: Db, ownerId: string, projectId: string): Promise<Job[]> {
  if (!isUuid(projectId)) return [];
  return db.job.findMany({ where: { projectId, ...ownedBy(ownerId) }, orderBy: { seq: 'asc' } });
}

/** Null when the job is gone (its project deleted). */
export async function findJobStatus(db: Db, ownerId: string, jobId: string): Promise<Status | null> {
  const job = await db.job.findFirst({ where: { id: jobId, ...ownedBy(ownerId) }, select: { status: true } });
  return job?.status ?? null;
}

/**
 * Where a queued job stands (QueuePosition in @cwo/contracts): the unfinished jobs created before
 * it, in its project and overall; null for a job that is not queued. One statement; both counts
 * read only the partial indexes of unfinished jobs (migration 20261201121000_job_error_codes), so
 * the cost grows with the jobs ahead of it, not with the table.
 */
export async function queuePosition(
  db: Db,
  job: Pick<Job, 'projectId' | 'seq' | 'status'>,
): Promise<QueuePosition | null> {
  if (job.status !== 'queued') return null;
  const rows = await query<{ in_project: number; overall: number }>(
    db,
    `SELECT (SELECT count(*) FROM jobs WHERE project_id = $1::uuid AND seq < $2::bigint
                AND status IN ('queued', 'in_progress'))::int AS in_project,
            (SELECT count(*) FROM jobs WHERE seq < $2::bigint AND status IN ('queued', 'in_progress'))::int AS overall`,
    [job.projectId, String(job.seq)],
  );
  return rows[0] ?? { in_project: 0, overall: 0 };
}
