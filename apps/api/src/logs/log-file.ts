import fs from 'node:fs';
import {
  FileMissingError,
  jobLogFile,
  openWorkspaceFile,
  relativeJobLogPath,
  type OpenedWorkspaceFile,
} from '@cwo/workspace';
import type { LogReader } from './log-tail';

// A job's log lives in its project's workspace (.codex/jobs/<jobId>/job.log), written by the
// runner. The agent can write there too, so the log is opened under the same policy as any
// workspace file: a log replaced by a symlink out of the workspace is refused (InvalidPathError).

/** The open log, or null while it does not exist yet (the job has not started). */
export async function openJobLog(workspace: string, jobId: string): Promise<OpenedWorkspaceFile | null> {
  try {
    return await openWorkspaceFile(workspace, relativeJobLogPath(jobId));
  } catch (err) {
    if (err instanceof FileMissingError) return null; // NotAFileError included
    throw err;
  }
}

/** The log opened under the workspace policy for repeated reads, or null while it does not exist. */
export async function openLogReader(workspace: string, jobId: string): Promise<LogReader | null> {
  const log = await openJobLog(workspace, jobId);
  if (!log) return null;
  // One scratch buffer for this reader's reads (they come one at a time), and a copy of what each
  // read got: a tail reading a few lines at a time would otherwise leave a chunk-sized buffer to
  // the garbage collector per read, for the lines it holds.
  let scratch = Buffer.alloc(0);
  return {
    size: log.size,
    async read(offset, maxBytes) {
      if (scratch.length < maxBytes) scratch = Buffer.allocUnsafe(maxBytes);
      const { bytesRead } = await log.handle.read(scratch, 0, maxBytes, offset);
      return Buffer.from(scratch.subarray(0, bytesRead));
    },
    close: () => log.handle.close(),
  };
}

/**
 * Calls `onChange` when the job's log file changes (inotify on Linux, at no cost between writes),
 * and `onLost` once the watch ends by itself (the file was renamed, removed or replaced). Null
 * while the file does not exist, or where it cannot be watched: callers poll as well, because a
 * watch does not see what another machine writes to a network volume.
 */
export function watchJobLog(
  workspace: string,
  jobId: string,
  onChange: () => void,
  onLost: () => void,
): (() => void) | null {
  let watcher: fs.FSWatcher;
  try {
    watcher = fs.watch(jobLogFile(workspace, jobId), { persistent: false });
  } catch {
    return null;
  }
  const lost = () => {
    watcher.close();
    onLost();
  };
  watcher.on('change', (type) => {
    if (type === 'rename') lost();
    onChange();
  });
  watcher.on('error', lost);
  return () => watcher.close();
}
