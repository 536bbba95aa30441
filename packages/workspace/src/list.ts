import fs, { type Dirent, type Stats } from 'node:fs';
import { isInsideDirectory } from './containment';

// Lists a workspace for the files endpoint (the seed's os.walk with followlinks=False): every
// regular file, hidden ones and .codex included; symlinked directories are never entered; a
// symlinked file is listed only when its real path stays inside the workspace.
//
// Written with fs callbacks and a bounded number of calls in flight: for 20,000 files this is
// several times faster than promises (one allocation and tick fewer per call) and, unlike the
// synchronous calls, never blocks the event loop on a slow network volume.

export interface WorkspaceFile {
  /** Workspace-relative, forward-slash path. */
  path: string;
  /** Size in bytes (of the target, for a symlinked file). */
  size: number;
}

export interface ListOptions {
  /** Filesystem calls in flight at once. */
  concurrency?: number;
}

const DEFAULT_CONCURRENCY = 128;

const isGone = (err: NodeJS.ErrnoException | null): boolean =>
  err !== null && ['ENOENT', 'ENOTDIR', 'ELOOP'].includes(err.code ?? '');

type Kind = 'file' | 'directory' | 'symlink' | 'other';

function kindOf(entry: Dirent | Stats): Kind | null {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'directory';
  if (entry.isSymbolicLink()) return 'symlink';
  if (entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice()) return 'other';
  return null; // DT_UNKNOWN: some network filesystems do not report types in readdir.
}

const byPath = (a: WorkspaceFile, b: WorkspaceFile): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** One filesystem call; calls `done` when it has finished (and scheduled any follow-up calls). */
type Task = (done: () => void) => void;

/** Runs tasks with at most `limit` in flight; settles once all are done or one has failed. */
class Walk {
  private readonly tasks: Task[] = [];
  private active = 0;
  private failed = false;
  readonly files: WorkspaceFile[] = [];

  constructor(
    private readonly limit: number,
    private readonly resolve: (files: WorkspaceFile[]) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  schedule(task: Task): void {
    this.tasks.push(task);
    this.pump();
  }

  /** Ends the walk with an error that is not "the entry vanished" (which is skipped). */
  fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.tasks.length = 0;
    this.reject(err);
  }

  private pump(): void {
    while (!this.failed && this.active < this.limit && this.tasks.length > 0) {
      const task = this.tasks.pop()!; // depth first: keeps the backlog small
      this.active++;
      task(() => {
        this.active--;
        if (this.failed) return;
        if (this.active === 0 && this.tasks.length === 0) this.resolve(this.files.sort(byPath));
        else this.pump();
      });
    }
  }
}

/**
 * Every file of a workspace with its size, sorted by path. A missing workspace lists as empty;
 * entries that vanish during the walk (the runner may be writing) are skipped. Uses the types
 * readdir reports, so a file costs one lstat, a symlink a stat and a realpath.
 */
export function listWorkspaceFiles(workspace: string, opts: ListOptions = {}): Promise<WorkspaceFile[]> {
  const limit = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY);
  return new Promise((resolve, reject) => {
    fs.realpath(workspace, (rootErr, realRoot) => {
      if (rootErr) return isGone(rootErr) ? resolve([]) : reject(rootErr);
      const walk = new Walk(limit, resolve, reject);

      const addFile = (rel: string, abs: string, done: () => void) =>
        fs.lstat(abs, (err, stat) => {
          if (err && !isGone(err)) walk.fail(err);
          else if (stat) visit(rel, abs, kindOf(stat), stat);
          done();
        });

      const addSymlink = (rel: string, abs: string, done: () => void) =>
        fs.stat(abs, (err, target) => {
          if (err && !isGone(err)) walk.fail(err);
          // A link to a directory is never entered; a dangling link is nothing to list.
          if (!target || !target.isFile()) return done();
          fs.realpath(abs, (realErr, real) => {
            if (realErr && !isGone(realErr)) walk.fail(realErr);
            else if (!realErr && isInsideDirectory(realRoot, real)) walk.files.push({ path: rel, size: target.size });
            done();
          });
        });

      const addDirectory = (rel: string, abs: string, done: () => void) =>
        fs.readdir(abs, { withFileTypes: true }, (err, entries) => {
          if (err && !isGone(err)) walk.fail(err);
          for (const entry of entries ?? []) {
            visit(rel === '' ? entry.name : `${rel}/${entry.name}`, `${abs}/${entry.name}`, kindOf(entry));
          }
          done();
        });

      function visit(rel: string, abs: string, kind: Kind | null, stat?: Stats): void {
        if (kind === 'directory') walk.schedule((done) => addDirectory(rel, abs, done));
        else if (kind === 'symlink') walk.schedule((done) => addSymlink(rel, abs, done));
        else if (kind === 'file' && stat) walk.files.push({ path: rel, size: stat.size });
        else if (!stat && (kind === 'file' || kind === null)) walk.schedule((done) => addFile(rel, abs, done));
        // FIFOs, sockets and devices are not workspace content.
      }

      visit('', realRoot, 'directory');
    });
  });
}
