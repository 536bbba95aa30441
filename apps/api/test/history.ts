import { commitJob } from '@cwo/history';
import type { Harness } from './harness';

// What the runner does when a job ends, played by the tests that read a project's history (diff,
// archive, bundle): the workspace as it is committed as that job, and the job row completed with
// the commit, as the runner writes it.

const AUTHOR = { name: 'Codex Workspace Orchestrator', email: 'orchestrator@localhost' };

/** A project as POST /projects answers it. */
export interface CreatedProject {
  id: string;
  workspace_path: string;
}

export interface EndedJob {
  id: string;
  jobType: string;
  instruction: string;
}

/** Commits the workspace as `job` of `project` and marks the job completed with it; the commit id. */
export async function commitAsRunner(
  h: Pick<Harness, 'config' | 'db'>,
  project: CreatedProject,
  job: EndedJob,
): Promise<string> {
  const sha = await commitJob({
    workspaceRoot: h.config.workspaceRoot,
    projectId: project.id,
    workspace: project.workspace_path,
    job,
    author: AUTHOR,
  });
  await h.db.job.update({
    where: { id: job.id },
    data: { status: 'completed', commitSha: sha, startedAt: new Date(), finishedAt: new Date() },
  });
  return sha;
}
