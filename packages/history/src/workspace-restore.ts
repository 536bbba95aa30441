import crypto from 'node:crypto';
import fs, { constants } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { branchCommit, HISTORY_BRANCH, HistoryError, projectHistoryDir, writeRef } from './history';
import { snapshotTreeId } from './history-tree';
import { baseRules, isIgnored, withGitignore, type Rules } from './ignore-rules';
import { CODEX_DIR, timeSlicer, type TimeSlicer } from '@cwo/workspace';
import { takeSnapshot, type Snapshot } from './snapshot';

// A project's workspace put back to a commit of its history (`.codex/` aside): what the last
// finished job left, so that an attempt cut short (its runner killed, frozen or cut off from its
// container engine, or the disk full) leaves nothing half-applied for the attempt or job after it.
//
// Whether there is anything to do is one comparison: the id of the tree the workspace's snapshot
// would make (hashed in memory, history-tree.ts) against the commit's tree. Only then is the
// commit's tree read, and only the entries that differ are written or removed.
//
// The agent owns the workspace and may have planted links, FIFOs or hard links: nothing in it is
// followed or written through. Every file is written under a new temporary name in a directory
// checked to be real, then renamed over whatever is in its place; a link, FIFO or directory where
// the commit has something else is removed. Paths the project ignores (its .gitignore files, as
// the commit has them) are left alone, as `git clean` without -x leaves them; so is any `.git`.

/** The tree of a commit with no files (a project's first job starts from it). */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** Objects whose stored form is at least this large are inflated as a stream (memory stays flat). */
const STREAM_FROM_BYTES = 256 * 1024;
/** ...and so is one that inflates to more than this. */
const INFLATE_INLINE_MAX = 8 * 1024 * 1024;

export interface RestoreResult {
  /** Whether the workspace was changed. */
  changed: boolean;
  /** Paths written back (their contents, kind or mode differed, or they were missing). */
  written: string[];
  /** Paths removed (not in the commit, and not ignored). */
  removed: string[];
  /** The history's branch pointed elsewhere (an attempt's commit no finished job kept) and was moved back. */
  branchReset: boolean;
}

interface TargetFile {
  /** '100644' | '100755' | '120000' */
  mode: string;
  oid: string;
}

interface TargetTree {
  files: Map<string, TargetFile>;
  dirs: Set<string>;
  /** Directory ('' for the top) -> the text of its .gitignore in the commit. */
  gitignores: Map<string, string>;
}

const objectPath = (gitDir: string, oid: string) => path.join(gitDir, 'objects', oid.slice(0, 2), oid.slice(2));
const isGone = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '');
const exists = (p: string): boolean => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;

