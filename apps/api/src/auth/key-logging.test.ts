import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { createTenant, type Tenant } from '../../test/tenants';
import { revokeApiKey } from './accounts';

// API keys and the admin password never reach the log: the request log names the caller by ids
// only. Everything the app logs, at every level, is captured through the harness's stream logger.

const ADMIN_PASSWORD = 'the admin password, long enough';

describe('secrets in the log', () => {
  let h: Harness;
  let alice: Tenant;
  let ops: Tenant;
  let revoked: Tenant;
  beforeAll(async () => {
    h = await startHarness(
      { AUTH_MODE: 'api_key', BULL_BOARD_ENABLED: 'true', ADMIN_USER: 'operator', ADMIN_PASSWORD },
      { logLevel: 'silly' },
    );
    alice = await createTenant(h.db, 'alice');
    ops = await createTenant(h.db, 'ops', { admin: true });
    revoked = await createTenant(h.db, 'gone');
    await revokeApiKey(h.db, revoked.keyId);
  });
  afterAll(() => h.close());

  it('neither the API key nor the admin password appears in any log line', async () => {
    const created = await request(h.app)
      .post('/api/v1/projects')
      .set(alice.auth)
      .send({ instruction: 'a logged project' })
      .expect(202);
    const id = created.body.id as string;
    await request(h.app).get(`/api/v1/projects/${id}`).set(alice.auth).expect(200);
    await request(h.app).get(`/api/v1/projects/${id}/jobs/${created.body.job.id}/logs`).set(alice.auth).expect(200);
    await request(h.app).get(`/api/v1/projects/${id}/files/missing.py`).set(alice.auth).expect(404);
    await request(h.app).post('/api/v1/projects').set(alice.auth).send({ instruction: '' }).expect(422);
    await request(h.app).get('/api/v1/projects').set(revoked.auth).expect(401);
    await request(h.app).get('/api/v1/projects').set('Authorization', `Bearer ${alice.key}!`).expect(401);
    await request(h.app).get('/api/v1/projects').set('Authorization', alice.key).expect(401);
    await request(h.app).get('/admin/queues').set(ops.auth).expect(200);
    await request(h.app).get('/admin/queues').auth('operator', ADMIN_PASSWORD).expect(200);
    await request(h.app).get('/admin/queues').auth('operator', `${ADMIN_PASSWORD}?`).expect(401);

    // The requests were logged, with who made them...
    const requests = h.logs.filter((l) => l.message === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(11);
    expect(requests.filter((l) => l.key_id === alice.keyId && l.user_id === alice.userId)).toHaveLength(5);
    // ...and no secret, whole or in part.
    const everything = JSON.stringify(h.logs);
    for (const tenant of [alice, ops, revoked]) {
      expect(everything).not.toContain(tenant.key);
      expect(everything).not.toContain(tenant.key.slice(13)); // the secret part, after cwo_<prefix>_
    }
    expect(everything).not.toContain(ADMIN_PASSWORD);
    expect(everything).not.toContain(Buffer.from(`operator:${ADMIN_PASSWORD}`).toString('base64'));
  });
});
