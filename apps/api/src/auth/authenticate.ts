import type { AppDeps } from '../deps';
import { unauthorized } from '../http/errors';
import { findActiveKey, LOCAL_USER_ID, touchApiKey, type Principal } from './accounts';
import { looksLikeApiKey } from './api-keys';

/** Who is calling, from the Authorization header; throws a 401 HttpError when that cannot be told. */
export type Authenticate = (authorization: string | undefined) => Promise<Principal>;

/** AUTH_MODE=none: every request is this user (clients send no credentials). */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({ userId: LOCAL_USER_ID, keyId: null, isAdmin: false });

const CHALLENGE = 'Bearer realm="api"';
// RFC 6750 §3.1: a request that sent a token that is no good says so in the challenge.
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="api", error="invalid_token"';

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

/**
 * AUTH_MODE=api_key: the key's owner, if the key exists and is not revoked. The lookup is by the
 * key's SHA-256 (a unique index), so revoking a key takes effect on the next request. Unknown and
 * revoked keys get the same answer: a caller holding a revoked key learns nothing from the
 * difference, and a guessing one nothing at all.
 */
export function createAuthenticator({ db, config, logger }: Pick<AppDeps, 'db' | 'config' | 'logger'>): Authenticate {
  if (config.AUTH_MODE === 'none') return () => Promise.resolve(LOCAL_PRINCIPAL);
  return async (authorization) => {
    const key = await findActiveKey(db, bearerToken(authorization));
    if (!key) throw unauthorized('Invalid API key (unknown or revoked)', INVALID_TOKEN_CHALLENGE);
    await touchApiKey(db, key).catch((err: Error) => {
      logger.warn('could not record when the API key was last used', { key_id: key.id, error: err });
    });
    return { userId: key.userId, keyId: key.id, isAdmin: key.isAdmin };
  };
}
