import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  commitBody,
  parseCommit,
  readLooseCommit,
  writeBlobFromFile,
  writeObject,
  type CommitInfo,
} from './git-objects';
import { writeSnapshotTree, writeWorkspaceTree } from './history-tree';
import type { Snapshot } from './snapshot';
import { overwriteInPlace } from './overwrite';
import { saveStatIndex, writeStatIndex } from './stat-index';
import { CODEX_DIR } from '@cwo/workspace';

// A project's history: a git repository in which the runner commits what each job changed, and
// from which the API serves a job's diff. The runner writes each commit in-process (git-objects.ts,
// history-tree.ts: no child process per job); creating the repository and reading diffs go
// through the `git` CLI (execFile, no shell).
//
// The repository lives OUTSIDE the workspace, under WORKSPACE_ROOT/.runner/history/<projectId>.git,
// with the workspace as its work tree. The agent owns the workspace directory, so it could rename
// a .git kept there (root-owned or not) and plant one of its own whose config (filter drivers,
// fsmonitor, hooks) would run its commands as the runner. No worker container mounts .runner/.
// Every call also runs with a fixed, minimal configuration: no system or global config, no hooks,
// no fsmonitor, no pager, no background gc.

const execFileAsync = promisify(execFile);

/** The branch every project history is on. */
export const HISTORY_BRANCH = 'main';
/** The trailer naming the job a commit belongs to. */
export const JOB_TRAILER = 'Job-Id';
/** A commit id: SHA-1 (40 hex digits) or SHA-256 (64) repositories. */
export const COMMIT_SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

const SUBJECT_MAX_CHARS = 100;
const GIT_TIMEOUT_MS = 120_000;
const OUTPUT_MAX_BYTES = 1024 * 1024;

export interface CommitAuthor {
  name: string;
  email: string;
}

export interface JobToCommit {
  id: string;
  jobType: string;
  instruction: string;
}

export class HistoryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HistoryError';
  }
}

/** The history repository of a project (a bare repository; the workspace is its work tree). */
export function projectHistoryDir(workspaceRoot: string, projectId: string): string {
  return path.join(workspaceRoot, '.runner', 'history', `${projectId}.git`);
}

/** Settings passed on every call: they override whatever the repository's own config says. */
const SAFE_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.excludesFile=/dev/null',
  'core.attributesFile=/dev/null',
  'core.autocrlf=false',
  'core.symlinks=true',
  'core.quotePath=false',
  'core.pager=cat',
  'color.ui=false',
  'commit.gpgSign=false',
  'gc.auto=0',
  'maintenance.auto=false',
  'advice.detachedHead=false',
].flatMap((setting) => ['-c', setting]);

/** The environment of every git call: nothing inherited but PATH; no config file outside the repository is read. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: '/nonexistent',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    LC_ALL: 'C',
    ...extra,
  };
}

export function gitArgs(gitDir: string, workTree: string | null, args: string[]): string[] {
  return [...SAFE_CONFIG, `--git-dir=${gitDir}`, ...(workTree ? [`--work-tree=${workTree}`] : []), ...args];
}

const exists = (p: string): boolean => lstatSync(p, { throwIfNoEntry: false }) !== undefined;

/** A small file's text, '' when it is missing or unreadable (inline: see git-objects.ts). */
function readSmall(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

export async function git(
  gitDir: string,
  workTree: string | null,
  args: string[],
  env?: Record<string, string>,
): Promise<string> {
  try {
    const { stdout } = await execFileAsync('git', gitArgs(gitDir, workTree, args), {
      env: gitEnv(env),
      // The repository's parent exists before `git init` creates the repository.
      cwd: workTree ?? path.dirname(gitDir),
      timeout: GIT_TIMEOUT_MS,
      maxBuffer: OUTPUT_MAX_BYTES,
      encoding: 'utf8',
    });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT' && e.path === 'git') {
      // Node says the same when the working directory is missing.
      const cwdExists = exists(workTree ?? path.dirname(gitDir));
      throw new HistoryError(
        cwdExists
          ? 'git is not installed (the runner and the API need the `git` command)'
          : `${workTree ?? gitDir} does not exist`,
        { cause: err },
      );
    }
    const detail = (e.stderr ?? '').trim().split('\n').filter(Boolean).at(-1) ?? e.message;
    throw new HistoryError(`git ${args[0]} failed: ${detail}`, { cause: err });
  }
}

