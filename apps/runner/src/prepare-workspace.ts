import fs from 'node:fs';
import { WorkerRequest } from '@cwo/contracts';
import { CODEX_DIR, relativeJobResultPath, requestFile, resultFile } from '@cwo/workspace';
import { ensureRealDir, readRegularFile, writeFileDirect } from './safe-fs';

// Before the agent starts: the workspace and .codex/ exist, the previous job's top-level
// result.json is out of the way (so a client polling .codex/result.json never reads a stale one),
// and .codex/request.json says what to do, with a copy kept in the job's own directory.

const REQUEST_MAX_BYTES = 1024 * 1024;
// Only whose request it is matters here: checking the whole request (every earlier job's entry)
// again was a job's cost that grew with the project's history.
const RequestOwner = WorkerRequest.pick({ job_id: true });

/** Whether anything (a link included, not followed) is at `p`. */
const present = (p: string): boolean => fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;

/** The job id of the request.json in place, if there is a readable one. */
function currentRequestJobId(workspace: string): string | null {
  let file;
  try {
    file = readRegularFile(workspace, `${CODEX_DIR}/request.json`, REQUEST_MAX_BYTES);
  } catch {
    return null;
  }
  if (!file) return null;
  try {
    const parsed = RequestOwner.safeParse(JSON.parse(file.data.toString('utf8')));
    return parsed.success ? parsed.data.job_id : null;
  } catch {
    return null;
  }
}

/**
 * Moves a top-level result.json left by an earlier job into that job's directory (it belongs to
 * the job named in the request.json beside it). One left by an earlier attempt of this same job,
 * or one whose job is unknown or already has its copy, is removed.
 */
function retireEarlierResult(workspace: string, jobId: string, log: (m: string) => void): void {
  const top = resultFile(workspace);
  let stat;
  try {
    stat = fs.lstatSync(top);
  } catch {
    return;
  }
  const owner = stat.isFile() ? currentRequestJobId(workspace) : null;
  if (owner && owner !== jobId) {
    const dest = relativeJobResultPath(owner);
    const destDir = ensureRealDir(workspace, dest.slice(0, dest.lastIndexOf('/')));
    if (!present(`${destDir}/result.json`)) {
      fs.renameSync(top, `${destDir}/result.json`);
      log(`moved the result.json of job ${owner} to ${dest}`);
      return;
    }
  }
  fs.rmSync(top, { force: true, recursive: !stat.isFile() && stat.isDirectory() });
  log(owner === jobId ? 'removed the result.json of an earlier attempt of this job' : 'removed an earlier result.json');
}

export function prepareWorkspace(workspace: string, request: WorkerRequest, log: (m: string) => void): void {
  ensureRealDir(workspace, `${CODEX_DIR}/jobs/${request.job_id}`);
  retireEarlierResult(workspace, request.job_id, log);
  const json = `${JSON.stringify(request, null, 2)}\n`;
  writeFileDirect(workspace, `${CODEX_DIR}/request.json`, json);
  writeFileDirect(workspace, `${CODEX_DIR}/jobs/${request.job_id}/request.json`, json);
  log(
    `wrote ${requestFile(workspace).slice(workspace.length + 1)} (${request.job_type}, ${request.history.length} earlier jobs)`,
  );
}
