import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { Logger } from '@cwo/logger';

// The reverse proxy from a preview's origin to its server's published port (HTTP and WebSocket
// upgrades, for dev servers with live reload), with http-proxy-middleware.

export const PREVIEW_TARGET = Symbol('previewTarget');
type Targeted = IncomingMessage & { [PREVIEW_TARGET]?: string };

export interface PreviewProxy {
  web(req: IncomingMessage, res: ServerResponse, target: string): void;
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer, target: string): void;
}

export function createPreviewProxy(logger: Logger, csp: string): PreviewProxy {
  const proxy: RequestHandler = createProxyMiddleware({
    router: (req) => (req as Targeted)[PREVIEW_TARGET]!,
    xfwd: true,
    on: {
      proxyRes(proxyRes) {
        // The preview's own policy wins over whatever the server says, and the server sets no
        // cookies: one with Domain=localhost would reach the app's origin.
        proxyRes.headers['content-security-policy'] = csp;
        delete proxyRes.headers['content-security-policy-report-only'];
        delete proxyRes.headers['set-cookie'];
      },
      error(err, _req, res) {
        logger.warn('preview proxy error', { error: err.message });
        if ('writeHead' in res && !res.headersSent) {
          res.writeHead(502, { 'Content-Type': 'text/plain', 'Content-Security-Policy': csp });
          res.end('The preview server did not answer');
        } else if ('destroy' in res) {
          res.destroy();
        }
      },
    },
  });
  return {
    web(req, res, target) {
      (req as Targeted)[PREVIEW_TARGET] = target;
      void proxy(req, res, () => undefined);
    },
    upgrade(req, socket, head, target) {
      (req as Targeted)[PREVIEW_TARGET] = target;
      proxy.upgrade(req, socket, head);
    },
  };
}