/** What `git init --bare --template= --initial-branch=main` writes, plus the exclude file. */
const NEW_REPOSITORY: Array<[string, string | null]> = [
  ['objects', null],
  ['refs', null],
  ['refs/heads', null],
  ['refs/tags', null],
  ['info', null],
  ['info/exclude', `# The runner's protocol files and the agent's state are not project history.\n/${CODEX_DIR}/\n`],
  ['config', '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n'],
  ['HEAD', `ref: refs/heads/${HISTORY_BRANCH}\n`],
];

/**
 * Creates the history on a project's first job: a bare repository that ignores `.codex/`. Written
 * in-process (the layout of gitrepository-layout(5), as `git init` makes it without a template:
 * no sample hooks) in a temporary directory renamed into place, so that a half-made repository is
 * never seen. `git init` takes over when a directory is in the way (it re-initialises in place,
 * keeping what is there).
 */
async function ensureHistory(gitDir: string): Promise<boolean> {
  if (exists(path.join(gitDir, 'HEAD'))) return false;
  mkdirSync(path.dirname(gitDir), { recursive: true });
  const tmp = `${gitDir}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(tmp);
    for (const [rel, contents] of NEW_REPOSITORY) {
      if (contents === null) mkdirSync(path.join(tmp, rel));
      else writeFileSync(path.join(tmp, rel), contents);
    }
    renameSync(tmp, gitDir);
    return true;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
  }
  if (exists(path.join(gitDir, 'HEAD'))) return false;
  await git(gitDir, null, ['init', '--quiet', '--bare', '--template=', `--initial-branch=${HISTORY_BRANCH}`, gitDir]);
  mkdirSync(path.join(gitDir, 'info'), { recursive: true });
  writeFileSync(path.join(gitDir, 'info', 'exclude'), NEW_REPOSITORY.find(([rel]) => rel === 'info/exclude')![1]!);
  return true;
}

/** `<job_type>: <first line of the instruction>`, control characters removed, kept short. */
export function commitSubject(job: Pick<JobToCommit, 'jobType' | 'instruction'>): string {
  const first = (job.instruction.split(/\r?\n/).find((l) => l.trim() !== '') ?? '')
    // eslint-disable-next-line no-control-regex -- control characters are what this removes
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .trim();
  const line = `${job.jobType}: ${first}`;
  return line.length > SUBJECT_MAX_CHARS ? `${line.slice(0, SUBJECT_MAX_CHARS - 1)}…` : line;
}

/**
 * Commits the workspace as it is now for one job: every change since the previous job's commit
 * (`.codex/` excluded; the project's own .gitignore files and `ignore` apply), an empty commit if there is
 * none, so that every job that ran has a commit. Returns the commit id.
 *
 * The caller must hold the project's lock: lock files left by an interrupted earlier call are
 * removed as stale. A job run again (its runner died after committing) replaces its own commit
 * (amend), so its commit still holds everything the job changed since the previous job.
 */
export async function commitJob(args: {
  workspaceRoot: string;
  projectId: string;
  workspace: string;
  job: JobToCommit;
  author: CommitAuthor;
  /**
   * A snapshot of the workspace taken just before, excluding `.codex/` (the runner's "after"
   * snapshot): the tree is built from it instead of walking the workspace again.
   */
  snapshot?: Snapshot;
  /** HISTORY_IGNORE: gitignore patterns left out of the history, under the project's own .gitignore files. */
  ignore?: readonly string[];
}): Promise<string> {
  const { workspace, job, author } = args;
  const gitDir = projectHistoryDir(args.workspaceRoot, args.projectId);
  // A project deleted meanwhile gets no history back.
  if (!exists(workspace))
    throw new HistoryError(`the workspace ${workspace} does not exist (the project was deleted?)`);
  const created = await ensureHistory(gitDir);
  // The commit is written in-process (git-objects.ts, history-tree.ts): no `git add`/`git commit`
  // child processes on every job; `git` serves diffs.
  clearLocks(gitDir);
  const tree = args.snapshot
    ? await writeSnapshotTree(gitDir, workspace, args.snapshot, [CODEX_DIR], args.ignore)
    : await writeWorkspaceTree(gitDir, workspace, [CODEX_DIR], args.ignore);
  const commit = await writeJobCommit(gitDir, created, tree, job, author);
  // What the next job's "before" snapshot starts from (stat-index.ts).
  if (args.snapshot) saveStatIndex(gitDir, workspace, args.snapshot);
  return commit;
}

/** Lock files left by an interrupted earlier call (the caller holds the project's lock). */
function clearLocks(gitDir: string): void {
  for (const lock of ['index.lock', 'HEAD.lock', `refs/heads/${HISTORY_BRANCH}.lock`])
    rmSync(path.join(gitDir, lock), { force: true });
}

/** The job's commit of `tree` on the branch (amending the job's own commit of an earlier attempt). */
async function writeJobCommit(
  gitDir: string,
  created: boolean,
  tree: string,
  job: JobToCommit,
  author: CommitAuthor,
): Promise<string> {
  const head = created ? null : await branchCommit(gitDir);
  const headInfo = head ? await readCommit(gitDir, head) : null;
  // The branch's commit is this job's own when its trailer names it: an earlier attempt committed.
  const amend = headInfo !== null && jobOfCommit(headInfo.message) === job.id;
  const parents = !head ? [] : amend ? headInfo.parents : [head];
  const when = Math.floor(Date.now() / 1000);
  const signature = { name: author.name, email: author.email, when };
  const commit = await writeObject(
    gitDir,
    'commit',
    commitBody({
      tree,
      parents,
      author: signature,
      committer: signature,
      message: commitMessage(job),
    }),
  );
  writeRef(gitDir, commit);
  return commit;
}

/** What commitPlanned writes: a tree planned from a snapshot (history-tree.ts planSnapshotTree). */
export interface PlannedCommit {
  gitDir: string;
  workspace: string;
  job: JobToCommit;
  author: CommitAuthor;
  tree: string;
  /** Files to store as blobs, with the ids the plan gave them. */
  blobs: Array<{ rel: string; oid: string; kind: 'file' | 'symlink'; executable: boolean }>;
  /** Tree bodies, children first. */
  trees: Uint8Array[];
  /** The stat index's new bytes, written once the commit is. */
  index: Uint8Array | null;
}

/**
 * Writes a planned commit: the blobs (read from the files), the trees, the commit, the branch
 * and the stat index. 'stale' (nothing but loose blobs written) when the history is gone or a
 * file no longer holds what the plan's snapshot said: the caller commits the usual way then.
 */
export async function commitPlanned(p: PlannedCommit): Promise<{ sha: string; indexSaved: boolean } | 'stale'> {
  const { gitDir } = p;
  if (!exists(path.join(gitDir, 'HEAD'))) return 'stale';
  clearLocks(gitDir);
  for (const blob of p.blobs) {
    const abs = path.join(p.workspace, blob.rel);
    try {
      if (blob.kind === 'symlink') {
        const target = readlinkSync(abs, { encoding: 'buffer' });
        if ((await writeObject(gitDir, 'blob', target)) !== blob.oid) return 'stale';
      } else {
        const written = await writeBlobFromFile(gitDir, abs);
        if (written.oid !== blob.oid || written.executable !== blob.executable) return 'stale';
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (['ENOENT', 'ENOTDIR', 'ELOOP', 'EINVAL'].includes(code)) return 'stale';
      throw err;
    }
  }
  for (const body of p.trees) await writeObject(gitDir, 'tree', Buffer.from(body.buffer, body.byteOffset, body.length));
  const sha = await writeJobCommit(gitDir, false, p.tree, p.job, p.author);
  return { sha, indexSaved: p.index !== null && writeStatIndex(gitDir, p.index) };
}

/**
 * The subject, the whole instruction when the subject does not already hold it (a clone of the
 * history tells the whole story), and the Job-Id trailer.
 */
export function commitMessage(job: JobToCommit): string {
  const subject = commitSubject(job);
  const instruction = job.instruction
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex -- control characters (NUL above all) cannot be in a commit
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
    .trim();
  const whole = subject === `${job.jobType}: ${instruction}` ? '' : `${instruction}\n\n`;
  return `${subject}\n\n${whole}${JOB_TRAILER}: ${job.id}\n`;
}

/** The trailer of a project's "import" commit, naming the job whose first step it was. */
export const IMPORT_TRAILER = 'Import-For';

/**
 * Commits the workspace as a project's source was brought in: the history's first commit
 * ("import: <what>"), a root commit with the branch moved to it (a repeated import replaces an
 * earlier attempt's). The first job's commit then holds only what the agent changed.
 */
export async function commitImport(args: {
  workspaceRoot: string;
  projectId: string;
  workspace: string;
  jobId: string;
  description: string;
  author: CommitAuthor;
}): Promise<string> {
  const gitDir = projectHistoryDir(args.workspaceRoot, args.projectId);
  if (!exists(args.workspace))
    throw new HistoryError(`the workspace ${args.workspace} does not exist (the project was deleted?)`);
  await ensureHistory(gitDir);
  for (const lock of ['index.lock', 'HEAD.lock', `refs/heads/${HISTORY_BRANCH}.lock`])
    rmSync(path.join(gitDir, lock), { force: true });
  const tree = await writeWorkspaceTree(gitDir, args.workspace, [CODEX_DIR]);
  const when = Math.floor(Date.now() / 1000);
  const signature = { name: args.author.name, email: args.author.email, when };
  // eslint-disable-next-line no-control-regex -- control characters cannot be in a commit message
  const what = args.description.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200);
  const commit = await writeObject(
    gitDir,
    'commit',
    commitBody({
      tree,
      parents: [],
      author: signature,
      committer: signature,
      message: `import: ${what}\n\n${IMPORT_TRAILER}: ${args.jobId}\n`,
    }),
  );
  writeRef(gitDir, commit);
  return commit;
}

/** The job named by a commit message's Job-Id trailer, if any. */
function jobOfCommit(message: string): string | null {
  const match = new RegExp(`^${JOB_TRAILER}: (\\S+)\\s*$`, 'm').exec(message);
  return match ? match[1]! : null;
}

/** A commit's parents and message: the loose object, or `git cat-file` when it is packed. */
async function readCommit(gitDir: string, oid: string): Promise<CommitInfo> {
  return readLooseCommit(gitDir, oid) ?? parseCommit(await git(gitDir, null, ['cat-file', 'commit', oid]));
}

/** Points the branch at `commit`, the way git updates a loose ref (a lock file renamed over it). */
export function writeRef(gitDir: string, commit: string): void {
  // A few bytes into the page cache: inline, like the small objects (git-objects.ts); in place
  // (overwrite.ts says why).
  const ref = path.join(gitDir, 'refs', 'heads', HISTORY_BRANCH);
  if (overwriteInPlace(ref, `${commit}\n`)) return;
  mkdirSync(path.dirname(ref), { recursive: true });
  if (!overwriteInPlace(ref, `${commit}\n`))
    throw new HistoryError(`the branch ${HISTORY_BRANCH} could not be written`);
}

/** The branch's commit, null before the first one. */
export async function branchCommit(gitDir: string): Promise<string | null> {
  try {
    return await headCommit(gitDir);
  } catch (err) {
    if (err instanceof HistoryError) return null;
    throw err;
  }
}

/**
 * The branch's commit. Read from its loose ref file (documented in gitrepository-layout; the
 * history is never packed, gc is off), which saves a process on every job; `git rev-parse` when
 * that file is not there (refs packed by hand, another ref format).
 */
async function headCommit(gitDir: string): Promise<string> {
  const loose = readSmall(path.join(gitDir, 'refs', 'heads', HISTORY_BRANCH)).trim();
  if (COMMIT_SHA.test(loose)) return loose;
  const sha = (await git(gitDir, null, ['rev-parse', '--verify', `refs/heads/${HISTORY_BRANCH}`])).trim();
  if (!COMMIT_SHA.test(sha)) throw new HistoryError(`git rev-parse printed no commit id: ${sha.slice(0, 80)}`);
  return sha;
}

/**
 * A commit's unified diff against its parent (a project's first commit against the empty tree),
 * as it streams out of `git show`; null when the project has no history or no such commit.
 * Aborting `signal`, or destroying the stream, stops git. A failure half-way destroys the stream
 * with the error.
 */
export async function openCommitDiff(args: {
  workspaceRoot: string;
  projectId: string;
  sha: string;
  signal?: AbortSignal;
}): Promise<Readable | null> {
  const { sha } = args;
  if (!COMMIT_SHA.test(sha)) return null;
  const gitDir = projectHistoryDir(args.workspaceRoot, args.projectId);
  if (!exists(path.join(gitDir, 'HEAD'))) return null;
  try {
    await git(gitDir, null, ['cat-file', '-e', `${sha}^{commit}`]);
  } catch (err) {
    if (err instanceof HistoryError && /git is not installed/.test(err.message)) throw err;
    return null;
  }

  return gitOutputStream(
    gitDir,
    ['show', '--format=', '--patch', '--no-ext-diff', '--no-textconv', '--no-color', sha, '--'],
    args.signal,
  );
}

/**
 * What a git command prints, as a stream (no shell, the safe configuration). Aborting `signal`, or
 * destroying the stream, stops git; a failure half-way destroys the stream with the error.
 */
export function gitOutputStream(gitDir: string, gitCommand: string[], signal?: AbortSignal): Readable {
  const child = spawn('git', gitArgs(gitDir, null, gitCommand), {
    env: gitEnv(),
    cwd: gitDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const what = `git ${gitCommand[0]}`;
  const out = new PassThrough();
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  child.stdout.pipe(out, { end: false });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  out.once('close', stop);
  signal?.addEventListener('abort', stop, { once: true });
  child.once('error', (err) => out.destroy(new HistoryError(`${what} failed: ${err.message}`, { cause: err })));
  child.once('close', (code) => {
    signal?.removeEventListener('abort', stop);
    if (code === 0) out.end();
    else if (!out.destroyed) out.destroy(new HistoryError(`${what} failed: ${stderr.trim() || `exit code ${code}`}`));
  });
  return out;
}

/** How much a commit changed against its parent: what webhooks report of a job's diff. */
export interface CommitStats {
  filesChanged: number;
  insertions: number;
  deletions: number;
}

/**
 * The stats of a commit's diff against its parent (against nothing for a project's first commit),
 * as `git show --numstat` counts them (a binary file counts as changed, with no lines); null when
 * the project has no history or no such commit.
 */
export async function commitDiffStats(args: {
  workspaceRoot: string;
  projectId: string;
  sha: string;
}): Promise<CommitStats | null> {
  if (!COMMIT_SHA.test(args.sha)) return null;
  const gitDir = projectHistoryDir(args.workspaceRoot, args.projectId);
  if (!exists(path.join(gitDir, 'HEAD'))) return null;
  let out: string;
  try {
    out = await git(gitDir, null, ['show', '--numstat', '--format=', '--no-renames', '--no-ext-diff', args.sha, '--']);
  } catch (err) {
    if (err instanceof HistoryError && /git is not installed/.test(err.message)) throw err;
    return null;
  }
  const stats: CommitStats = { filesChanged: 0, insertions: 0, deletions: 0 };
  for (const line of out.split('\n')) {
    const m = /^(\d+|-)\t(\d+|-)\t/.exec(line);
    if (!m) continue;
    stats.filesChanged++;
    if (m[1] !== '-') stats.insertions += Number(m[1]);
    if (m[2] !== '-') stats.deletions += Number(m[2]);
  }
  return stats;
}

/** `git --version`; rejects when git is not installed. */
export async function gitVersion(): Promise<string> {
  const { stdout } = await execFileAsync('git', ['--version'], { env: gitEnv(), timeout: 10_000, encoding: 'utf8' });
  return stdout.trim();
}

/** Removes a deleted project's history. */
export async function removeProjectHistory(workspaceRoot: string, projectId: string): Promise<void> {
  await fs.rm(projectHistoryDir(workspaceRoot, projectId), {
    recursive: true,
    force: true,
    maxRetries: 3,
    retryDelay: 200,
  });
}
