import type { RecordedWorkspace } from '@cwo/jobs';
import { HistoryError, restoreWorkspace, type Snapshot } from '@cwo/history';

// The workspace as the project's history recorded it, before every attempt (and after a job that
// failed for lack of space): an earlier attempt cut short (its runner killed, frozen past its
// lock, or cut off from the container engine) may have applied its edit before it stopped, and the
// run that follows must not apply it a second time on top. Before every attempt, not only retries:
// the job before may have been given up on, or failed on its last attempt, half-way. The usual
// case costs one comparison of tree ids on the snapshot the attempt takes anyway.
//
// Nothing is restored when the history does not hold the workspace's state (a job changed files
// without a commit), and a history that lacks the commit is reported, not fatal: the history is a
// record, and without it the job runs on the workspace as it is, as it always did.

/**
 * Restores the workspace to `recorded`: 'restored' when that changed anything, 'unchanged' when it
 * already was, 'unchecked' when the history could not say. Log lines go to `log`.
 */
export async function restoreRecordedWorkspace(args: {
  workspaceRoot: string;
  projectId: string;
  workspace: string;
  recorded: RecordedWorkspace;
  /** The workspace as it is now (taken here when not given). */
  snapshot?: Snapshot;
  /** HISTORY_IGNORE (left alone, as the history leaves it out). */
  ignore: readonly string[];
  log: (line: string) => void;
}): Promise<'restored' | 'unchanged' | 'unchecked'> {
  const { recorded, log } = args;
  if (recorded.kind === 'unknown') {
    log(`workspace not checked against the history: job ${recorded.jobId} changed files but has no commit`);
    return 'unchecked';
  }
  const commit = recorded.kind === 'commit' ? recorded.sha : null;
  const what =
    recorded.kind === 'commit'
      ? `commit ${recorded.sha.slice(0, 12)} (${recorded.jobId ? `job ${recorded.jobId}` : 'the import'})`
      : 'no files (nothing ran before)';
  const started = performance.now();
  let result;
  try {
    result = await restoreWorkspace({
      workspaceRoot: args.workspaceRoot,
      projectId: args.projectId,
      workspace: args.workspace,
      commit,
      snapshot: args.snapshot,
      ignore: args.ignore,
    });
  } catch (err) {
    if (!(err instanceof HistoryError)) throw err;
    log(`workspace not checked against the history: ${err.message}`);
    return 'unchecked';
  }
  if (result.changed) {
    const listed = (paths: string[]) =>
      paths.length > 10 ? `${paths.slice(0, 10).join(', ')} and ${paths.length - 10} more` : paths.join(', ');
    log(
      `restored the workspace to ${what}, undoing what an unfinished attempt left ` +
        `(${Math.round(performance.now() - started)} ms): ` +
        [
          result.written.length ? `${result.written.length} written back (${listed(result.written)})` : '',
          result.removed.length ? `${result.removed.length} removed (${listed(result.removed)})` : '',
        ]
          .filter(Boolean)
          .join('; '),
    );
  }
  if (result.branchReset) log(`history: the branch moved back to ${commit ? commit.slice(0, 12) : 'no commit'}`);
  return result.changed ? 'restored' : 'unchanged';
}
