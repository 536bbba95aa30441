import type { PushRequest, PushResult } from '@cwo/contracts';
import { pushHistory, PushError, sshKeyProblem, systemLookup } from '@cwo/code-io';
import { projectHistoryDir } from '@cwo/history';
import { recordedWorkspaceOf } from '@cwo/jobs';
import { conflict, HttpError, validationFailed } from '../http/errors';
import { json, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import { requireProject } from './lookups';

// POST /projects/{id}/push: the project's history to a branch of a remote repository, done here
// in the API rather than as a runner job. A push only reads the history, and what it pushes is a
// commit id read from Postgres (the project's last finished job's), not the branch: the runner
// may be moving the branch meanwhile (a job committing, an attempt's commit put back), but the
// objects of a finished job's commit are written before its row names it and are never removed
// (the history is never pruned), so the push needs no project lock and never waits for a job.

/** Above every job's seq: "after every finished job of the project". */
const AFTER_EVERY_JOB = '9223372036854775807';

export async function pushProject({
  deps,
  params,
  body,
  signal,
  principal,
}: RequestContext<PushRequest>): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const recorded = await recordedWorkspaceOf(deps.db, { projectId: project.id, seq: AFTER_EVERY_JOB });
  if (recorded.kind === 'empty') throw conflict('Nothing to push: no job of the project has finished with a commit');
  if (recorded.kind === 'unknown')
    throw conflict(
      `The project history does not hold the project’s state: job ${recorded.jobId} changed files without a commit`,
    );
  const { config } = deps;
  const keyProblem = body.ssh_key ? sshKeyProblem(body.ssh_key) : null;
  if (keyProblem) throw validationFailed([{ loc: ['body', 'ssh_key'], msg: keyProblem, type: 'value_error' }]);
  let pushed;
  try {
    pushed = await pushHistory({
      gitDir: projectHistoryDir(config.workspaceRoot, project.id),
      commit: recorded.sha,
      url: body.url,
      branch: body.branch,
      token: body.token,
      ssh: { key: body.ssh_key, knownHosts: body.known_hosts },
      rules: { allowPrivateHosts: config.IMPORT_ALLOW_PRIVATE_HOSTS, allowHttp: config.IMPORT_ALLOW_HTTP },
      lookup: deps.lookup ?? systemLookup,
      deadline: Date.now() + config.IMPORT_TIMEOUT_SECONDS * 1000,
      signal,
    });
  } catch (err) {
    if (!(err instanceof PushError)) throw err;
    if (err.kind === 'refused')
      throw validationFailed([{ loc: ['body', err.field], msg: err.message, type: 'value_error' }]);
    if (err.kind === 'rejected') throw conflict(`The push was rejected: ${err.message}`);
    // The remote did not take it (unreachable, authentication, a server error, the time limit).
    throw new HttpError(502, `The push failed: ${err.message}`);
  }
  const result: PushResult = {
    url: pushed.url,
    branch: pushed.branch,
    commit: pushed.commit,
    previous_commit: pushed.previousCommit,
    status: pushed.status,
    commits: pushed.commits,
    job_id: recorded.jobId,
  };
  return json(200, result);
}
