import { lstatSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { COMMIT_SHA, git, gitOutputStream, HISTORY_BRANCH, HistoryError, projectHistoryDir } from './history';

// Taking a project's history out: the tree a commit holds as an archive, and the whole history as
// a git bundle. Both are git's own writers (`git archive`, `git bundle`): the history is a git
// repository, and they write exactly what it holds.

const hasHistory = (gitDir: string) => lstatSync(path.join(gitDir, 'HEAD'), { throwIfNoEntry: false }) !== undefined;

async function hasCommit(gitDir: string, sha: string): Promise<boolean> {
  try {
    await git(gitDir, null, ['cat-file', '-e', `${sha}^{commit}`]);
    return true;
  } catch (err) {
    if (err instanceof HistoryError && /git is not installed/.test(err.message)) throw err;
    return false;
  }
}

/**
 * The files of a commit (`.codex/` is never in the history) as a tar.gz or zip stream under
 * `prefix/`; null when the project has no history or no such commit.
 */
export async function openTreeArchive(args: {
  workspaceRoot: string;
  projectId: string;
  sha: string;
  format: 'tar.gz' | 'zip';
  prefix: string;
  signal?: AbortSignal;
}): Promise<Readable | null> {
  if (!COMMIT_SHA.test(args.sha)) return null;
  const gitDir = projectHistoryDir(args.workspaceRoot, args.projectId);
  if (!hasHistory(gitDir) || !(await hasCommit(gitDir, args.sha))) return null;
  return gitOutputStream(
    gitDir,
    // -c tar.tar.gz.command is not needed: git ≥ 2.38 gzips tar.gz itself.
    ['archive', `--format=${args.format}`, `--prefix=${args.prefix}/`, args.sha],
    args.signal,
  );
}

/**
 * The project's whole history (its branch, every commit) as a git bundle: `git clone
 * project.bundle` makes a repository of it. Null when the project has no history yet.
 */
export async function openHistoryBundle(args: {
  workspaceRoot: string;
  projectId: string;
  signal?: AbortSignal;
}): Promise<Readable | null> {
  const gitDir = projectHistoryDir(args.workspaceRoot, args.projectId);
  if (!hasHistory(gitDir)) return null;
  try {
    await git(gitDir, null, ['rev-parse', '--verify', '--quiet', `refs/heads/${HISTORY_BRANCH}`]);
  } catch (err) {
    if (err instanceof HistoryError && /git is not installed/.test(err.message)) throw err;
    return null; // no commit yet
  }
  // HEAD too, so that `git clone` checks the branch out.
  return gitOutputStream(
    gitDir,
    ['bundle', 'create', '--quiet', '-', 'HEAD', `refs/heads/${HISTORY_BRANCH}`],
    args.signal,
  );
}
