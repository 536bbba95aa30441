import { runOnThread, stopThreads, taskModule } from '@cwo/workspace';
import { commitJob, HistoryError } from './history';

// Job commits run on the process's worker threads (@cwo/workspace's thread pool). A commit is
// synchronous file work (small objects are written inline, see git-objects.ts): a project's first
// commit of a large workspace writes every file as a blob, which on the runner's own thread would
// hold its event loop (lock renewals, cancels, the other jobs' logs) for as long. On a thread of
// its own it also runs beside the other jobs' work: on these machines file creation is mostly
// kernel time, spread this way over both cores. Commits of one project never overlap (the runner
// holds the project's lock), so any thread may take any commit.

const COMMIT_TASK = taskModule(__dirname, 'commit-task');

/** commitJob (history.ts) on a worker thread. */
export async function commitJobOffThread(args: Parameters<typeof commitJob>[0]): Promise<string> {
  let answer: { sha: string } | { error: { name: string; message: string } };
  try {
    // A Map's own properties do not survive the copy to the thread: the snapshot's time goes beside it.
    answer = await runOnThread(COMMIT_TASK, 'commit', { args, takenAtNs: args.snapshot?.takenAtNs });
  } catch (err) {
    throw new HistoryError(`the history thread stopped: ${(err as Error).message}`, { cause: err });
  }
  if ('sha' in answer) return answer.sha;
  throw answer.error.name === 'HistoryError' ? new HistoryError(answer.error.message) : new Error(answer.error.message);
}

let users = 0;

/**
 * Marks a user of the threads (a runner, from start to stop): the returned function releases it,
 * and the last release ends the threads, so that a stopped runner leaves none behind. Calls made
 * without this start them too; idle, they never hold the process open.
 */
export function useHistoryThreads(): () => Promise<void> {
  users++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--users === 0) await stopHistoryThreads();
  };
}

/** Ends the threads; a commit still on one fails with HistoryError. The next call starts anew. */
export const stopHistoryThreads = stopThreads;
