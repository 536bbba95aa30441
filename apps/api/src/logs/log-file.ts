import { FileMissingError, openWorkspaceFile, relativeJobLogPath, type OpenedWorkspaceFile } from '@cwo/workspace';

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

/** Up to `maxBytes` of the log from `offset` (empty at the end or while there is no log). */
export async function readLogChunk(
  workspace: string,
  jobId: string,
  offset: number,
  maxBytes: number,
): Promise<Buffer> {
  const log = await openJobLog(workspace, jobId);
  if (!log) return Buffer.alloc(0);
  try {
    const length = Math.max(0, Math.min(maxBytes, log.size - offset));
    if (length === 0) return Buffer.alloc(0);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await log.handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await log.handle.close().catch(() => undefined);
  }
}
