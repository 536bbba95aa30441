import type { Job, Project } from '@cwo/db';
import { findJob, findProject } from '@cwo/jobs';
import type { AppDeps } from '../deps';
import { notFound, tooManyRequests, unavailable, type HttpError } from '../http/errors';

// The answers every nested route shares, with the detail texts of docs/http-api.md. Lookups are scoped by the
// caller: another tenant's project is "not found", exactly like one that never existed, so its
// existence is never confirmed.

export async function requireProject(
  { db }: Pick<AppDeps, 'db'>,
  ownerId: string,
  projectId: string,
): Promise<Project> {
  const project = await findProject(db, ownerId, projectId);
  if (!project) throw notFound('Project not found');
  return project;
}

export async function requireJob(
  { db }: Pick<AppDeps, 'db'>,
  ownerId: string,
  projectId: string,
  jobId: string,
): Promise<Job> {
  const job = await findJob(db, ownerId, projectId, jobId);
  if (!job) {
    // Say which one is missing, as a client would want to know.
    await requireProject({ db }, ownerId, projectId);
    throw notFound('Job not found');
  }
  return job;
}

/**
 * How long a caller at the active-job cap is told to wait. A slot frees when one of their jobs
 * finishes, which nobody can predict; this is a polite polling interval, not a promise.
 */
const ACTIVE_JOBS_RETRY_AFTER_SECONDS = 10;

/** The 429 of the active-job cap (MAX_ACTIVE_JOBS_PER_USER), naming it. */
export function activeJobLimitReached(limit: number): HttpError {
  return tooManyRequests(
    `Active job limit reached: at most ${limit} jobs may be queued or in_progress at once per user; ` +
      'wait for one to finish, or cancel one',
    ACTIVE_JOBS_RETRY_AFTER_SECONDS,
  );
}

/**
 * The 503 of a creation whose job could not be enqueued. The rows stay queued and the runner's
 * reconciler enqueues them later, so nothing is lost; `saved` names them so that the client does
 * not create them again.
 */
export function queueUnavailable(saved: Record<string, string>): HttpError {
  return unavailable({
    message: 'The job queue is unavailable. The job is saved and will run once the queue is back.',
    ...saved,
  });
}

/** The 404 of a job that has no commit (its diff, its tree): why, by how the job stands. */
export function noCommit(job: Pick<Job, 'status'>): HttpError {
  switch (job.status) {
    case 'cancelled':
      return notFound('The job was cancelled before it changed anything: it has no commit');
    case 'error':
      return notFound('The job ended in error without a commit: its changes, if any, were undone');
    default:
      return notFound('The job has no commit (yet): it has not finished running');
  }
}
