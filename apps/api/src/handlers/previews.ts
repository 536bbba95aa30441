import type { Preview, PreviewSpec, PreviewStart } from '@cwo/contracts';
import { WorkerResult } from '@cwo/contracts';
import type { Project } from '@cwo/db';
import { openWorkspaceFile, readSmallText, relativeJobResultPath } from '@cwo/workspace';
import type { AppServices } from '../deps';
import { HttpError } from '../http/errors';
import { empty, json, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import type { PreviewState } from '../previews/running-previews';
import { workspaceOf } from '../workspace-dirs';
import { requireProject } from './lookups';

// GET/POST/DELETE /projects/{id}/preview. A project's preview is static (its files as a site)
// unless a server was started for it; either way `preview_url` opens it.

function toPreview(deps: AppServices, project: Project, state: PreviewState | null): Preview {
  const link = deps.previews.linkFor(project.id);
  const base = { project_id: project.id, preview_url: link.url, expires_at: link.expiresAt?.toISOString() ?? null };
  if (!state) {
    return {
      ...base,
      kind: 'static',
      status: 'running',
      command: null,
      port: null,
      started_at: null,
      stopped_at: null,
      reason: null,
      log: '',
    };
  }
  return {
    ...base,
    kind: 'server',
    status: state.status,
    command: state.command,
    port: state.port,
    started_at: state.startedAt,
    stopped_at: state.stoppedAt,
    reason: state.reason,
    log: state.log,
  };
}

function runningPreviews(deps: AppServices) {
  if (!deps.runningPreviews) {
    // A 409, not a 503: nothing will change until the API is configured, so a client must not retry.
    throw new HttpError(
      409,
      'Running previews are off: this API has no container engine (set DOCKER_HOST for the API and restart it); the static preview still works',
    );
  }
  return deps.runningPreviews;
}

export async function getPreview({ deps, params, principal }: RequestContext): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const state = (await deps.runningPreviews?.get(project.id)) ?? null;
  return json(200, toPreview(deps, project, state));
}

/** The `preview` the agent named in the result.json of the project's latest completed job, if any. */
async function agentsSpec(deps: AppServices, projectId: string): Promise<PreviewSpec | undefined> {
  const job = await deps.db.job.findFirst({
    where: { projectId, status: 'completed' },
    orderBy: { seq: 'desc' },
    select: { id: true },
  });
  if (!job) return undefined;
  const file = await openWorkspaceFile(workspaceOf(deps.config, projectId), relativeJobResultPath(job.id)).catch(
    () => null,
  );
  if (!file) return undefined;
  try {
    const text = await readSmallText(file, 1024 * 1024);
    const parsed = text === null ? null : WorkerResult.safeParse(JSON.parse(text));
    return parsed?.success ? parsed.data.preview : undefined;
  } catch {
    return undefined;
  } finally {
    await file.handle.close().catch(() => undefined);
  }
}

/**
 * POST /projects/{id}/preview `{command, port}`: starts the project's server in a preview
 * container (202, starting); without a body, the one the agent named in result.json; without
 * either, the static preview (200).
 */
export async function startPreview({
  deps,
  params,
  principal,
  body,
}: RequestContext<PreviewStart | undefined>): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const given = body?.command !== undefined ? { command: body.command, port: body.port! } : undefined;
  const spec = given ?? (await agentsSpec(deps, project.id));
  if (!spec) return json(200, toPreview(deps, project, null));
  const state = await runningPreviews(deps).start(project.id, spec);
  return json(202, toPreview(deps, project, state));
}

/** DELETE /projects/{id}/preview: stops its server (the static preview stays). */
export async function stopPreview({ deps, params, principal }: RequestContext): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  await deps.runningPreviews?.stop(project.id, 'stopped by DELETE /preview');
  return empty(204);
}
