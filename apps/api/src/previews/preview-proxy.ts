import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { Logger } from '@cwo/logger';

// The reverse proxy from a preview's origin to its server's published port (HTTP and WebSocket
// upgrades, for dev servers with live reload), with http-proxy-middleware.

/**
 * The code a request's `fail` gets when the server did not start its answer within the timeout:
 * our own, so that a socket's real ETIMEDOUT (a dead route) stays a 502, not a 504 for the timeout.
 */
export const PREVIEW_TIMEOUT_CODE = 'CWO_PREVIEW_ANSWER_TIMEOUT';

export const PREVIEW_TARGET = Symbol('previewTarget');
const PREVIEW_FAIL = Symbol('previewFail');
type Targeted = IncomingMessage & { [PREVIEW_TARGET]?: string; [PREVIEW_FAIL]?: (code: string) => void };

export interface PreviewProxy {
  /**
   * `fail` is called (with the socket error's code, or PREVIEW_TIMEOUT_CODE) when the server does
   * not answer, to send the error.
   */
  web(req: IncomingMessage, res: ServerResponse, target: string, fail: (code: string) => void): void;
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer, target: string): void;
}

/**
 * `answerTimeoutMs` bounds the wait for the server's status line and headers only: http-proxy's
 * own `proxyTimeout` is a socket idle timeout, which would also cut an event stream or a long
 * download that pauses longer than it.
 */
export function createPreviewProxy(logger: Logger, csp: string, answerTimeoutMs: number): PreviewProxy {
  const proxy: RequestHandler = createProxyMiddleware({
    router: (req) => (req as Targeted)[PREVIEW_TARGET]!,
    xfwd: true,
    on: {
      proxyReq(proxyReq) {
        const timer = setTimeout(() => {
          proxyReq.destroy(
            Object.assign(new Error('the preview server did not answer in time'), { code: PREVIEW_TIMEOUT_CODE }),
          );
        }, answerTimeoutMs);
        const stop = () => clearTimeout(timer);
        proxyReq.once('response', stop);
        proxyReq.once('close', stop);
      },
      proxyRes(proxyRes) {
        // The preview's own policy wins over whatever the server says, and the server sets no
        // cookies: one with Domain=localhost would reach the app's origin.
        proxyRes.headers['content-security-policy'] = csp;
        delete proxyRes.headers['content-security-policy-report-only'];
        delete proxyRes.headers['set-cookie'];
      },
      error(err, req, res) {
        logger.warn('preview proxy error', { error: err.message });
        const fail = (req as Targeted)[PREVIEW_FAIL];
        if ('writeHead' in res && !res.headersSent && fail) {
          fail((err as NodeJS.ErrnoException).code ?? 'no answer');
        } else if ('destroy' in res) {
          res.destroy();
        }
      },
    },
  });
  return {
    web(req, res, target, fail) {
      (req as Targeted)[PREVIEW_TARGET] = target;
      (req as Targeted)[PREVIEW_FAIL] = fail;
      void proxy(req, res, () => undefined);
    },
    upgrade(req, socket, head, target) {
      (req as Targeted)[PREVIEW_TARGET] = target;
      proxy.upgrade(req, socket, head);
    },
  };
}
