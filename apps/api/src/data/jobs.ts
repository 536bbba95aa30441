import type { JobCreate, Status } from '@cwo/contracts';
import { Prisma, type Db, type Job } from '@cwo/db';
import { isUuid } from './ids';
import { recomputeProjectStatus } from './project-status';

/** A new queued job; the project becomes queued too unless something is running. Null when the project is gone. */
export async function insertJob(db: Db, projectId: string, input: JobCreate): Promise<Job | null> {
  try {
    return await db.$transaction(async (tx) => {
      const job = await tx.job.create({
        data: { projectId, jobType: input.job_type, instruction: input.instruction },
      });
      await recomputeProjectStatus(tx, projectId);
      return job;
    });
  } catch (err) {
    // The project was deleted between the lookup and the insert.
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2003') return null;
    throw err;
  }
}

/** A job of the given project (null for another project's job or a malformed id). */
export async function findJob(db: Db, projectId: string, jobId: string): Promise<Job | null> {
  if (!isUuid(projectId) || !isUuid(jobId)) return null;
  return db.job.findFirst({ where: { id: jobId, projectId } });
}

export async function listJobs(db: Db, projectId: string): Promise<Job[]> {
  return db.job.findMany({ where: { projectId }, orderBy: { seq: 'asc' } });
}

export async function findJobStatus(db: Db, jobId: string): Promise<Status | null> {
  const job = await db.job.findUnique({ where: { id: jobId }, select: { status: true } });
  return job?.status ?? null;
}

/**
 * queued -> cancelled, guarded so that a runner taking the job at the same moment wins or loses
 * cleanly. False when the job was no longer queued.
 */
export async function cancelQueuedJob(db: Db, job: Pick<Job, 'id' | 'projectId'>): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const now = new Date();
    const { count } = await tx.job.updateMany({
      where: { id: job.id, status: 'queued' },
      data: { status: 'cancelled', finishedAt: now },
    });
    if (count === 1) await recomputeProjectStatus(tx, job.projectId);
    return count === 1;
  });
}

/**
 * Records a cancel request on a running job (the runner aborts it and writes the final status).
 * The first request's time is kept. False when the job was no longer running.
 */
export async function requestRunningJobCancel(db: Db, jobId: string): Promise<boolean> {
  const now = new Date();
  const first = await db.job.updateMany({
    where: { id: jobId, status: 'in_progress', cancelRequestedAt: null },
    data: { cancelRequestedAt: now },
  });
  if (first.count === 1) return true;
  const again = await db.job.count({ where: { id: jobId, status: 'in_progress' } });
  return again === 1;
}

export async function findJobById(db: Db, jobId: string): Promise<Job | null> {
  return isUuid(jobId) ? db.job.findUnique({ where: { id: jobId } }) : null;
}
