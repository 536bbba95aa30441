import type { Config } from '@cwo/config';
import type { WorkerRequest } from '@cwo/contracts';
import {
  diffSnapshots,
  planRevert,
  restoreWorkspace,
  takeSnapshot,
  writeRevertCommit,
  type Snapshot,
} from '@cwo/history';
import type { RecordedWorkspace, RunnableJob } from '@cwo/jobs';
import type { ExecutedJob } from './execute-job';
import type { Executor } from './executors/types';
import { InfrastructureError } from './executors/types';
import { abortReasonOf, RunnerStopping } from './job-abort';
import type { JobLog } from './job-log';
import { outcomeWithoutRun, type JobOutcome } from './outcome';
import { prepareWorkspace } from './prepare-workspace';

// A job of type `revert` (POST …/jobs/{jobId}/revert): the inverse of an earlier job's commit,
// applied three-way on top of the commit the workspace stands on (planRevert in @cwo/history), in
// place of the agent. Its turn, lock, attempts, log, commit and outcome are every job's. The merge
// is done in the history's object store first: a conflict ends the job in error (revert_conflict,
// the files named) before anything in the workspace has changed; a clean result is written by
// restoreWorkspace (no link followed, each file renamed into place), and the processor commits it.

export interface RevertContext {
  config: Pick<Config, 'workspaceRoot' | 'HISTORY_IGNORE' | 'GIT_AUTHOR_NAME' | 'GIT_AUTHOR_EMAIL'>;
  executor: Executor;
  job: RunnableJob;
  workspace: string;
  request: WorkerRequest;
  attempt: number;
  log: JobLog;
  signal: AbortSignal;
  /** What the workspace should hold as the job starts (the project's last finished job's commit). */
  recorded: RecordedWorkspace;
  /** Puts the workspace back to `recorded` given its snapshot; true when that changed anything. */
  restore: (snapshot: Snapshot) => Promise<boolean>;
  /** Throws unless the project's lock is still this attempt's (see the processor). */
  ensureLockFresh: (before: string) => void;
  statIndex: () => Snapshot | null;
}

const listed = (paths: string[]) =>
  paths.length > 20 ? `${paths.slice(0, 20).join(', ')} and ${paths.length - 20} more` : paths.join(', ');

export async function runRevertStep(ctx: RevertContext): Promise<ExecutedJob> {
  const { job, workspace, log, config } = ctx;
  const target = job.reverts;
  const failed = (code: 'revert_failed' | 'revert_conflict', message: string, after: Snapshot | null): ExecutedJob => {
    log.step(message);
    return {
      outcome: { ...outcomeWithoutRun('error', null, [message], code), attempt: ctx.attempt },
      after,
      diskFull: false,
    };
  };
  if (!target) return failed('revert_failed', 'revert: the job names no job to undo', null);

  prepareWorkspace(workspace, ctx.request, (m) => log.step(m));
  // Nothing an earlier run left may write in the workspace once it is checked.
  await ctx.executor.stopEarlierRuns?.({ request: ctx.request, log: (line) => log.agent(line) });
  const opts = { ignore: config.HISTORY_IGNORE };
  let before = await takeSnapshot(workspace, { ...opts, previous: ctx.statIndex() });
  if (await ctx.restore(before)) before = await takeSnapshot(workspace, { ...opts, previous: before });

  const { recorded } = ctx;
  if (!target.commit)
    return failed('revert_failed', `revert: job ${target.jobId} has no commit in the project history`, before);
  if (recorded.kind !== 'commit')
    return failed(
      'revert_failed',
      recorded.kind === 'unknown'
        ? `revert: the project history does not hold the workspace’s state (job ${recorded.jobId} changed files without a commit)`
        : 'revert: nothing has run before this job',
      before,
    );
  log.step(
    `revert: undoing job ${target.jobId} (commit ${target.commit.slice(0, 12)}) on ${recorded.sha.slice(0, 12)}`,
  );
  const author = { name: config.GIT_AUTHOR_NAME, email: config.GIT_AUTHOR_EMAIL };
  const plan = await planRevert({
    workspaceRoot: config.workspaceRoot,
    projectId: job.projectId,
    commit: target.commit,
    onto: recorded.sha,
    author,
  });
  if (plan.kind === 'not_applicable') return failed('revert_failed', `revert: ${plan.reason}`, before);
  if (plan.kind === 'conflict')
    return failed(
      'revert_conflict',
      `revert: the changes of job ${target.jobId} conflict with later changes in ${listed(plan.files)}; ` +
        'nothing was changed',
      before,
    );
  const done = (summary: string, after: Snapshot, files = diffSnapshots(before, after)): ExecutedJob => {
    log.step(`revert: ${summary}`);
    const outcome: JobOutcome = {
      ...outcomeWithoutRun('completed', summary, [], null),
      attempt: ctx.attempt,
      created_files: files.created,
      modified_files: files.modified,
      deleted_files: files.deleted,
    };
    return { outcome, after, diskFull: false };
  };
  if (plan.unchanged) return done(`Nothing to undo: the changes of job ${target.jobId} are no longer there.`, before);

  const reason = abortReasonOf(ctx.signal);
  if (reason === 'shutdown') throw new RunnerStopping();
  if (reason === 'lock_lost') throw new InfrastructureError('the project lock was lost before the revert was applied');
  if (reason === 'cancel') {
    log.step('stopped: cancelled on request');
    return {
      outcome: { ...outcomeWithoutRun('cancelled', 'Cancelled on request.', [], 'cancelled'), attempt: ctx.attempt },
      after: before,
      diskFull: false,
    };
  }
  const commit = await writeRevertCommit({
    workspaceRoot: config.workspaceRoot,
    projectId: job.projectId,
    tree: plan.tree,
    parent: recorded.sha,
    job: { id: job.id, jobType: job.jobType, instruction: job.instruction },
    author,
  });
  ctx.ensureLockFresh('the revert was written to the workspace');
  await restoreWorkspace({
    workspaceRoot: config.workspaceRoot,
    projectId: job.projectId,
    workspace,
    commit,
    snapshot: before,
    ignore: config.HISTORY_IGNORE,
  });
  const after = await takeSnapshot(workspace, { ...opts, previous: before });
  const files = diffSnapshots(before, after);
  const count = files.created.length + files.modified.length + files.deleted.length;
  return done(`Undid job ${target.jobId}: ${count} file${count === 1 ? '' : 's'} changed back.`, after, files);
}
