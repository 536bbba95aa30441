import path from 'node:path';

// Where things live inside a project's workspace. The API, the runner and the worker all use
// these, so the layout is defined once.

export const CODEX_DIR = '.codex';

export function projectWorkspace(workspaceRoot: string, projectId: string): string {
  return path.join(workspaceRoot, projectId);
}

/** `.codex/request.json`: what the agent is asked to do. */
export function requestFile(workspace: string): string {
  return path.join(workspace, CODEX_DIR, 'request.json');
}

/** `.codex/result.json`: what the agent says it did (the current job's only). */
export function resultFile(workspace: string): string {
  return path.join(workspace, CODEX_DIR, 'result.json');
}

/** `.codex/jobs/<jobId>/`: a job's own copies of request, result and log, kept for history. */
function jobDir(workspace: string, jobId: string): string {
  return path.join(workspace, CODEX_DIR, 'jobs', jobId);
}

export function jobLogFile(workspace: string, jobId: string): string {
  return path.join(jobDir(workspace, jobId), 'job.log');
}

/** Workspace-relative forms, as stored in the jobs table (result_path, logs_path). */
export const relativeResultPath = (): string => `${CODEX_DIR}/result.json`;
export const relativeJobLogPath = (jobId: string): string => `${CODEX_DIR}/jobs/${jobId}/job.log`;
export const relativeJobResultPath = (jobId: string): string => `${CODEX_DIR}/jobs/${jobId}/result.json`;
