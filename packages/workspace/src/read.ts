import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import { isInsideDirectory } from './containment';
import { FileMissingError, InvalidPathError, resolveInsideWorkspace } from './resolve';

// Opening and reading one workspace file for the files endpoint, after the file access policy of
// docs/http-api.md.

/** The path exists but is not a regular file (a directory, a FIFO…); the API answers 404. */
export class NotAFileError extends FileMissingError {
  constructor(relativePath: string) {
    super(relativePath);
    this.name = 'NotAFileError';
  }
}

export interface OpenedWorkspaceFile {
  /** Normalised, forward-slash path relative to the workspace. */
  relative: string;
  handle: FileHandle;
  /** Size when opened: what a reader should send, even if the file grows meanwhile. */
  size: number;
}

// O_NOFOLLOW: the resolved path must not have become a symlink since it was resolved.
// O_NONBLOCK: opening a FIFO would otherwise block a libuv thread until a writer appears.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Where an open descriptor really points (Linux: /proc/self/fd). Null where that is not
 * available; the resolver's checks then stand alone.
 */
async function pathOfDescriptor(handle: FileHandle): Promise<string | null> {
  return fs.readlink(`/proc/self/fd/${handle.fd}`).catch(() => null);
}

/**
 * Resolves `userPath` inside the workspace (InvalidPathError / FileMissingError as the resolver)
 * and opens it for reading. The agent may be rewriting the workspace while we read, so the opened
 * descriptor is checked again: still inside the workspace, and a regular file (NotAFileError).
 * The caller owns the handle and must close it (or hand it to a stream that does).
 */
export async function openWorkspaceFile(workspace: string, userPath: string): Promise<OpenedWorkspaceFile> {
  const { relative, absolute } = await resolveInsideWorkspace(workspace, userPath);
  let handle: FileHandle;
  try {
    handle = await fs.open(absolute, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new InvalidPathError('symlink escapes workspace');
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FileMissingError(relative);
    throw err;
  }
  try {
    const opened = await pathOfDescriptor(handle);
    if (opened !== null && !isInsideDirectory(await fs.realpath(workspace), opened)) {
      throw new InvalidPathError('symlink escapes workspace');
    }
    const stat = await handle.stat();
    if (!stat.isFile()) throw new NotAFileError(relative);
    return { relative, handle, size: stat.size };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text as the files endpoint serves it: valid UTF-8 without NUL bytes (which mark binary formats). */
export function decodeText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The file's contents as text when it is at most `maxBytes` and is UTF-8 text; null otherwise
 * (the caller then sends it raw). Reads the size seen when opened, from the start.
 */
export async function readSmallText(file: OpenedWorkspaceFile, maxBytes: number): Promise<string | null> {
  if (file.size > maxBytes) return null;
  const buffer = Buffer.alloc(file.size);
  let filled = 0;
  while (filled < file.size) {
    const { bytesRead } = await file.handle.read(buffer, filled, file.size - filled, filled);
    if (bytesRead === 0) break; // truncated meanwhile: what was there is what we have
    filled += bytesRead;
  }
  return decodeText(buffer.subarray(0, filled));
}
