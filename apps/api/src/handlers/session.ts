import type { SessionCreate, SessionInfo } from '@cwo/contracts';
import { findActiveKey, type Principal } from '../auth/accounts';
import { looksLikeApiKey } from '../auth/api-keys';
import { requireSameOrigin } from '../auth/same-origin';
import { clearedSessionCookie, sessionCookie, sessionTokenOf } from '../auth/session-cookie';
import { createSession, deleteSession } from '../auth/sessions';
import type { AppServices } from '../deps';
import { badRequest, unauthorized } from '../http/errors';
import { empty, json, type Reply } from '../http/reply';
import type { PublicContext, RequestContext } from '../http/route';

// /session: the web app's sign-in. An API key is exchanged for a session cookie (auth/
// session-cookie.ts says which attributes and why), so the page never keeps the key itself.

const CHALLENGE = 'Bearer realm="api"';
const NO_STORE = { 'Cache-Control': 'no-store' };

async function sessionInfo(deps: AppServices, principal: Principal): Promise<SessionInfo> {
  const user = await deps.db.user.findUniqueOrThrow({ where: { id: principal.userId } });
  const key = principal.keyId ? await deps.db.apiKey.findUnique({ where: { id: principal.keyId } }) : null;
  return {
    auth_mode: deps.config.AUTH_MODE,
    user: { id: user.id, name: user.name },
    api_key: key ? { id: key.id, prefix: key.prefix, name: key.name, is_admin: key.isAdmin } : null,
    via: principal.session ? 'cookie' : principal.keyId ? 'bearer' : 'none',
    expires_at: principal.session?.expiresAt.toISOString() ?? null,
  };
}

/**
 * POST /session: 200 with who is signed in, and the cookie. Like every state-changing request a
 * browser makes with the cookie, it must come from the app's own origin (a page elsewhere cannot
 * sign a person in as someone else). Attempts are rate-limited per client address.
 */
export async function signIn({ deps, body, headers, connection }: PublicContext<SessionCreate>): Promise<Reply> {
  if (deps.config.AUTH_MODE === 'none') {
    throw badRequest('AUTH_MODE=none: there is nothing to sign in to; every request is the local user');
  }
  requireSameOrigin(connection);
  await deps.signInLimit(connection.ip);
  const given = body.api_key.trim();
  if (!looksLikeApiKey(given)) {
    throw unauthorized(
      'That is not an API key of this service: keys look like cwo_<8 characters>_<43 characters>',
      CHALLENGE,
    );
  }
  const key = await findActiveKey(deps.db, given);
  if (!key) throw unauthorized('Invalid API key (unknown or revoked)', CHALLENGE);
  // A session the browser still holds ends here: one cookie, one session.
  const previous = sessionTokenOf(headers);
  if (previous) await deleteSession(deps.db, previous);
  const session = await createSession(deps.db, key.id, deps.config.SESSION_TTL_SECONDS);
  const principal: Principal = {
    userId: key.userId,
    keyId: key.id,
    isAdmin: key.isAdmin,
    session: { id: session.id, expiresAt: session.expiresAt },
  };
  return json(200, await sessionInfo(deps, principal), {
    ...NO_STORE,
    'Set-Cookie': sessionCookie(session.token, session.expiresAt, connection.secure),
  });
}

/** GET /session: who is calling (a session, a bearer key, or AUTH_MODE=none's local user). */
export async function getSession({ deps, principal }: RequestContext): Promise<Reply> {
  return json(200, await sessionInfo(deps, principal), NO_STORE);
}

/** DELETE /session: ends the cookie's session and drops the cookie; 204 even when there was none. */
export async function signOut({ deps, headers, connection }: PublicContext): Promise<Reply> {
  const token = sessionTokenOf(headers);
  if (token) {
    requireSameOrigin(connection);
    await deleteSession(deps.db, token);
  }
  return empty(204, { ...NO_STORE, 'Set-Cookie': clearedSessionCookie(connection.secure) });
}
