import type { Job, Project } from '@cwo/db';
import type { AppDeps } from '../deps';
import { findJob } from '../data/jobs';
import { findProject } from '../data/projects';
import { notFound } from '../http/errors';

// The 404s every nested route shares, with the seed's detail texts.

export async function requireProject({ db }: Pick<AppDeps, 'db'>, projectId: string): Promise<Project> {
  const project = await findProject(db, projectId);
  if (!project) throw notFound('Project not found');
  return project;
}

export async function requireJob({ db }: Pick<AppDeps, 'db'>, projectId: string, jobId: string): Promise<Job> {
  const job = await findJob(db, projectId, jobId);
  if (!job) {
    // Say which one is missing, as a client would want to know.
    await requireProject({ db }, projectId);
    throw notFound('Job not found');
  }
  return job;
}
