import type { IncomingHttpHeaders } from 'node:http';
import { forbidden } from '../http/errors';

// Cross-site request forgery: a request authenticated by the session cookie that changes
// something must come from the app's own pages. SameSite=Strict already keeps the cookie off
// requests other sites start; the Origin check also stops what SameSite lets through (sibling
// origins of the same site, such as another port of localhost or a dev server). Bearer keys are
// never sent by a browser on its own, so requests carrying one are not checked.

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What a request says about where it is going and where it came from. */
export interface RequestOrigin {
  method: string;
  headers: IncomingHttpHeaders;
  /** This server's origin as the request reached it: `${protocol}://${host}` (trust proxy decides both). */
  ownOrigin: string;
}

/** The origin the browser says the request came from: Origin, else Referer's origin. */
function senderOrigin(headers: IncomingHttpHeaders): string | undefined {
  const origin = headers.origin;
  if (origin !== undefined && origin !== '') return origin;
  const referer = headers.referer;
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

export const changesState = (method: string): boolean => !SAFE_METHODS.has(method.toUpperCase());

/** Throws 403 unless a state-changing request says it came from this server's own origin. */
export function requireSameOrigin(req: RequestOrigin): void {
  if (!changesState(req.method)) return;
  const sender = senderOrigin(req.headers);
  if (sender === undefined) {
    throw forbidden(
      `Cross-site request refused: a ${req.method.toUpperCase()} made with the session cookie must carry an Origin (or Referer) header of ${req.ownOrigin}`,
    );
  }
  if (sender.toLowerCase() !== req.ownOrigin.toLowerCase()) {
    throw forbidden(
      `Cross-site request refused: the request came from ${sender.slice(0, 200)}, not from ${req.ownOrigin}; sign in from the app's own pages`,
    );
  }
}
