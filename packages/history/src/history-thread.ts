import { runOnThread, stopThreads, taskModule, CODEX_DIR } from '@cwo/workspace';
import { commitJob, commitPlanned, HistoryError, projectHistoryDir, type PlannedCommit } from './history';
import { planSnapshotTree, type TreePlan } from './history-tree';
import { deviceOf, rememberStatIndex, serializeStatIndex } from './stat-index';
import fs from 'node:fs';
import path from 'node:path';

// Job commits run on the process's worker threads (@cwo/workspace's thread pool). A commit is
// synchronous file work (small objects are written inline, see git-objects.ts): a project's first
// commit of a large workspace writes every file as a blob, which on the runner's own thread would
// hold its event loop (lock renewals, cancels, the other jobs' logs) for as long. On a thread of
// its own it also runs beside the other jobs' work: on these machines file creation is mostly
// kernel time, spread this way over both cores. Commits of one project never overlap (the runner
// holds the project's lock), so any thread may take any commit.
//
// With the runner's snapshot, the tree is planned here (hashed in memory, reusing the trees of
// unchanged directories: history-tree.ts) and the thread is handed only what it must write: the
// new blobs' paths, the new trees' bodies and the stat index's bytes. Copying a snapshot of
// 20,000 entries to a thread cost more than the whole commit of a one-line edit.

const COMMIT_TASK = taskModule(__dirname, 'commit-task');

// A plan this small (a few edited files) is written on the calling thread: its writes take about
// a millisecond, less than handing it to a thread and back (the index's bytes copied, the thread
// woken, both sides scheduled on a busy machine).
const INLINE_BLOBS = 16;
const INLINE_BYTES = 256 * 1024;

/** Whether a planned commit is worth a thread: more files or bytes to store than INLINE_*. */
export function plannedOnThread(plan: Pick<TreePlan, 'blobs'>): boolean {
  if (plan.blobs.length > INLINE_BLOBS) return true;
  let bytes = 0;
  for (const { entry } of plan.blobs) bytes += entry.size;
  return bytes > INLINE_BYTES;
}

type Answer<T> = T | { error: { name: string; message: string } };

async function onThread<T>(fn: string, arg: unknown): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await runOnThread<Answer<T>>(COMMIT_TASK, fn, arg);
  } catch (err) {
    throw new HistoryError(`the history thread stopped: ${(err as Error).message}`, { cause: err });
  }
  if (answer && typeof answer === 'object' && 'error' in answer) {
    const e = answer.error;
    throw e.name === 'HistoryError' ? new HistoryError(e.message) : new Error(e.message);
  }
  return answer;
}

/** commitJob (history.ts) on a worker thread. */
export async function commitJobOffThread(args: Parameters<typeof commitJob>[0]): Promise<string> {
  const planned = args.snapshot ? await commitPlannedOffThread(args as Required<typeof args>) : null;
  if (planned !== null) return planned;
  // A Map's own properties do not survive the copy to the thread: the snapshot's time goes beside it.
  const answer = await onThread<{ sha: string }>('commit', { args, takenAtNs: args.snapshot?.takenAtNs });
  return answer.sha;
}

/** The planned commit; null when it cannot be (no history yet, or a file changed since the snapshot). */
async function commitPlannedOffThread(args: Required<Parameters<typeof commitJob>[0]>): Promise<string | null> {
  const { snapshot, workspace } = args;
  const gitDir = projectHistoryDir(args.workspaceRoot, args.projectId);
  const dev = deviceOf(workspace);
  if (dev === null || !fs.existsSync(path.join(gitDir, 'HEAD'))) return null;
  const plan = await planSnapshotTree(gitDir, workspace, snapshot, [CODEX_DIR], args.ignore);
  // The index is written with the commit: as the commit leaves them, once it is written.
  const marks = [...plan.blobs.map((b) => b.entry), ...plan.dirs];
  const was = marks.map((m) => m.stored);
  for (const m of marks) m.stored = true;
  let answer: { sha: string; indexSaved: boolean } | 'stale';
  const index = serializeStatIndex(snapshot, dev);
  try {
    const p: PlannedCommit = {
      gitDir,
      workspace,
      job: args.job,
      author: args.author,
      tree: plan.tree,
      blobs: plan.blobs.map(({ rel, entry }) => ({
        rel,
        oid: entry.hash,
        kind: entry.kind,
        executable: entry.executable,
      })),
      trees: plan.trees,
      index,
    };
    answer = plannedOnThread(plan) ? await onThread('planned', p) : await commitPlanned(p);
  } catch (err) {
    marks.forEach((m, i) => (m.stored = was[i]));
    throw err;
  }
  if (answer === 'stale') {
    marks.forEach((m, i) => (m.stored = was[i]));
    return null;
  }
  if (answer.indexSaved && index) rememberStatIndex(gitDir, index, dev, snapshot);
  return answer.sha;
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
