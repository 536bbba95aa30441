import type { ProjectListQuery } from '@cwo/contracts';
import type { Db, Job, Project } from '@cwo/db';
import { isUuid } from './ids';

export type ProjectWithJobs = Project & { jobs: Job[] };

/** The project row and its initial job, in one transaction (a nested create). */
export async function insertProjectWithInitialJob(
  db: Db,
  input: { id: string; instruction: string; workspacePath: string },
): Promise<{ project: Project; job: Job }> {
  const { jobs, ...project } = await db.project.create({
    data: { ...input, jobs: { create: { jobType: 'initial_project', instruction: input.instruction } } },
    include: { jobs: true },
  });
  return { project, job: jobs[0]! };
}

export async function findProject(db: Db, id: string): Promise<Project | null> {
  return isUuid(id) ? db.project.findUnique({ where: { id } }) : null;
}

/** The project with its jobs in creation order. */
export async function findProjectWithJobs(db: Db, id: string): Promise<ProjectWithJobs | null> {
  if (!isUuid(id)) return null;
  return db.project.findUnique({ where: { id }, include: { jobs: { orderBy: { seq: 'asc' } } } });
}

/** Newest first; `total` counts all projects, for the client's pager. */
export async function listProjects(db: Db, page: ProjectListQuery): Promise<{ items: Project[]; total: number }> {
  const [items, total] = await db.$transaction([
    db.project.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: page.limit, skip: page.offset }),
    db.project.count(),
  ]);
  return { items, total };
}

/**
 * Deletes a project and its jobs. Unfinished jobs are first marked cancelled (running ones also
 * get cancel_requested_at) in the same transaction, so a runner that reads one of them before the
 * delete lands sees it cancelled. Returns those jobs as they were, so the caller can stop them; null if the project was gone.
 */
export async function deleteProjectCancellingJobs(db: Db, id: string): Promise<Pick<Job, 'id' | 'status'>[] | null> {
  return db.$transaction(async (tx) => {
    const unfinished = await tx.job.findMany({
      where: { projectId: id, status: { in: ['queued', 'in_progress'] } },
      select: { id: true, status: true },
    });
    const now = new Date();
    await tx.job.updateMany({
      where: { projectId: id, status: 'in_progress' },
      data: { status: 'cancelled', cancelRequestedAt: now, finishedAt: now },
    });
    await tx.job.updateMany({ where: { projectId: id, status: 'queued' }, data: { status: 'cancelled', finishedAt: now } });
    const { count } = await tx.project.deleteMany({ where: { id } });
    return count === 1 ? unfinished : null; // null: someone else deleted it first
  });
}
