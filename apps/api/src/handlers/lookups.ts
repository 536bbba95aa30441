import type { Job, Project } from '@cwo/db';
import type { AppDeps } from '../deps';
import { ActiveJobLimitError } from '../data/active-jobs';
import { findJob } from '../data/jobs';
import { findProject } from '../data/projects';
import { notFound, tooManyRequests } from '../http/errors';

// The 404s every nested route shares, with the seed's detail texts. Lookups are scoped by the
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
export const ACTIVE_JOBS_RETRY_AFTER_SECONDS = 10;

/** Runs a creation, turning the active-job cap into a 429 that names it. */
export async function withinActiveJobCap<T>(create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (!(err instanceof ActiveJobLimitError)) throw err;
    throw tooManyRequests(
      `Active job limit reached: at most ${err.limit} jobs may be queued or in_progress at once per user; ` +
        'wait for one to finish, or cancel one',
      ACTIVE_JOBS_RETRY_AFTER_SECONDS,
    );
  }
}
