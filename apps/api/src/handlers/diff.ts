import { openCommitDiff } from '@cwo/history';
import { notFound } from '../http/errors';
import { stream, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import { noCommit, requireJob } from './lookups';

/**
 * GET …/jobs/{jobId}/diff: the unified diff of the job's commit in the project history (the runner
 * commits after every job it ran; a project's first job against the empty tree), as text/plain,
 * streamed. 404 while the job has no commit (queued, running, cancelled before it ran).
 */
export async function readJobDiff({ deps, params, signal, principal }: RequestContext): Promise<Reply> {
  const job = await requireJob(deps, principal.userId, params.projectId!, params.jobId!);
  if (!job.commitSha) throw noCommit(job);
  const diff = await openCommitDiff({
    workspaceRoot: deps.config.workspaceRoot,
    projectId: job.projectId,
    sha: job.commitSha,
    signal,
  });
  if (!diff) throw notFound('The job’s commit is missing from the project history');
  return stream(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Commit': job.commitSha }, diff);
}
