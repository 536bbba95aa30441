import { randomUUID } from 'node:crypto';
import { removeImportFiles } from '@cwo/code-io';
import type {
  ProjectCreate,
  ProjectCreated,
  ProjectDetail,
  ProjectList,
  ProjectListQuery,
  ProjectSource,
  ProjectSummary,
  ProjectUpdate,
} from '@cwo/contracts';
import {
  createProjectWithInitialJob,
  deleteProject as remove,
  findProjectWithJobs,
  listProjects,
  toJobSummary,
  toProjectSummary,
  updateProjectDefaults,
} from '@cwo/jobs';
import { notFound } from '../http/errors';
import { empty, json, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import { enqueue, stopJobs } from '../redis-actions';
import { createWorkspaceDir, removeProjectFiles, workspaceOf } from '../workspace-dirs';
import { activeJobLimitReached, queueUnavailable } from './lookups';
import { prepareGitSource, receiveUpload } from './project-sources';

/**
 * POST /projects: the project (the caller's) and its initial job are written in one statement
 * (429 when the caller has MAX_ACTIVE_JOBS_PER_USER jobs queued or running already), the workspace
 * directory created, the job enqueued; 202 at once (the runner does the work). If Redis is down
 * the answer is 503 naming the saved project and job, which stay queued for the reconciler.
 *
 * With a source (docs/code-io.md): `source.git` in JSON is checked here (422 when its URL or
 * address is refused), an archive upload (multipart/form-data, or the raw body) is received into
 * the project's import directory (413 past MAX_IMPORT_BYTES); the runner brings either in as the
 * initial job's first step. Nothing of an import is kept when the creation fails.
 */
export async function createProject(ctx: RequestContext<ProjectCreate | undefined>): Promise<Reply> {
  const { deps, principal } = ctx;
  const id = randomUUID();
  const workspacePath = workspaceOf(deps.config, id);
  let created;
  try {
    let instruction: string;
    let source: ProjectSource | undefined;
    if (ctx.upload) {
      // The raw body's instruction comes in the query (unvalidated here: receiveUpload checks it).
      const { instruction: asked } = (ctx.query ?? {}) as Record<string, unknown>;
      ({ instruction, source } = await receiveUpload(deps, id, ctx.upload, asked));
    } else {
      const body = ctx.body!;
      instruction = body.instruction;
      if (body.source) source = await prepareGitSource(deps, id, body.source.git);
    }
    created = await createProjectWithInitialJob(
      deps.db,
      {
        id,
        ownerId: principal.userId,
        instruction,
        workspacePath,
        checks: ctx.body?.checks,
        fixAttempts: ctx.body?.fix_attempts,
        source,
      },
      deps.config.MAX_ACTIVE_JOBS_PER_USER,
    );
    if (created.kind === 'active_job_limit') throw activeJobLimitReached(created.limit);
  } catch (err) {
    removeImportFiles(deps.config.workspaceRoot, id);
    throw err;
  }
  const { project, job } = created;
  await createWorkspaceDir(workspacePath);
  if (!(await enqueue(deps, job.id))) throw queueUnavailable({ project_id: project.id, job_id: job.id });
  const answer: ProjectCreated = { ...toProjectSummary(project), job: toJobSummary(job) };
  return json(202, answer);
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
  const detail: ProjectDetail = {
    ...toProjectSummary(project),
    jobs: project.jobs.map(toJobSummary),
    preview_url: deps.previews.linkFor(project.id).url,
  };
  return json(200, detail);
}

/**
 * PATCH /projects/{id}: the project's default checks and fix attempts, for the jobs made from now
 * on (docs/checks.md); a job already made keeps its own. 200 with the project as it now is.
 */
export async function updateProject({ deps, params, principal, body }: RequestContext<ProjectUpdate>): Promise<Reply> {
  const project = await updateProjectDefaults(deps.db, principal.userId, params.projectId!, {
    checks: body.checks,
    fixAttempts: body.fix_attempts,
  });
  if (!project) throw notFound('Project not found');
  const summary: ProjectSummary = toProjectSummary(project);
  return json(200, summary);
}

/**
 * DELETE /projects/{id}: the rows deleted, the jobs that were unfinished stopped (running ones
 * told to stop, queued ones taken off the queue), the workspace and history removed; 204.
 */
export async function deleteProject({ deps, params, principal }: RequestContext): Promise<Reply> {
  const deleted = await remove(deps.db, principal.userId, params.projectId!);
  if (deleted.kind === 'not_found') throw notFound('Project not found');
  await stopJobs(deps, deleted.stopped);
  await deps.runningPreviews?.stop(params.projectId!, 'the project was deleted').catch((err: Error) => {
    deps.logger.warn('could not stop a deleted project’s preview', {
      project_id: params.projectId,
      error: err.message,
    });
  });
  await removeProjectFiles(deps, params.projectId!);
  deps.logger.info('project deleted', { project_id: params.projectId, cancelled_jobs: deleted.stopped.length });
  return empty(204);
}
