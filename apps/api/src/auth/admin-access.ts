import { createHash, timingSafeEqual } from 'node:crypto';
import parseBasicAuth from 'basic-auth';
import type { RequestHandler } from 'express';
import type { Config } from '@cwo/config';
import { forbidden, unauthorized } from '../http/errors';
import { requestOriginOf, type Authenticate } from './authenticate';
import { sessionTokenOf } from './session-cookie';

// Who may use the admin routes (Bull Board): an admin API key (AUTH_MODE=api_key; as a bearer key or
// through a web app session of it), or HTTP basic
// auth with ADMIN_USER/ADMIN_PASSWORD (either mode). In AUTH_MODE=none API keys are not looked at,
// as everywhere else in that mode.

/** The 403 for a signed-in caller whose key is not an admin's (the OpenAPI document's example too). */
export const NOT_AN_ADMIN_KEY = 'This API key is not an admin key';

type AdminConfig = Pick<Config, 'AUTH_MODE' | 'ADMIN_USER' | 'ADMIN_PASSWORD'>;

const basicConfigured = (config: AdminConfig): boolean =>
  config.ADMIN_USER !== undefined && config.ADMIN_PASSWORD !== undefined;
const keysAccepted = (config: AdminConfig): boolean => config.AUTH_MODE === 'api_key';

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Compares in constant time, whatever the lengths (both sides are hashed to 32 bytes first). */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/**
 * Lets admins through; anyone else gets 401 (no or wrong credentials) or 403 (a valid API key that
 * is not an admin key: the caller is known, the key just does not open this door). The 401's
 * challenge is Basic when basic auth is configured, so that browsers ask for the password.
 */
export function requireAdmin(config: AdminConfig, authenticate: Authenticate): RequestHandler {
  const challenge = basicConfigured(config) ? 'Basic realm="admin", charset="UTF-8"' : 'Bearer realm="admin"';
  const how = [
    ...(keysAccepted(config)
      ? ['an admin API key (Authorization: Bearer <key>, or signed in to the web app with it)']
      : []),
    ...(basicConfigured(config) ? ['the admin user and password (HTTP basic auth)'] : []),
  ].join(' or ');
  return (req, _res, next) => {
    const header = req.headers.authorization;
    const scheme = header?.split(' ', 1)[0]?.toLowerCase();
    if (scheme === 'basic' && basicConfigured(config)) {
      const credentials = parseBasicAuth(req);
      // Both comparisons always run, so the time taken does not tell which one failed.
      const userOk = sameSecret(credentials?.name ?? '', config.ADMIN_USER!);
      const passwordOk = sameSecret(credentials?.pass ?? '', config.ADMIN_PASSWORD!);
      if (credentials && userOk && passwordOk) return next();
      return next(unauthorized('Invalid admin user or password', challenge));
    }
    // A bearer key, or the web app's session of an admin key (the app links to the board).
    const signedIn = header === undefined && sessionTokenOf(req.headers) !== undefined;
    if ((scheme === 'bearer' || signedIn) && keysAccepted(config)) {
      authenticate(requestOriginOf(req)).then(
        (principal) => next(principal.isAdmin ? undefined : forbidden(NOT_AN_ADMIN_KEY)),
        next,
      );
      return;
    }
    next(unauthorized(`Admin credentials required: ${how}`, challenge));
  };
}
