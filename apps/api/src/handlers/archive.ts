import type { ArchiveQuery } from '@cwo/contracts';
import {
  ARCHIVE_MEDIA_TYPES,
  ExportTooLarge,
  planWorkspaceExport,
  streamWorkspaceArchive,
  type ArchiveFormat,
} from '@cwo/code-io';
import { openHistoryBundle, openTreeArchive } from '@cwo/history';
import { conflict, notFound } from '../http/errors';
import { stream, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import { workspaceOf } from '../workspace-dirs';
import { noCommit, requireJob, requireProject } from './lookups';

// Taking a project's code out: the workspace (or the tree a job left) as an archive, and the
// history as a git bundle. Both are streamed as they are made.

const attachment = (name: string, type: string) => ({
  'Content-Type': type,
  'Content-Disposition': `attachment; filename="${name}"`,
  'Cache-Control': 'no-store',
});

/**
 * GET /projects/{id}/archive: the workspace now (`.codex/` only with include_codex=1), or with
 * job=<jobId> the tree of that job's commit. The archive's entries are under `<projectId>/`.
 * 409 when the workspace is over EXPORT_MAX_FILES / EXPORT_MAX_BYTES; 404 when the job has no commit.
 */
export async function downloadArchive({
  deps,
  params,
  query,
  signal,
  principal,
}: RequestContext<unknown, ArchiveQuery>): Promise<Reply> {
  const format: ArchiveFormat = query.format;
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const prefix = project.id;
  if (query.job) {
    const job = await requireJob(deps, principal.userId, project.id, query.job);
    if (!job.commitSha) throw noCommit(job);
    const archive = await openTreeArchive({
      workspaceRoot: deps.config.workspaceRoot,
      projectId: project.id,
      sha: job.commitSha,
      format,
      prefix,
      signal,
    });
    if (!archive) throw notFound('The job’s commit is missing from the project history');
    return stream(
      200,
      {
        ...attachment(`${project.id}-${job.id.slice(0, 8)}.${format}`, ARCHIVE_MEDIA_TYPES[format]),
        'X-Commit': job.commitSha,
      },
      archive,
    );
  }
  let plan;
  try {
    // One synchronous walk (an lstat per entry), so that an export over its limits is refused
    // before anything is sent.
    plan = planWorkspaceExport(workspaceOf(deps.config, project.id), {
      includeCodex: query.include_codex,
      limits: { maxFiles: deps.config.EXPORT_MAX_FILES, maxBytes: deps.config.EXPORT_MAX_BYTES },
    });
  } catch (err) {
    if (err instanceof ExportTooLarge) throw conflict(`The archive would be too large: ${err.message}`);
    throw err;
  }
  const archive = streamWorkspaceArchive(plan, format, prefix);
  signal.addEventListener('abort', () => archive.destroy(), { once: true });
  return stream(
    200,
    {
      ...attachment(`${project.id}.${format}`, ARCHIVE_MEDIA_TYPES[format]),
      'X-Archive-Files': String(plan.files),
    },
    archive,
  );
}

/** GET /projects/{id}/history.bundle: `git clone project.bundle` gives one commit per job. */
export async function downloadHistoryBundle({ deps, params, signal, principal }: RequestContext): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const bundle = await openHistoryBundle({ workspaceRoot: deps.config.workspaceRoot, projectId: project.id, signal });
  if (!bundle) throw notFound('The project has no history yet: no job has finished');
  return stream(200, attachment(`${project.id}.bundle`, 'application/x-git-bundle'), bundle);
}
