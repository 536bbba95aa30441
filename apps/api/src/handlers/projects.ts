import { randomUUID } from 'node:crypto';
import type { ProjectCreate, ProjectCreated, ProjectDetail, ProjectList, ProjectListQuery } from '@cwo/contracts';
import {
  deleteProjectCancellingJobs,
  findProjectWithJobs,
  insertProjectWithInitialJob,
  listProjects,
} from '../data/projects';
import { notFound } from '../http/errors';
import { empty, json, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import { enqueueOr503, publishCancel, removeQueuedJob } from '../redis-actions';
import { toJobSummary, toProjectSummary } from '../serialize';
import { createWorkspaceDir, removeHistoryDir, removeWorkspaceDir, workspaceOf } from '../workspace-dirs';
import { requireProject, withinActiveJobCap } from './lookups';

/**
 * POST /projects: the project (the caller's) and its initial job are written in one transaction
 * (429 when the caller has MAX_ACTIVE_JOBS_PER_USER jobs queued or running already), the workspace
 * directory created, the job enqueued; 202 at once (the runner does the work). If Redis is down
 * the answer is 503 naming the saved project and job, which stay queued for the reconciler.
 */
export async function createProject({ deps, body, principal }: RequestContext<ProjectCreate>): Promise<Reply> {
  const id = randomUUID();
  const workspacePath = workspaceOf(deps.config, id);
  const { project, job } = await withinActiveJobCap(() =>
    insertProjectWithInitialJob(
      deps.db,
      { id, ownerId: principal.userId, instruction: body.instruction, workspacePath },
      deps.config.MAX_ACTIVE_JOBS_PER_USER,
    ),
  );
  await createWorkspaceDir(workspacePath);
  await enqueueOr503(deps, job.id, { project_id: project.id, job_id: job.id });
  const created: ProjectCreated = { ...toProjectSummary(project), job: toJobSummary(job) };
  return json(202, created);
}

/** GET /projects: the caller's projects only. */
export async function listAllProjects({
  deps,
  query,
  principal,
}: RequestContext<unknown, ProjectListQuery>): Promise<Reply> {
  const { items, total } = await listProjects(deps.db, principal.userId, query);
  const list: ProjectList = { items: items.map(toProjectSummary), total, limit: query.limit, offset: query.offset };
  return json(200, list);
}

export async function getProject({ deps, params, principal }: RequestContext): Promise<Reply> {
  const project = await findProjectWithJobs(deps.db, principal.userId, params.projectId!);
  if (!project) throw notFound('Project not found');
  const detail: ProjectDetail = { ...toProjectSummary(project), jobs: project.jobs.map(toJobSummary) };
  return json(200, detail);
}

/**
 * DELETE /projects/{id}: unfinished jobs are cancelled (running ones told to stop, queued ones
 * taken off the queue), the rows deleted, the workspace removed; 204.
 */
export async function deleteProject({ deps, params, principal }: RequestContext): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const stopped = await deleteProjectCancellingJobs(deps.db, principal.userId, project.id);
  if (!stopped) throw notFound('Project not found');
  await Promise.all(
    stopped.map((job) => (job.status === 'in_progress' ? publishCancel(deps, job.id) : removeQueuedJob(deps, job.id))),
  );
  await removeWorkspaceDir(workspaceOf(deps.config, project.id), deps.logger);
  await removeHistoryDir(deps.config, project.id, deps.logger);
  deps.logger.info('project deleted', { project_id: project.id, cancelled_jobs: stopped.length });
  return empty(204);
}
