import type { IncomingHttpHeaders } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';

// The web app's session cookie. HttpOnly: no script of the page can read it. SameSite=Strict:
// the browser sends it only with requests that start on this site. Host-only (no Domain
// attribute): never sent to other hosts, the preview origins (<id>.preview.<host>) included.
// Path=/: the app's pages and the API share it. Secure whenever the request came over HTTPS.

export const SESSION_COOKIE = 'cwo_session';

/** The session token the request carries, or undefined. */
export function sessionTokenOf(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.cookie;
  if (!header) return undefined;
  const value = parseCookie(header)[SESSION_COOKIE];
  return value === undefined || value === '' ? undefined : value;
}

/** The Set-Cookie header that hands the browser a session until `expiresAt`. */
export function sessionCookie(token: string, expiresAt: Date, secure: boolean, now = new Date()): string {
  return stringifySetCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure,
    expires: expiresAt,
    // Rounded up: a session issued a moment ago (the row written first) still says its full TTL.
    maxAge: Math.max(0, Math.ceil((expiresAt.getTime() - now.getTime()) / 1000)),
  });
}

/** The Set-Cookie header that makes the browser drop the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return stringifySetCookie(SESSION_COOKIE, '', {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure,
    expires: new Date(0),
    maxAge: 0,
  });
}
