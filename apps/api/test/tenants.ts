import { randomBytes } from 'node:crypto';
import type { Db } from '@cwo/db';
import request from 'supertest';
import { createApiKey, createUser } from '../src/auth/accounts';
import { startHarness, type Harness } from './harness';

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

/** What "another tenant's …" tests start from: a project of `owner` (as POST /projects answered), and `stranger`. */
export interface OwnersProject {
  h: Harness;
  owner: Tenant;
  stranger: Tenant;
  project: { id: string; workspace_path: string; job: { id: string } };
}

/** An AUTH_MODE=api_key API with an owner's project and a stranger; closed once `use` is done. */
export async function withOwnersProject(use: (s: OwnersProject) => Promise<void>): Promise<void> {
  const h = await startHarness({ AUTH_MODE: 'api_key' });
  try {
    const [owner, stranger] = [await createTenant(h.db, 'owner'), await createTenant(h.db, 'stranger')];
    const created = await request(h.app)
      .post('/api/v1/projects')
      .set(owner.auth)
      .send({ instruction: 'private work' })
      .expect(202);
    await use({ h, owner, stranger, project: created.body as OwnersProject['project'] });
  } finally {
    await h.close();
  }
}
