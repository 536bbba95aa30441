import { isFinished, type JobCreate, type JobList } from '@cwo/contracts';
import type { Job } from '@cwo/db';
import type { AppDeps } from '../deps';
import { cancelQueuedJob, findJobById, insertJob, listJobs, requestRunningJobCancel } from '../data/jobs';
import { conflict, notFound } from '../http/errors';
import { json, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import { enqueueOr503, publishCancel, removeQueuedJob } from '../redis-actions';
import { toJobDetail, toJobSummary } from '../serialize';
import { requireJob, requireProject, withinActiveJobCap } from './lookups';

/**
 * POST …/jobs: a new queued job, enqueued; 202 at once, or 503 with the row left queued. 429 when
 * the caller has MAX_ACTIVE_JOBS_PER_USER jobs queued or running already.
 */
export async function createJob({ deps, params, body, principal }: RequestContext<JobCreate>): Promise<Reply> {
  // The insert checks the project is the caller's (null otherwise): no separate lookup.
  const job = await withinActiveJobCap(() =>
    insertJob(deps.db, principal.userId, params.projectId!, body, deps.config.MAX_ACTIVE_JOBS_PER_USER),
  );
  if (!job) throw notFound('Project not found');
  await enqueueOr503(deps, job.id);
  return json(202, toJobSummary(job));
}

export async function listProjectJobs({ deps, params, principal }: RequestContext): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const list: JobList = { items: (await listJobs(deps.db, principal.userId, project.id)).map(toJobSummary) };
  return json(200, list);
}

export async function getJob({ deps, params, principal }: RequestContext): Promise<Reply> {
  const job = await requireJob(deps, principal.userId, params.projectId!, params.jobId!);
  return json(200, toJobDetail(job));
}

async function reload(deps: Pick<AppDeps, 'db'>, ownerId: string, job: Job): Promise<Job> {
  const fresh = await findJobById(deps.db, ownerId, job.id);
  if (!fresh) throw notFound('Job not found');
  return fresh;
}

/** Attempts before giving up on a job that keeps changing state under us (runner races). */
const CANCEL_ATTEMPTS = 3;

/**
 * POST …/jobs/{jobId}/cancel. A queued job is cancelled at once (200). A running one gets a cancel
 * request that the runner holding it acts on within seconds (202; poll the job for the outcome).
 * A finished job cannot be cancelled (409). A runner may take or requeue the job at the same
 * moment, so each step is a guarded update and a lost race re-reads the job and tries again.
 */
export async function cancelJob({ deps, params, principal }: RequestContext): Promise<Reply> {
  const owner = principal.userId;
  let job = await requireJob(deps, owner, params.projectId!, params.jobId!);
  for (let attempt = 0; attempt < CANCEL_ATTEMPTS; attempt++) {
    if (isFinished(job.status)) throw conflict(`Job already finished (status ${job.status})`);
    if (job.status === 'queued' && (await cancelQueuedJob(deps.db, owner, job))) {
      await removeQueuedJob(deps, job.id);
      return json(200, toJobDetail(await reload(deps, owner, job)));
    }
    if (job.status === 'in_progress' && (await requestRunningJobCancel(deps.db, owner, job.id))) {
      await publishCancel(deps, job.id);
      return json(202, toJobDetail(await reload(deps, owner, job)));
    }
    job = await reload(deps, owner, job);
  }
  throw conflict('Job kept changing state while cancelling; try again');
}