/** A loose object's type and body (the runner never packs the history); null when it is not there. */
function readObject(gitDir: string, oid: string): { type: string; body: Buffer } | null {
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(fs.readFileSync(objectPath(gitDir, oid)), { maxOutputLength: INFLATE_INLINE_MAX });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new HistoryError(`object ${oid} of the history could not be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const nul = raw.indexOf(0);
  const [type, size] = raw.subarray(0, Math.max(nul, 0)).toString('latin1').split(' ');
  const body = raw.subarray(nul + 1);
  if (nul < 0 || Number(size) !== body.length) throw new HistoryError(`object ${oid} of the history is corrupt`);
  return { type: type!, body };
}

function commitTree(gitDir: string, commit: string): string {
  const object = readObject(gitDir, commit);
  if (!object || object.type !== 'commit') throw new HistoryError(`commit ${commit} is not in the project history`);
  const match = /^tree ([0-9a-f]{40})$/m.exec(object.body.toString('latin1').split('\n\n')[0]!);
  if (!match) throw new HistoryError(`commit ${commit} names no tree`);
  return match[1]!;
}

/** The commit's files, directories and .gitignore texts, read from its trees. */
function readTargetTree(gitDir: string, treeOid: string): TargetTree {
  const target: TargetTree = { files: new Map(), dirs: new Set(), gitignores: new Map() };
  const visit = (oid: string, prefix: string) => {
    const tree = readObject(gitDir, oid);
    if (!tree || tree.type !== 'tree') throw new HistoryError(`tree ${oid} is not in the project history`);
    const body = tree.body;
    for (let i = 0; i < body.length;) {
      const space = body.indexOf(0x20, i);
      const nul = body.indexOf(0, space);
      const mode = body.subarray(i, space).toString('latin1');
      const name = body.subarray(space + 1, nul).toString('utf8');
      const child = body.subarray(nul + 1, nul + 21).toString('hex');
      i = nul + 21;
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      if (mode === '40000') {
        target.dirs.add(rel);
        visit(child, rel);
      } else if (mode === '100644' || mode === '100755' || mode === '120000') {
        target.files.set(rel, { mode, oid: child });
        if (name === '.gitignore' && mode !== '120000') {
          const text = readObject(gitDir, child);
          if (text) target.gitignores.set(prefix, text.body.toString('utf8'));
        }
      }
      // Submodules (160000) are never in a history the runner wrote.
    }
  };
  visit(treeOid, '');
  return target;
}

/** Whether what is at `rel` now is the commit's entry, by the snapshot. */
function matches(snapshot: Snapshot, rel: string, want: TargetFile): boolean {
  const have = snapshot.get(rel);
  if (!have || have.hash !== want.oid) return false;
  return want.mode === '120000'
    ? have.kind === 'symlink'
    : have.kind === 'file' && have.executable === (want.mode === '100755');
}

/** `workspace/relDir` as a chain of real directories: a link or file in the way is removed. */
function realDir(workspace: string, relDir: string): string {
  let current = workspace;
  for (const part of relDir === '.' || relDir === '' ? [] : relDir.split('/')) {
    current = path.join(current, part);
    const stat = fs.lstatSync(current, { throwIfNoEntry: false });
    if (stat?.isDirectory()) continue;
    if (stat) fs.rmSync(current, { force: true });
    fs.mkdirSync(current);
  }
  return current;
}

/** Streams a large blob's contents (the object inflated, its header cut) into `fd`; returns the bytes written. */
async function streamBlob(gitDir: string, oid: string, fd: number): Promise<number> {
  let header = true;
  let written = 0;
  const cutHeader = new Transform({
    transform(chunk: Buffer, _enc, done) {
      let data = chunk;
      if (header) {
        const nul = chunk.indexOf(0);
        if (nul < 0) return done(); // a header longer than a chunk: git's are ~20 bytes
        header = false;
        data = chunk.subarray(nul + 1);
      }
      written += data.length;
      done(null, data);
    },
  });
  await pipeline(
    fs.createReadStream(objectPath(gitDir, oid)),
    zlib.createInflate(),
    cutHeader,
    fs.createWriteStream('', { fd, autoClose: false }),
  );
  return written;
}

/** Writes the blob into `fd` from its position: inline when small, streamed when large. Returns the bytes written. */
async function writeBlob(gitDir: string, oid: string, fd: number): Promise<number> {
  if (fs.statSync(objectPath(gitDir, oid)).size < STREAM_FROM_BYTES) {
    let blob: { body: Buffer } | null = null;
    try {
      blob = readObject(gitDir, oid);
    } catch {
      // inflates past the inline limit: streamed below
    }
    if (blob) {
      for (let done = 0; done < blob.body.length;) done += fs.writeSync(fd, blob.body, done);
      return blob.body.length;
    }
  }
  return streamBlob(gitDir, oid, fd);
}

/**
 * With no room for a copy (ENOSPC), a regular file of the workspace is rewritten in place: no new
 * space is needed when the commit's contents are no longer than what is there (the usual case: an
 * edit that appended). Only a file with no other name (not a hard link to something elsewhere),
 * opened without following a link or waiting on a FIFO.
 */
async function rewriteInPlace(gitDir: string, abs: string, want: TargetFile): Promise<boolean> {
  let fd: number;
  try {
    fd = fs.openSync(abs, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.nlink !== 1) return false;
    fs.ftruncateSync(fd, await writeBlob(gitDir, want.oid, fd));
    fs.fchmodSync(fd, want.mode === '100755' ? 0o755 : 0o644);
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

async function writeEntry(gitDir: string, workspace: string, rel: string, want: TargetFile): Promise<void> {
  const dir = realDir(workspace, path.posix.dirname(rel));
  const base = path.posix.basename(rel);
  const abs = path.join(dir, base);
  const tmp = path.join(dir, `.${base}.${crypto.randomBytes(4).toString('hex')}.restore`);
  try {
    if (want.mode === '120000') {
      const target = readObject(gitDir, want.oid);
      if (!target) throw new HistoryError(`blob ${want.oid} is not in the project history`);
      fs.symlinkSync(target.body, tmp);
    } else {
      const mode = want.mode === '100755' ? 0o755 : 0o644;
      const fd = fs.openSync(
        tmp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        mode,
      );
      try {
        await writeBlob(gitDir, want.oid, fd);
        fs.fchmodSync(fd, mode); // not narrowed by the umask
      } finally {
        fs.closeSync(fd);
      }
    }
    try {
      fs.renameSync(tmp, abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      fs.rmSync(abs, { recursive: true, force: true }); // a directory in the way
      fs.renameSync(tmp, abs);
    }
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC' && want.mode !== '120000') {
      if (await rewriteInPlace(gitDir, abs, want)) return;
    }
    throw err;
  }
}

/** Removes what the commit does not have (and the project does not ignore); returns whether `dir` is left empty. */
async function removeUntracked(
  workspace: string,
  target: TargetTree,
  removed: string[],
  slicer: TimeSlicer,
  ignorePatterns: readonly string[] | undefined,
): Promise<void> {
  async function walk(dir: string, rel: string, inherited: Rules[]): Promise<boolean> {
    let names;
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (isGone(err)) return true;
      throw err;
    }
    const rules = withGitignore(inherited, rel, target.gitignores.get(rel) ?? null);
    let kept = 0;
    for (const d of names) {
      const turn = slicer.tick();
      if (turn) await turn;
      if (d.name === '.git' || (rel === '' && d.name === CODEX_DIR)) {
        kept++;
        continue;
      }
      const childRel = rel === '' ? d.name : `${rel}/${d.name}`;
      const abs = path.join(dir, d.name);
      const wantFile = target.files.has(childRel);
      const wantDir = target.dirs.has(childRel);
      if (d.isDirectory()) {
        if (wantDir) {
          await walk(abs, childRel, rules);
          kept++;
        } else if (wantFile) {
          fs.rmSync(abs, { recursive: true, force: true }); // never follows the links inside
          removed.push(`${childRel}/`);
        } else if (isIgnored(rules, childRel, true)) {
          kept++;
        } else if ((await walk(abs, childRel, rules)) && tryRmdir(abs)) {
          // emptied: gone too
        } else {
          kept++;
        }
        continue;
      }
      // A file or link the commit has at this path is compared (and written) after the walk.
      if (wantFile && (d.isFile() || d.isSymbolicLink())) {
        kept++;
        continue;
      }
      if (!wantFile && !wantDir && isIgnored(rules, childRel, false)) {
        kept++;
        continue;
      }
      // Not the commit's: a file, a link (removed itself, never followed), a FIFO, a socket.
      fs.rmSync(abs, { force: true });
      removed.push(childRel);
    }
    return kept === 0;
  }
  await walk(workspace, '', baseRules(ignorePatterns));
}

function tryRmdir(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Puts the workspace back to `commit` (null: to no files at all, as a project starts), leaving
 * `.codex/` and ignored paths (the commit's .gitignore files, `ignore`) alone, and points the history's branch at that commit. `snapshot`
 * is the workspace as it is now (`.codex/` excluded, as takeSnapshot leaves it out); taken here
 * when not given. The caller holds the project's lock, and nothing else writes in the workspace
 * meanwhile (the agent of an earlier attempt is stopped first).
 *
 * Throws HistoryError, before changing anything, when the commit is not in the history.
 */
export async function restoreWorkspace(args: {
  workspaceRoot: string;
  projectId: string;
  workspace: string;
  commit: string | null;
  snapshot?: Snapshot;
  /** HISTORY_IGNORE: what the history leaves out, and so does this (as the commits were made). */
  ignore?: readonly string[];
}): Promise<RestoreResult> {
  const { workspace, commit } = args;
  const gitDir = projectHistoryDir(args.workspaceRoot, args.projectId);
  const result: RestoreResult = { changed: false, written: [], removed: [], branchReset: false };
  const treeOid = commit === null ? EMPTY_TREE : commitTree(gitDir, commit);
  const snapshot = args.snapshot ?? (await takeSnapshot(workspace, { ignore: args.ignore }));

  if ((await snapshotTreeId(workspace, snapshot, [CODEX_DIR], args.ignore)) !== treeOid) {
    const target: TargetTree =
      commit === null ? { files: new Map(), dirs: new Set(), gitignores: new Map() } : readTargetTree(gitDir, treeOid);
    const toWrite = [...target.files].filter(([rel, want]) => !matches(snapshot, rel, want));
    // Every blob is there before anything is changed.
    for (const [, want] of toWrite) {
      if (!exists(objectPath(gitDir, want.oid)))
        throw new HistoryError(`blob ${want.oid} is not in the project history`);
    }
    const slicer = timeSlicer();
    await removeUntracked(workspace, target, result.removed, slicer, args.ignore);
    for (const [rel, want] of toWrite) {
      const turn = slicer.tick();
      if (turn) await turn;
      await writeEntry(gitDir, workspace, rel, want);
      result.written.push(rel);
    }
    result.changed = result.written.length + result.removed.length > 0;
  }

  if (exists(path.join(gitDir, 'HEAD'))) {
    const head = await branchCommit(gitDir);
    if (head !== commit) {
      if (commit === null) fs.rmSync(path.join(gitDir, 'refs', 'heads', HISTORY_BRANCH), { force: true });
      else writeRef(gitDir, commit);
      result.branchReset = true;
    }
  }
  return result;
}
