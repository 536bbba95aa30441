import type { Preview } from '@cwo/contracts';
import { json, type Reply } from '../http/reply';
import type { RequestContext } from '../http/route';
import { requireProject } from './lookups';

/** GET /projects/{id}/preview: where the preview opens (a signed link in api_key mode) and its state. */
export async function getPreview({ deps, params, principal }: RequestContext): Promise<Reply> {
  const project = await requireProject(deps, principal.userId, params.projectId!);
  const link = deps.previews.linkFor(project.id);
  const preview: Preview = {
    project_id: project.id,
    kind: 'static',
    status: 'running',
    preview_url: link.url,
    expires_at: link.expiresAt?.toISOString() ?? null,
    command: null,
    port: null,
    started_at: null,
    stopped_at: null,
    reason: null,
    log: '',
  };
  return json(200, preview);
}
