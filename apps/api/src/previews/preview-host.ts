import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { LOCAL_USER_ID } from '../auth/accounts';
import type { AppDeps } from '../deps';
import { HttpError, notFound } from '../http/errors';
import { workspaceOf } from '../workspace-dirs';
import type { PreviewAccess } from './preview-access';
import { PREVIEW_TIMEOUT_CODE, type PreviewProxy } from './preview-proxy';
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

/** The project a preview request is for, checked: forged, expired, gone or not the local user's is a 404. */
async function previewProject(
  deps: Pick<AppDeps, 'db'>,
  access: PreviewAccess,
  host: string | undefined,
): Promise<{ id: string } | 'not_preview'> {
  const named = access.projectOfHost(host);
  if (named === 'not_preview') return named;
  if (named === null) throw unknownPreview();
  const project = await deps.db.project.findUnique({ where: { id: named.projectId } });
  if (!project || (!access.signed && project.ownerId !== LOCAL_USER_ID)) throw unknownPreview();
  return project;
}

export function previewHost(
  deps: Pick<AppDeps, 'db' | 'config' | 'runningPreviews'>,
  access: PreviewAccess,
  proxy: PreviewProxy,
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (access.projectOfHost(req.headers.host) === 'not_preview') {
      next();
      return;
    }
    setIsolationHeaders(res);
    (async () => {
      const project = await previewProject(deps, access, req.headers.host);
      if (project === 'not_preview') return;
      const target = await deps.runningPreviews?.targetOf(project.id);
      if (target) {
        if (target.status === 'starting' || target.url === null) {
          throw new HttpError(503, 'The preview server is starting', { 'Retry-After': '1' });
        }
        // In the API's error shape like every other answer: a server that exited or stopped
        // listening after it started (its state and log say more).
        const timeoutS = deps.config.PREVIEW_PROXY_TIMEOUT_SECONDS;
        const state = `GET /api/v1/projects/${project.id}/preview has its state and log`;
        proxy.web(req, res, target.url, (code) =>
          next(
            code === PREVIEW_TIMEOUT_CODE
              ? new HttpError(
                  504,
                  `The preview server did not start its answer within ${timeoutS} s (PREVIEW_PROXY_TIMEOUT_SECONDS); ${state}`,
                )
              : new HttpError(
                  502,
                  `The preview server did not answer (${code}): it may have exited or stopped listening on port ${target.port}; ${state}`,
                ),
          ),
        );
        return;
      }
      await serveStaticPreview(req, res, workspaceOf(deps.config, project.id));
    })().catch(next);
  };
}

/**
 * WebSocket upgrades of preview hosts (dev servers' live reload), proxied to a running preview;
 * anything else is refused. Returns false for hosts that are not previews (the app's own upgrades).
 */
export function previewUpgrade(
  deps: Pick<AppDeps, 'db' | 'runningPreviews'>,
  access: PreviewAccess,
  proxy: PreviewProxy,
): (req: IncomingMessage, socket: Socket, head: Buffer) => boolean {
  return (req, socket, head) => {
    if (access.projectOfHost(req.headers.host) === 'not_preview') return false;
    socket.on('error', () => undefined);
    void (async () => {
      const project = await previewProject(deps, access, req.headers.host);
      if (project === 'not_preview') throw unknownPreview();
      const target = await deps.runningPreviews?.targetOf(project.id);
      if (!target?.url || target.status !== 'running') throw unknownPreview();
      proxy.upgrade(req, socket, head, target.url);
    })().catch(() => {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    return true;
  };
}
