import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { createTenant, type Tenant } from '../../test/tenants';
import { revokeApiKey } from '../auth/accounts';
import { generateApiKey } from '../auth/api-keys';
import { createSession } from '../auth/sessions';

// Bull Board can retry and delete any tenant's jobs: only admins get in, except on a local
// AUTH_MODE=none API, where anyone who can reach it can already do everything.

const ADMIN = { ADMIN_USER: 'operator', ADMIN_PASSWORD: 'a long admin password' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function withHarness(env: Record<string, string>, test: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness(env);
  try {
    await test(h);
  } finally {
    await h.close();
  }
}

function expectUnauthorized(res: request.Response, challenge: RegExp): void {
  expect(res.status).toBe(401);
  expect(res.body).toMatchObject({ error: 'unauthorized', message: 'Unauthorized', code: 401 });
  expect(res.headers['www-authenticate']).toMatch(challenge);
}

describe('Bull Board', () => {
  it('with AUTH_MODE=none on loopback (the default) is on with no further setting, and says where', () =>
    withHarness({}, async (h) => {
      expect(h.config.apiHost).toBe('127.0.0.1');
      const page = await request(h.app).get('/admin/queues').expect(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      await request(h.app).get('/admin/queues/api/queues').expect(200);
      expect(h.logs.map((l) => l.message)).toContain(
        'Bull Board is at /admin/queues (AUTH_MODE=none on 127.0.0.1: no login, as for the API)',
      );
    }));

  it('with AUTH_MODE=api_key is off unless BULL_BOARD_ENABLED=true, and start-up says how to turn it on in one line', () =>
    withHarness({ AUTH_MODE: 'api_key', ...ADMIN }, async (h) => {
      await request(h.app)
        .get('/admin/queues')
        .set('Authorization', basic(ADMIN.ADMIN_USER, ADMIN.ADMIN_PASSWORD))
        .expect(404);
      const line = h.logs.find((l) => l.message.startsWith('Bull Board is off'));
      expect(line?.message).toContain('needs BULL_BOARD_ENABLED=true');
      expect(line?.message).not.toContain('\n');
    }));

  it('is off when BULL_BOARD_ENABLED=false, saying so', () =>
    withHarness({ BULL_BOARD_ENABLED: 'false' }, async (h) => {
      await request(h.app).get('/admin/queues').expect(404);
      expect(h.logs.map((l) => l.message)).toContain(
        'Bull Board is off (BULL_BOARD_ENABLED=false); unset it or set it to true to serve it at /admin/queues',
      );
    }));

  it('with AUTH_MODE=none on an address others reach, stays off unless basic auth is set', () =>
    withHarness({ HOST: '0.0.0.0' }, async (h) => {
      await request(h.app).get('/admin/queues').expect(404);
      expect(h.logs.find((l) => l.message.startsWith('Bull Board is off'))?.message).toContain(
        'set ADMIN_USER and ADMIN_PASSWORD',
      );
    }));

  describe('with basic auth (AUTH_MODE=none)', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ BULL_BOARD_ENABLED: 'true', AUTH_MODE: 'none', ...ADMIN });
    });
    afterAll(() => h.close());

    it('401 without credentials, with a Basic challenge so that browsers ask for them', async () => {
      for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/favicon-32x32.png']) {
        expectUnauthorized(await request(h.app).get(path), /^Basic realm="admin"/);
      }
    });

    it('401 with a wrong user or password', async () => {
      expectUnauthorized(
        await request(h.app).get('/admin/queues').set('Authorization', basic('operator', 'wrong password!!')),
        /^Basic/,
      );
      expectUnauthorized(
        await request(h.app).get('/admin/queues').set('Authorization', basic('someone', ADMIN.ADMIN_PASSWORD)),
        /^Basic/,
      );
      expectUnauthorized(await request(h.app).get('/admin/queues').set('Authorization', 'Basic not-base64!'), /^Basic/);
    });

    it('200 with the admin user and password: the page and its API', async () => {
      const auth = basic(ADMIN.ADMIN_USER, ADMIN.ADMIN_PASSWORD);
      const page = await request(h.app).get('/admin/queues').set('Authorization', auth).expect(200);
      expect(page.text.toLowerCase()).toContain('<html');
      const queues = await request(h.app).get('/admin/queues/api/queues').set('Authorization', auth).expect(200);
      expect(JSON.stringify(queues.body)).toContain('jobs');
    });
  });

  describe('with API keys (AUTH_MODE=api_key)', () => {
    let h: Harness;
    let admin: Tenant;
    let user: Tenant;
    beforeAll(async () => {
      h = await startHarness({ BULL_BOARD_ENABLED: 'true', AUTH_MODE: 'api_key' });
      admin = await createTenant(h.db, 'ops', { admin: true });
      user = await createTenant(h.db, 'user');
    });
    afterAll(() => h.close());

    it('is on although no basic auth is configured; 401 without credentials', async () => {
      expectUnauthorized(await request(h.app).get('/admin/queues'), /^Bearer realm="admin"/);
    });

    it('200 with an admin key', async () => {
      await request(h.app).get('/admin/queues').set(admin.auth).expect(200);
      await request(h.app).get('/admin/queues/api/queues').set(admin.auth).expect(200);
    });

    // A valid key that is not an admin key: the caller is known, the key does not open this door.
    it('403 with a key that is not an admin key', async () => {
      const res = await request(h.app).get('/admin/queues').set(user.auth).expect(403);
      expect(res.body).toMatchObject({ error: 'forbidden', code: 403, detail: 'This API key is not an admin key' });
    });

    // The web app links to the board: a person signed in there with an admin key gets in.
    it('200 with a web app session of an admin key; 403 with one of a user key', async () => {
      const adminSession = await createSession(h.db, admin.keyId, 60);
      await request(h.app).get('/admin/queues').set('Cookie', `cwo_session=${adminSession.token}`).expect(200);
      const userSession = await createSession(h.db, user.keyId, 60);
      await request(h.app).get('/admin/queues').set('Cookie', `cwo_session=${userSession.token}`).expect(403);
      expectUnauthorized(
        await request(h.app)
          .get('/admin/queues')
          .set('Cookie', `cwo_session=${'x'.repeat(43)}`),
        /^Bearer/,
      );
    });

    it('401 with an unknown or a revoked admin key', async () => {
      const revoked = await createTenant(h.db, 'former-ops', { admin: true });
      await request(h.app).get('/admin/queues').set(revoked.auth).expect(200);
      await revokeApiKey(h.db, revoked.keyId);
      expectUnauthorized(await request(h.app).get('/admin/queues').set(revoked.auth), /^Bearer/);
      const unknown = `Bearer ${generateApiKey().key}`;
      expectUnauthorized(await request(h.app).get('/admin/queues').set('Authorization', unknown), /^Bearer/);
    });

    it('basic auth works too when configured', () =>
      withHarness({ BULL_BOARD_ENABLED: 'true', AUTH_MODE: 'api_key', ...ADMIN }, async (both) => {
        await request(both.app)
          .get('/admin/queues')
          .set('Authorization', basic(ADMIN.ADMIN_USER, ADMIN.ADMIN_PASSWORD))
          .expect(200);
        await request(both.app).get('/admin/queues').set(admin.auth).expect(200);
        expectUnauthorized(await request(both.app).get('/admin/queues'), /^Basic realm="admin"/);
      }));
  });
});
