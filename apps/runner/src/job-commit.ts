import type { Config } from '@cwo/config';
import type { Logger } from '@cwo/logger';
import { commitJobOffThread, type Snapshot } from '@cwo/history';
import { describeError } from './describe-error';
import type { JobLog } from './job-log';
import type { RunnableJob } from '@cwo/jobs';

// After a job has run: its changes become one commit in the project history (packages/workspace
// history.ts), which GET …/jobs/{jobId}/diff serves. The history is a record, not the job: a
// failure to commit is logged and leaves the job without a commit; it does not fail the job, and
// it is not worth running the agent again.

export async function commitJobChanges(args: {
  config: Pick<Config, 'workspaceRoot' | 'GIT_AUTHOR_NAME' | 'GIT_AUTHOR_EMAIL' | 'HISTORY_IGNORE'>;
  job: RunnableJob;
  workspace: string;
  log: JobLog;
  logger: Logger;
  /** The workspace as the job left it (see commitJob in @cwo/history). */
  snapshot?: Snapshot;
}): Promise<string | null> {
  const { config, job, workspace, log } = args;
  const started = performance.now();
  try {
    const sha = await commitJobOffThread({
      workspaceRoot: config.workspaceRoot,
      projectId: job.projectId,
      workspace,
      job: { id: job.id, jobType: job.jobType, instruction: job.instruction },
      author: { name: config.GIT_AUTHOR_NAME, email: config.GIT_AUTHOR_EMAIL },
      snapshot: args.snapshot,
      ignore: config.HISTORY_IGNORE,
    });
    log.step(
      `history: committed the job's changes as ${sha.slice(0, 12)} (${Math.round(performance.now() - started)} ms)`,
    );
    return sha;
  } catch (err) {
    const message = describeError(err);
    log.step(`history: could not commit the job's changes, so the job has no diff: ${message}`);
    args.logger.warn('could not commit a job to its project history', {
      jobId: job.id,
      projectId: job.projectId,
      error: message,
    });
    return null;
  }
}
