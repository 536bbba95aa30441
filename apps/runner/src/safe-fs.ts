import fs, { constants } from 'node:fs';
import path from 'node:path';
import { withRegularFile } from '@cwo/workspace';

// The agent controls the workspace (in a container it can write anything there), so the runner
// never follows a link it did not make when it writes its own files: every directory on the way
// is checked to be a real directory, and files are opened with O_NOFOLLOW, never through a hard link.
//
// The calls are synchronous on purpose: a few small files per job on a local disk, where the
// hand-off of a promise-based call to the thread pool and back costs the event loop several times
// the work itself (docs/benchmarks.md), and a job makes dozens.

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';
const realpathOrNull = (p: string): string | null => {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return null;
  }
};

/**
 * Makes `workspace/relDir` exist as a chain of real directories. A symlink or file in the way
 * (planted by an agent) is removed and replaced by a directory.
 */
export function ensureRealDir(workspace: string, relDir: string): string {
  const parts = relDir.split('/').filter(Boolean);
  if (parts.some((p) => p === '..' || p === '.')) throw new Error(`refusing a relative directory with "${relDir}"`);
  // Usually the chain is there already: one check resolved by the kernel instead of an lstat per
  // level. The resolved path equals the plain one only when no level is a link; the trailing "/."
  // fails unless the last level is a directory. A job's new directory is usually the only level
  // missing: its parent is checked the same way and the last level made with mkdir, which makes a
  // real directory or fails.
  const wanted = path.join(workspace, ...parts);
  const realWorkspace = realpathOrNull(workspace);
  if (realWorkspace !== null) {
    const realWanted = realpathOrNull(`${wanted}/.`);
    if (realWanted !== null && realWanted === path.join(realWorkspace, ...parts)) return wanted;
    if (realWanted === null && parts.length > 0) {
      const realParent = realpathOrNull(`${path.dirname(wanted)}/.`);
      if (realParent !== null && realParent === path.join(realWorkspace, ...parts.slice(0, -1))) {
        try {
          fs.mkdirSync(wanted);
          return wanted;
        } catch {
          // Made meanwhile, or something in the way: the slow path below decides.
        }
      }
    }
  }

  fs.mkdirSync(workspace, { recursive: true });
  let current = workspace;
  for (const part of parts) {
    current = path.join(current, part);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(current);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (stat && !stat.isDirectory()) {
      fs.rmSync(current, { force: true });
      stat = undefined;
    }
    if (!stat) {
      try {
        fs.mkdirSync(current);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
  return current;
}

// O_NONBLOCK: opening a FIFO an agent planted would otherwise wait for its other end, holding
// the whole process (the calls are synchronous); a regular file ignores the flag.
const NO_WAIT = constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Opens a file of ours for writing, without following a link or waiting on a FIFO, and only if it
 * is a regular file with no other name: an agent could have made it a hard link to a file
 * elsewhere, which a write would change. Anything else in its place is removed and the file made
 * anew. Returns the descriptor.
 */
function openOwnFile(target: string, flags: number): number {
  try {
    const fd = fs.openSync(target, constants.O_WRONLY | constants.O_CREAT | NO_WAIT | flags, 0o644);
    const stat = fs.fstatSync(fd);
    if (stat.isFile() && stat.nlink === 1) return fd;
    fs.closeSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ELOOP' && code !== 'ENXIO' && code !== 'EISDIR') throw err;
  }
  fs.rmSync(target, { recursive: true, force: true });
  return fs.openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_WAIT | flags, 0o644);
}

/**
 * Writes a file in place, without a temporary file: for files no one reads while the runner
 * writes them (the job's own copies of request.json and result.json; the top-level request.json,
 * which the agent reads only once it is written), where a write torn by a crash is rewritten by
 * the retry. The old bytes are overwritten and the rest cut off, never truncated to nothing
 * first: on ext4, replacing a file by rename or emptying it makes the kernel write its data out
 * at once (auto_da_alloc), 1–4 ms a file on these disks against ~0.05 ms for the overwrite.
 */
export function writeFileDirect(workspace: string, relFile: string, data: string | Buffer): string {
  const dir = ensureRealDir(workspace, path.posix.dirname(relFile));
  const target = path.join(dir, path.posix.basename(relFile));
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openOwnFile(target, 0);
  try {
    for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done, done);
    fs.ftruncateSync(fd, bytes.length);
  } finally {
    fs.closeSync(fd);
  }
  return target;
}

/**
 * Gives `relFile` the bytes of `fromRelFile`, which were read as `bytes` from a file whose fstat
 * was `read`: as a second name of that file when it is still the same one with no other name,
 * else written in place (writeFileDirect). A second name takes no new inode: on an ext4 without a
 * journal (these machines) every inode made, and every one freed, costs the next ones more (README,
 * "Benchmarks"), and the file it copies is removed by the next job anyway. Anything in the way at
 * `relFile` is replaced.
 */
export function linkOrWrite(
  workspace: string,
  relFile: string,
  fromRelFile: string,
  read: fs.Stats,
  bytes: Buffer,
): string {
  const dir = ensureRealDir(workspace, path.posix.dirname(relFile));
  const target = path.join(dir, path.posix.basename(relFile));
  if (read.nlink !== 1 || read.size !== bytes.length) return writeFileDirect(workspace, relFile, bytes);
  const from = path.join(ensureRealDir(workspace, path.posix.dirname(fromRelFile)), path.posix.basename(fromRelFile));
  const link = (): 'linked' | 'taken' | 'refused' => {
    try {
      fs.linkSync(from, target);
      return 'linked';
    } catch (err) {
      // EPERM, EXDEV…: a copy then.
      return (err as NodeJS.ErrnoException).code === 'EEXIST' ? 'taken' : 'refused';
    }
  };
  let linked = link();
  if (linked === 'taken') {
    fs.rmSync(target, { recursive: true, force: true });
    linked = link();
  }
  if (linked === 'linked') {
    // link() takes a symlink itself, not its target: the new name must be the very file read,
    // unchanged since (the agent has stopped, but a planted link or a second name is refused).
    const now = fs.lstatSync(target);
    if (
      now.isFile() &&
      now.ino === read.ino &&
      now.dev === read.dev &&
      now.nlink === 2 &&
      now.size === read.size &&
      now.mtimeMs === read.mtimeMs
    )
      return target;
    fs.rmSync(target, { force: true });
  }
  return writeFileDirect(workspace, relFile, bytes);
}

/**
 * Opens a file for appending (see openOwnFile: never through a link, never into a file with
 * another name); returns its descriptor.
 */
export function openForAppend(workspace: string, relFile: string): number {
  const dir = ensureRealDir(workspace, path.posix.dirname(relFile));
  return openOwnFile(path.join(dir, path.posix.basename(relFile)), constants.O_APPEND);
}

export class NotARegularFileError extends Error {
  constructor(readonly relFile: string) {
    super(`${relFile} is not a regular file`);
    this.name = 'NotARegularFileError';
  }
}

/**
 * Reads at most `maxBytes + 1` bytes of a regular file under real directories, without following
 * links. Returns null when it does not exist; `size` is what fstat reported.
 */
export function readRegularFile(
  workspace: string,
  relFile: string,
  maxBytes: number,
): { data: Buffer; size: number; stat: fs.Stats } | null {
  // Each directory on the way must be real: a linked .codex would make us read elsewhere.
  let current = workspace;
  for (const part of path.posix
    .dirname(relFile)
    .split('/')
    .filter((p) => p && p !== '.')) {
    current = path.join(current, part);
    try {
      if (!fs.lstatSync(current).isDirectory()) throw new NotARegularFileError(relFile);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }
  let read: { data: Buffer; size: number; stat: fs.Stats } | null;
  try {
    read = withRegularFile(path.join(current, path.posix.basename(relFile)), (fd, stat) => {
      const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
      let filled = 0;
      while (filled < buffer.length) {
        const bytesRead = fs.readSync(fd, buffer, filled, buffer.length - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return { data: buffer.subarray(0, filled), size: Math.max(stat.size, filled), stat };
    });
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  if (!read) throw new NotARegularFileError(relFile);
  return read;
}
