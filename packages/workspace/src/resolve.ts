import fs from 'node:fs/promises';
import path from 'node:path';
import { isInsideDirectory } from './containment';

/** Why a path was refused; the API maps it to 400 "Invalid path". */
export class InvalidPathError extends Error {
  constructor(readonly reason: string) {
    super(`Invalid path: ${reason}`);
    this.name = 'InvalidPathError';
  }
}

/** A safe path that does not exist; the API maps it to 404. */
export class FileMissingError extends Error {
  constructor(readonly relativePath: string) {
    super(`File not found: ${relativePath}`);
    this.name = 'FileMissingError';
  }
}

const MAX_DECODE_ROUNDS = 3;

/** Decodes %xx repeatedly so that double-encoded traversal (%252e%252e) is seen for what it is. */
function fullyDecode(p: string): string {
  let current = p;
  for (let i = 0; i < MAX_DECODE_ROUNDS; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      throw new InvalidPathError('malformed percent-encoding');
    }
    if (next === current) return current;
    current = next;
  }
  if (/%[0-9a-f]{2}/i.test(current)) throw new InvalidPathError('too many levels of percent-encoding');
  return current;
}

/**
 * The lexical checks of the file access policy (no filesystem access): refuses absolute, drive, UNC, traversal,
 * encoded traversal and NUL bytes. Returns the normalised relative path with forward slashes.
 */
export function checkRelativePath(userPath: string): string {
  const decoded = fullyDecode(userPath);
  if (decoded.includes('\0')) throw new InvalidPathError('NUL byte');
  if (decoded.trim() === '') throw new InvalidPathError('empty path');
  if (/^[a-zA-Z]:/.test(decoded)) throw new InvalidPathError('drive path');
  if (decoded.startsWith('\\\\') || decoded.startsWith('//')) throw new InvalidPathError('UNC path');
  if (decoded.startsWith('/') || decoded.startsWith('\\')) throw new InvalidPathError('absolute path');
  const parts = decoded.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) throw new InvalidPathError('traversal');
  if (parts.length === 0) throw new InvalidPathError('empty path');
  return parts.join('/');
}

const isInside = isInsideDirectory;

/**
 * For a path that does not exist: follows what does exist of it, component by component, and
 * says whether a symlink on the way (or a dangling one at the end) leads outside the workspace.
 */
async function missingPathEscapes(realRoot: string, relative: string): Promise<boolean> {
  let current = realRoot;
  for (const part of relative.split('/')) {
    const next = path.join(current, part);
    try {
      current = await fs.realpath(next);
    } catch {
      const link = await fs.readlink(next).catch(() => null);
      return link !== null && !isInside(realRoot, path.resolve(current, link));
    }
    if (!isInside(realRoot, current)) return true;
  }
  return false;
}

export interface ResolvedPath {
  /** Normalised, forward-slash path relative to the workspace. */
  relative: string;
  /** Absolute path on disk (the real path, symlinks resolved, for existing files). */
  absolute: string;
}

/**
 * Resolves a user-supplied path inside a workspace (docs/http-api.md, "File access"): lexical checks first,
 * then containment of the real path (so a symlink to a file or directory outside is refused even
 * when the link itself sits inside). A safe path that does not exist raises FileMissingError.
 */
export async function resolveInsideWorkspace(workspaceRoot: string, userPath: string): Promise<ResolvedPath> {
  const relative = checkRelativePath(userPath);
  let realRoot: string;
  try {
    realRoot = await fs.realpath(workspaceRoot);
  } catch {
    throw new FileMissingError(relative);
  }
  const joined = path.join(realRoot, relative);
  if (!isInside(realRoot, joined)) throw new InvalidPathError('outside workspace');
  let real: string;
  try {
    real = await fs.realpath(joined);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      // A link (dangling, or an ancestor directory link) pointing outside is still an escape
      // attempt, not a missing file.
      if (await missingPathEscapes(realRoot, relative)) throw new InvalidPathError('symlink escapes workspace');
      throw new FileMissingError(relative);
    }
    // A path no file can have (a name or the whole path longer than the filesystem allows).
    if (['ENOTDIR', 'ENAMETOOLONG'].includes((err as NodeJS.ErrnoException).code ?? '')) {
      throw new FileMissingError(relative);
    }
    throw err;
  }
  if (!isInside(realRoot, real)) throw new InvalidPathError('symlink escapes workspace');
  return { relative, absolute: real };
}
