import crypto from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

// The agent controls the workspace (in a container it can write anything there), so the runner
// never follows a link it did not make when it writes its own files: every directory on the way
// is checked to be a real directory, and files are opened with O_NOFOLLOW or replaced by rename.

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Makes `workspace/relDir` exist as a chain of real directories. A symlink or file in the way
 * (planted by an agent) is removed and replaced by a directory.
 */
export async function ensureRealDir(workspace: string, relDir: string): Promise<string> {
  const parts = relDir.split('/').filter(Boolean);
  if (parts.some((p) => p === '..' || p === '.')) throw new Error(`refusing a relative directory with "${relDir}"`);
  // Usually the chain is there already: one check (both resolved in the kernel, concurrently)
  // instead of an lstat per level. The resolved path equals the plain one only when no level is
  // a link; the trailing "/." fails unless the last level is a directory.
  // A job's new directory is usually the only level missing: its parent is checked the same way
  // (concurrently) and the last level made with mkdir, which makes a real directory or fails.
  const wanted = path.join(workspace, ...parts);
  const parent = path.dirname(wanted);
  const [realWorkspace, realWanted, realParent] = await Promise.all([
    fs.realpath(workspace).catch(() => null),
    fs.realpath(`${wanted}/.`).catch(() => null),
    parts.length > 0 ? fs.realpath(`${parent}/.`).catch(() => null) : null,
  ]);
  if (realWorkspace !== null) {
    if (realWanted !== null && realWanted === path.join(realWorkspace, ...parts)) return wanted;
    if (realWanted === null && realParent !== null && realParent === path.join(realWorkspace, ...parts.slice(0, -1))) {
      const made = await fs.mkdir(wanted).then(
        () => true,
        () => false,
      );
      if (made) return wanted;
    }
  }

  await fs.mkdir(workspace, { recursive: true });
  let current = workspace;
  for (const part of relDir.split('/').filter(Boolean)) {
    if (part === '..' || part === '.') throw new Error(`refusing a relative directory with "${part}": ${relDir}`);
    current = path.join(current, part);
    let stat;
    try {
      stat = await fs.lstat(current);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (stat && !stat.isDirectory()) {
      await fs.rm(current, { force: true });
      stat = undefined;
    }
    if (!stat) {
      try {
        await fs.mkdir(current);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
  return current;
}

/** Writes a file atomically (temporary file, then rename: a link at the target is replaced, not followed). */
export async function writeFileInside(workspace: string, relFile: string, data: string | Buffer): Promise<string> {
  const dir = await ensureRealDir(workspace, path.posix.dirname(relFile));
  const target = path.join(dir, path.posix.basename(relFile));
  const tmp = path.join(dir, `.${path.posix.basename(relFile)}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  await fs.writeFile(tmp, data, { flag: 'wx', mode: 0o644 });
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return target;
}

/** Opens a file for appending, refusing to follow a symlink in its place. */
export async function openForAppend(workspace: string, relFile: string): Promise<fs.FileHandle> {
  const dir = await ensureRealDir(workspace, path.posix.dirname(relFile));
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
  return fs.open(path.join(dir, path.posix.basename(relFile)), flags, 0o644);
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
export async function readRegularFile(
  workspace: string,
  relFile: string,
  maxBytes: number,
): Promise<{ data: Buffer; size: number } | null> {
  // Each directory on the way must be real: a linked .codex would make us read elsewhere.
  let current = workspace;
  for (const part of path.posix.dirname(relFile).split('/').filter((p) => p && p !== '.')) {
    current = path.join(current, part);
    try {
      const stat = await fs.lstat(current);
      if (!stat.isDirectory()) throw new NotARegularFileError(relFile);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path.join(current, path.posix.basename(relFile)), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (isMissing(err)) return null;
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new NotARegularFileError(relFile);
    throw err;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new NotARegularFileError(relFile);
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return { data: buffer.subarray(0, read), size: Math.max(stat.size, read) };
  } finally {
    await handle.close();
  }
}
