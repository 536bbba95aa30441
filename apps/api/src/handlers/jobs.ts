import type { JobCreate, JobList } from '@cwo/contracts';
import {
  cancelJob as cancel,
  createJob as create,
  createRevertJob,
  listJobs,
  queuePosition,
  toJobDetail,
  toJobSummary,
} from '@cwo/jobs';
import { conflict, notFound } from '../http/errors';
import { json, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import { enqueue, publishCancel, removeQueuedJob } from '../redis-actions';
import { activeJobLimitReached, queueUnavailable, requireJob, requireProject } from './lookups';

/**
 * POST …/jobs: a new queued job, enqueued; 202 at once, or 503 with the row left queued. 429 when
 * the caller has MAX_ACTIVE_JOBS_PER_USER jobs queued or running already; 409 for a second
 * initial_project job.
 */
export async function createJob({ deps, params, body, principal }: RequestContext<JobCreate>): Promise<Reply> {
  // The insert checks the project is the caller's: no separate lookup.
  const created = await create(
    deps.db,
    principal.userId,
    params.projectId!,
    body,
    deps.config.MAX_ACTIVE_JOBS_PER_USER,
  );
  switch (created.kind) {
    case 'project_not_found':
      throw notFound('Project not found');
    case 'active_job_limit':
      throw activeJobLimitReached(created.limit);
    case 'initial_job_exists':
      throw conflict(
        `This project already has its initial job (${created.initialJobId}); a project has exactly one. ` +
          'Send job_type "edit" to change its workspace, or create a new project.',
      );
  }
  if (!(await enqueue(deps, created.job.id))) throw queueUnavailable({ job_id: created.job.id });
  return json(202, toJobSummary(created.job));
}

export async function listProjectJobs({ deps, params, principal }: RequestContext): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const list: JobList = { items: (await listJobs(deps.db, principal.userId, project.id)).map(toJobSummary) };
  return json(200, list);
}

export async function getJob({ deps, params, principal }: RequestContext): Promise<Reply> {
  const job = await requireJob(deps, principal.userId, params.projectId!, params.jobId!);
  return json(200, toJobDetail(job, await queuePosition(deps.db, job)));
}

/**
 * POST …/jobs/{jobId}/cancel. A queued job is cancelled at once (200). A running one gets a cancel
 * request that the runner holding it acts on within seconds (202; poll the job for the outcome).
 * A finished job cannot be cancelled (409).
 */
export async function cancelJob({ deps, params, principal }: RequestContext): Promise<Reply> {
  const result = await cancel(deps.db, principal.userId, params.projectId!, params.jobId!);
  switch (result.kind) {
    case 'not_found':
      // Says which one is missing.
      await requireProject(deps, principal.userId, params.projectId!);
      throw notFound('Job not found');
    case 'already_finished':
      throw conflict(`Job already finished (status ${result.job.status})`);
    case 'cancelled':
      await removeQueuedJob(deps, result.job.id);
      return json(200, toJobDetail(result.job));
    case 'cancelling':
      await publishCancel(deps, result.job.id);
      return json(202, toJobDetail(result.job));
  }
}

/**
 * POST …/jobs/{jobId}/revert: a queued job of type `revert` that undoes that job's changes on top
 * of the project's state when its turn comes (the runner does it: the API never writes the
 * workspace). 404 for a job not in the project; 409 for a job not finished yet, or one that
 * changed nothing (or kept no commit of what it changed).
 */
export async function revertJob({ deps, params, principal }: RequestContext): Promise<Reply> {
  const created = await createRevertJob(
    deps.db,
    principal.userId,
    params.projectId!,
    params.jobId!,
    deps.config.MAX_ACTIVE_JOBS_PER_USER,
  );
  switch (created.kind) {
    case 'project_not_found':
      throw notFound('Project not found');
    case 'job_not_found':
      throw notFound('Job not found');
    case 'active_job_limit':
      throw activeJobLimitReached(created.limit);
    case 'job_unfinished':
      throw conflict(
        `The job has not finished (status ${created.status}): only a finished job can be undone; wait for it, or cancel it`,
      );
    case 'job_unchanged':
      throw conflict(
        `The job changed nothing that the project history kept (status ${created.status}): there is nothing to undo`,
      );
    case 'already_reverted':
      throw conflict(
        `The job is undone once: job ${created.revertJobId} undoes it already (status ${created.status})` +
          (created.status === 'completed' ? '; to bring its changes back, undo that job' : ''),
      );
  }
  if (!(await enqueue(deps, created.job.id))) throw queueUnavailable({ job_id: created.job.id });
  return json(202, toJobSummary(created.job));
}
