import type { Request } from 'express';
import type { AppDeps } from '../deps';
import { unauthorized } from '../http/errors';
import { findActiveKey, LOCAL_USER_ID, touchApiKey, type Principal } from './accounts';
import { looksLikeApiKey } from './api-keys';
import { requireSameOrigin, type RequestOrigin } from './same-origin';
import { sessionTokenOf } from './session-cookie';
import { findActiveSession } from './sessions';

/** Who is calling, from the Authorization header or the session cookie; throws a 401 (or 403) HttpError when that cannot be told. */
export type Authenticate = (req: RequestOrigin) => Promise<Principal>;

/** AUTH_MODE=none: every request is this user (clients send no credentials). */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({
  userId: LOCAL_USER_ID,
  keyId: null,
  isAdmin: false,
  session: null,
});

const CHALLENGE = 'Bearer realm="api"';
// RFC 6750 §3.1: a request that sent a token that is no good says so in the challenge.
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="api", error="invalid_token"';

/** What authenticate needs of an Express request: its headers, method, and the server's own origin. */
export function requestOriginOf(req: Request): RequestOrigin {
  // req.protocol and req.host honour X-Forwarded-Proto/-Host only when TRUST_PROXY trusts the sender.
  return { method: req.method, headers: req.headers, ownOrigin: `${req.protocol}://${req.host}` };
}

/** The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive). */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw unauthorized('Missing API key: send the header "Authorization: Bearer <key>"', CHALLENGE);
  }
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (!match) throw unauthorized('Malformed Authorization header: expected "Bearer <key>"', INVALID_TOKEN_CHALLENGE);
  if (!looksLikeApiKey(match[1]!)) throw unauthorized('Malformed API key', INVALID_TOKEN_CHALLENGE);
  return match[1]!;
}

const hasAuthorization = (req: RequestOrigin): boolean => (req.headers.authorization ?? '').trim() !== '';

/**
 * AUTH_MODE=api_key: the key's owner, if the key exists and is not revoked. The lookup is by the
 * key's SHA-256 (a unique index), so revoking a key takes effect on the next request. Unknown and
 * revoked keys get the same answer: a caller holding a revoked key learns nothing from the
 * difference, and a guessing one nothing at all.
 *
 * Without an Authorization header, the web app's session cookie (POST /session) is taken instead:
 * its key must still be good, and a state-changing request must come from the app's own origin
 * (403 otherwise). An Authorization header wins over a cookie: API clients are not affected by it.
 */
export function createAuthenticator({ db, config, logger }: Pick<AppDeps, 'db' | 'config' | 'logger'>): Authenticate {
  if (config.AUTH_MODE === 'none') return () => Promise.resolve(LOCAL_PRINCIPAL);
  const recordUse = (key: { id: string; lastUsedAt: Date | null }) =>
    touchApiKey(db, key).catch((err: Error) => {
      logger.warn('could not record when the API key was last used', { key_id: key.id, error: err });
    });
  return async (req) => {
    const token = hasAuthorization(req) ? undefined : sessionTokenOf(req.headers);
    if (token !== undefined) {
      requireSameOrigin(req);
      const session = await findActiveSession(db, token);
      if (!session) throw unauthorized('Session expired or ended: sign in again', CHALLENGE);
      await recordUse(session.apiKey);
      return {
        userId: session.apiKey.userId,
        keyId: session.apiKey.id,
        isAdmin: session.apiKey.isAdmin,
        session: { id: session.id, expiresAt: session.expiresAt },
      };
    }
    const key = await findActiveKey(db, bearerToken(req.headers.authorization));
    if (!key) throw unauthorized('Invalid API key (unknown or revoked)', INVALID_TOKEN_CHALLENGE);
    await recordUse(key);
    return { userId: key.userId, keyId: key.id, isAdmin: key.isAdmin, session: null };
  };
}
