import { randomBytes } from 'node:crypto';
import type { Db } from '@cwo/db';
import { createApiKey, createUser } from '../src/auth/accounts';

// Users with API keys, for tests of AUTH_MODE=api_key. Names are unique per call: every test file
// of a run shares one database.

export interface Tenant {
  userId: string;
  name: string;
  key: string;
  keyId: string;
  /** The request header that authenticates as this tenant. */
  auth: { Authorization: string };
}

export async function createTenant(db: Db, label = 'user', opts: { admin?: boolean } = {}): Promise<Tenant> {
  const user = await createUser(db, `${label}-${randomBytes(4).toString('hex')}`);
  return addKey(db, user.name, opts);
}

/** Another key of an existing user. */
export async function addKey(db: Db, userName: string, opts: { admin?: boolean } = {}): Promise<Tenant> {
  const { key, record, user } = await createApiKey(db, userName, opts);
  return { userId: user.id, name: user.name, key, keyId: record.id, auth: { Authorization: `Bearer ${key}` } };
}
