import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { LOCAL_USER_ID } from '../auth/accounts';
import type { AppDeps } from '../deps';
import { notFound } from '../http/errors';
import { workspaceOf } from '../workspace-dirs';
import type { PreviewAccess } from './preview-access';
import { serveStaticPreview } from './static-preview';

// Requests whose Host is a preview origin (PREVIEW_BASE_URL) are answered here, before any of the
// app's own middleware and routes: a preview is another site, and nothing of the app (its CORS
// answers, its routes, its pages, its cookies) may be reached through it.

/**
 * Every preview answer is a sandboxed document: an opaque origin, so an agent's page can neither
 * read cookies or storage, nor count as same-origin with anything, nor navigate the window that
 * embeds or opened it.
 */
export const PREVIEW_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-modals';

function setIsolationHeaders(res: Response): void {
  res.set({
    'Content-Security-Policy': PREVIEW_CSP,
    'X-Content-Type-Options': 'nosniff',
    // A signed preview's host is its own key: not handed to the sites its pages link to.
    'Referrer-Policy': 'no-referrer',
    // The workspace changes with every job: revalidate (ETags make that cheap).
    'Cache-Control': 'no-cache',
  });
}

const unknownPreview = () => notFound('Preview not found');

export function previewHost(deps: Pick<AppDeps, 'db' | 'config'>, access: PreviewAccess): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const named = access.projectOfHost(req.headers.host);
    if (named === 'not_preview') {
      next();
      return;
    }
    setIsolationHeaders(res);
    (async () => {
      // Forged, expired, or a project that is gone (or, AUTH_MODE=none, not the local user's): all
      // the same 404, as for a project that never existed.
      if (named === null) throw unknownPreview();
      const project = await deps.db.project.findUnique({ where: { id: named.projectId } });
      if (!project || (!access.signed && project.ownerId !== LOCAL_USER_ID)) throw unknownPreview();
      await serveStaticPreview(req, res, workspaceOf(deps.config, project.id));
    })().catch(next);
  };
}
