import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '@cwo/db';

// Web app sessions: a random token in an HttpOnly cookie, its SHA-256 in Postgres. They live in
// Postgres rather than Redis because a session belongs to an API key: a foreign key ends it with
// the key, one indexed join tells whether the key is still good, and Redis keeps no secret
// (DESIGN.md). 32 random bytes need no salt or slow hash, as with the keys themselves.

const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** A session token: 32 random bytes, base64url (43 characters). */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface NewSession {
  /** The cookie's value: never stored. */
  token: string;
  id: string;
  expiresAt: Date;
}

/** Opens a session for an API key, good for `ttlSeconds`; expired sessions of anyone are swept on the way. */
export async function createSession(
  db: Db,
  apiKeyId: string,
  ttlSeconds: number,
  now = new Date(),
): Promise<NewSession> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  await db.session.deleteMany({ where: { expiresAt: { lte: now } } });
  const { id } = await db.session.create({ data: { tokenHash: hashToken(token), apiKeyId, expiresAt } });
  return { token, id, expiresAt };
}

/** The session of this token with its key, if the session has not expired and the key is not revoked. */
export async function findActiveSession(db: Db, token: string, now = new Date()) {
  if (!TOKEN_PATTERN.test(token)) return null;
  const found = await db.session.findUnique({ where: { tokenHash: hashToken(token) }, include: { apiKey: true } });
  if (!found) return null;
  if (found.expiresAt <= now || found.apiKey.revokedAt) {
    await db.session.deleteMany({ where: { id: found.id } });
    return null;
  }
  return found;
}

/** Ends the session of this token (signing out); an unknown token is no error. */
export async function deleteSession(db: Db, token: string): Promise<void> {
  if (!TOKEN_PATTERN.test(token)) return;
  await db.session.deleteMany({ where: { tokenHash: hashToken(token) } });
}
