import { execFile } from 'node:child_process';
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { commitBody, writeObject } from './git-objects';
import {
  COMMIT_SHA,
  commitMessage,
  git,
  gitArgs,
  gitEnv,
  HistoryError,
  projectHistoryDir,
  type CommitAuthor,
  type JobToCommit,
} from './history';

// Undoing a job: git revert's semantics on the project history, without a work tree. The inverse
// of the job's commit C is applied to the commit the workspace stands on (ours) by a three-way
// merge whose base is C and whose "theirs" is C's parent: what C changed is taken back, what came
// after it stays, and where both touched the same lines it is a conflict. `git merge-tree
// --write-tree` does the merge in the object store alone (git 2.38+), so nothing is written to the
// workspace until the result is known to be clean. Git 2.39 (Debian 12) has no --merge-base, so
// the base is made to be C: "theirs" is a commit with C's parent's tree whose parent is C, and C is
// an ancestor of ours, so C is their merge base.

const execFileAsync = promisify(execFile);
const MERGE_TIMEOUT_MS = 120_000;
const OUTPUT_MAX_BYTES = 4 * 1024 * 1024;

export type RevertPlan =
  /** The tree the workspace should hold (`unchanged`: it already does: nothing left to undo). */
  | { kind: 'clean'; tree: string; unchanged: boolean }
  /** The inverse does not apply: these paths were changed since in ways that overlap it. */
  | { kind: 'conflict'; files: string[] }
  /** The history cannot say (no such commit, or it is not below the state the workspace stands on). */
  | { kind: 'not_applicable'; reason: string };

const hasHistory = (gitDir: string) => lstatSync(path.join(gitDir, 'HEAD'), { throwIfNoEntry: false }) !== undefined;

/** The tree id of a commit, null when there is no such commit. */
async function treeOf(gitDir: string, commit: string): Promise<string | null> {
  try {
    return (await git(gitDir, null, ['rev-parse', '--verify', '--quiet', `${commit}^{tree}`])).trim() || null;
  } catch (err) {
    if (err instanceof HistoryError && /git is not installed/.test(err.message)) throw err;
    return null;
  }
}

/** The parents of a commit (git's own reading: the commit may be packed, in a repository packed by hand). */
async function parentsOf(gitDir: string, commit: string): Promise<string[]> {
  const line = (await git(gitDir, null, ['rev-list', '--parents', '-n', '1', commit, '--'])).trim();
  return line.split(' ').slice(1);
}

async function isAncestor(gitDir: string, ancestor: string, of: string): Promise<boolean> {
  try {
    await git(gitDir, null, ['merge-base', '--is-ancestor', ancestor, of]);
    return true;
  } catch (err) {
    if (err instanceof HistoryError && /git is not installed/.test(err.message)) throw err;
    return false;
  }
}

/**
 * What undoing `commit` on top of `onto` gives (neither the workspace nor the branch is touched;
 * the merged tree's objects are written to the history's object store). The caller holds the
 * project's lock.
 */
export async function planRevert(args: {
  workspaceRoot: string;
  projectId: string;
  /** The commit of the job to undo. */
  commit: string;
  /** The commit the workspace stands on (the project's last finished job's, or the import). */
  onto: string;
  author: CommitAuthor;
}): Promise<RevertPlan> {
  const { commit, onto } = args;
  const gitDir = projectHistoryDir(args.workspaceRoot, args.projectId);
  if (!COMMIT_SHA.test(commit) || !COMMIT_SHA.test(onto) || !hasHistory(gitDir))
    return { kind: 'not_applicable', reason: 'the project history does not have the job’s commit' };
  const ontoTree = await treeOf(gitDir, onto);
  if (!(await treeOf(gitDir, commit)) || !ontoTree)
    return { kind: 'not_applicable', reason: `commit ${commit.slice(0, 12)} is not in the project history` };
  if (!(await isAncestor(gitDir, commit, onto)))
    return {
      kind: 'not_applicable',
      reason: `commit ${commit.slice(0, 12)} is not in the history the workspace stands on (${onto.slice(0, 12)})`,
    };
  const [parent] = await parentsOf(gitDir, commit);
  // A project's first commit undone: back to no files at all (the empty tree, stored so git finds it).
  const inverseTree = parent ? await treeOf(gitDir, parent) : await writeObject(gitDir, 'tree', Buffer.alloc(0));
  if (!inverseTree) return { kind: 'not_applicable', reason: `the parent of ${commit.slice(0, 12)} is missing` };
  const when = Math.floor(Date.now() / 1000);
  const signature = { ...args.author, when };
  const theirs = await writeObject(
    gitDir,
    'commit',
    commitBody({
      tree: inverseTree,
      parents: [commit],
      author: signature,
      committer: signature,
      message: `inverse of ${commit}\n`,
    }),
  );

  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      'git',
      gitArgs(gitDir, null, ['merge-tree', '--write-tree', '--name-only', '--no-messages', '-z', onto, theirs]),
      { env: gitEnv(), cwd: gitDir, timeout: MERGE_TIMEOUT_MS, maxBuffer: OUTPUT_MAX_BYTES, encoding: 'utf8' },
    ));
  } catch (err) {
    const e = err as Error & { code?: unknown; stdout?: string; stderr?: string };
    // Exit status 1: the merge has conflicts; the output names them after the tree id.
    if (e.code !== 1 || typeof e.stdout !== 'string') {
      const detail = (e.stderr ?? '').trim().split('\n').filter(Boolean).at(-1) ?? e.message;
      throw new HistoryError(`git merge-tree failed: ${detail}`, { cause: err });
    }
    const [, ...names] = e.stdout.split('\0').filter(Boolean);
    return { kind: 'conflict', files: [...new Set(names)].sort() };
  }
  const tree = stdout.split('\0')[0]!.trim();
  if (!/^[0-9a-f]{40}$/.test(tree)) throw new HistoryError(`git merge-tree printed no tree id: ${tree.slice(0, 80)}`);
  return { kind: 'clean', tree, unchanged: tree === ontoTree };
}

/**
 * Writes the revert job's commit: `tree` on top of `parent`, the job's message (Job-Id trailer).
 * The branch is not moved: restoring the workspace to the commit does that (restoreWorkspace).
 */
export async function writeRevertCommit(args: {
  workspaceRoot: string;
  projectId: string;
  tree: string;
  parent: string;
  job: JobToCommit;
  author: CommitAuthor;
}): Promise<string> {
  const gitDir = projectHistoryDir(args.workspaceRoot, args.projectId);
  const signature = { ...args.author, when: Math.floor(Date.now() / 1000) };
  return writeObject(
    gitDir,
    'commit',
    commitBody({
      tree: args.tree,
      parents: [args.parent],
      author: signature,
      committer: signature,
      message: commitMessage(args.job),
    }),
  );
}
