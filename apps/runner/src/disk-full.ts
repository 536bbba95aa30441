import fs from 'node:fs';

// A full workspace disk (ENOSPC, or a quota: EDQUOT) is not worth a retry a second later, and
// the error a job ends with should say so in words: "no space left on device" in the middle of
// an executor's message is easy to miss, and a worker that cannot write its result only says it
// exited with code 1. So failures are also checked against the disk's free space.

/** What a job's errors say when WORKSPACE_ROOT's disk is full. */
export const DISK_FULL =
  'the workspace disk is full (no space left on WORKSPACE_ROOT); free space, then run the job again';

/** Below this much free space the disk counts as full (a job's files need more than that). */
const FULL_BELOW_BYTES = 1024 * 1024;

const CODES = new Set(['ENOSPC', 'EDQUOT']);

/** True when `err` (or what it wraps) is the filesystem saying it has no space left. */
export function isDiskFullError(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && /\bENOSPC\b|no space left on device|disk quota exceeded/i.test(e.message))
    return true;
  return isDiskFullError(e.cause, depth + 1);
}

/** True when the filesystem holding `dir` has (almost) no space left for this process. */
export function diskIsFull(dir: string): boolean {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize < FULL_BELOW_BYTES;
  } catch {
    return false;
  }
}

/** The error line of a job that failed because the disk is full, with what failed. */
export const diskFullError = (what: string): string => `${DISK_FULL}: ${what}`;
