import { Prisma, type Db } from '@cwo/db';
import { isUuid } from '@cwo/jobs';
import { generateApiKey, hashApiKey } from './api-keys';

/** The implicit user of AUTH_MODE=none (created by the users migration). */
export const LOCAL_USER_ID = '00000000-0000-4000-8000-000000000001';

/** Who is calling: the user every query is scoped by, and whether admin routes are open to them. */
export interface Principal {
  userId: string;
  /** null for the implicit local user and for basic-auth admins. */
  keyId: string | null;
  isAdmin: boolean;
  /** The web app session the caller came with (a cookie), or null (a bearer key, AUTH_MODE=none). */
  session: { id: string; expiresAt: Date } | null;
}

export class AccountError extends Error {}

export async function createUser(db: Db, name: string) {
  const trimmed = name.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(trimmed)) {
    throw new AccountError(
      'a user name is 1-64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
    );
  }
  if (await db.user.findUnique({ where: { name: trimmed } }))
    throw new AccountError(`user "${trimmed}" exists already`);
  try {
    return await db.user.create({ data: { name: trimmed } });
  } catch (err) {
    // Created by someone else between the check and the insert.
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
      throw new AccountError(`user "${trimmed}" exists already`);
    }
    throw err;
  }
}

/** Creates a key for a user (by name or id); returns the key itself, which is never stored. */
export async function createApiKey(db: Db, user: string, opts: { admin?: boolean; name?: string } = {}) {
  const owner = await db.user.findFirst({
    where: isUuid(user) ? { OR: [{ id: user }, { name: user }] } : { name: user },
  });
  if (!owner) throw new AccountError(`no user "${user}"`);
  const { key, prefix, hash } = generateApiKey();
  const record = await db.apiKey.create({
    data: { userId: owner.id, name: opts.name ?? 'default', prefix, keyHash: hash, isAdmin: Boolean(opts.admin) },
  });
  return { key, record, user: owner };
}

/** Revokes a key by its id or its prefix (`cwo_xxxxxxxx`, as list-keys shows it); revoking twice is harmless. */
export async function revokeApiKey(db: Db, id: string) {
  const matches = await db.apiKey.findMany({ where: isUuid(id) ? { id } : { prefix: id.replace(/…$/, '') }, take: 2 });
  if (matches.length > 1) throw new AccountError(`more than one key has the prefix "${id}": revoke it by its id`);
  const found = matches[0];
  if (!found) throw new AccountError(`no API key "${id}"`);
  if (found.revokedAt) return found;
  // The key's web sessions end with it (a session found later is checked against revokedAt too).
  const [revoked] = await db.$transaction([
    db.apiKey.update({ where: { id: found.id }, data: { revokedAt: new Date() } }),
    db.session.deleteMany({ where: { apiKeyId: found.id } }),
  ]);
  return revoked;
}

export async function countActiveKeys(db: Db): Promise<number> {
  return db.apiKey.count({ where: { revokedAt: null } });
}

export async function listApiKeys(db: Db) {
  return db.apiKey.findMany({ include: { user: true }, orderBy: { createdAt: 'asc' } });
}

/** The active (not revoked) key with this value, or null. */
export async function findActiveKey(db: Db, key: string) {
  const found = await db.apiKey.findUnique({ where: { keyHash: hashApiKey(key) } });
  return found && !found.revokedAt ? found : null;
}

const LAST_USED_RESOLUTION_MS = 60_000;

/** Records use at most once a minute per key, so authentication is not a write per request. */
export async function touchApiKey(db: Db, key: { id: string; lastUsedAt: Date | null }, now = new Date()) {
  if (key.lastUsedAt && now.getTime() - key.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  await db.apiKey.updateMany({
    where: {
      id: key.id,
      OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } }],
    },
    data: { lastUsedAt: now },
  });
}
