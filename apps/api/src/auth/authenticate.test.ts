import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { createTenant, type Tenant } from '../../test/tenants';
import { openApiPath } from '../http/route';
import { apiRoutes, projectShortForms } from '../routes';
import { LOCAL_USER_ID, revokeApiKey } from './accounts';
import { generateApiKey } from './api-keys';

const INSTRUCTION = 'A Python CLI that prints the first 10 Fibonacci numbers';

describe('AUTH_MODE=api_key', () => {
  let h: Harness;
  let alice: Tenant;
  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'api_key' });
    alice = await createTenant(h.db, 'alice');
  });
  afterAll(() => h.close());

  /** A 401 in the standard error shape (docs/http-api.md), with the challenge that tells the client to send a key. */
  function expectUnauthorized(res: request.Response, detail: string | RegExp): void {
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'unauthorized',
      message: 'Unauthorized',
      code: 401,
      detail: expect.stringMatching(detail),
      correlation_id: res.headers['x-request-id'],
    });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api"/);
  }

  it.each([
    ['no Authorization header', undefined, /^Missing API key/],
    ['an empty Authorization header', '', /^Missing API key/],
    ['another scheme', 'Basic YWxpY2U6c2VjcmV0', /^Malformed Authorization header/],
    ['Bearer without a key', 'Bearer', /^Malformed Authorization header/],
    ['a token that is not one of our keys', 'Bearer abc.def.ghi', /^Malformed API key$/],
    ['a key cut short', `Bearer ${generateApiKey().key.slice(0, -1)}`, /^Malformed API key$/],
    [
      'a well-formed key that does not exist',
      `Bearer ${generateApiKey().key}`,
      /^Invalid API key \(unknown or revoked\)$/,
    ],
  ])('401 for %s', async (_label, header, detail) => {
    const req = request(h.app).get('/api/v1/projects');
    if (header !== undefined) req.set('Authorization', header);
    expectUnauthorized(await req, detail);
  });

  it('a malformed or unknown key is told so in the challenge (RFC 6750 invalid_token); a missing one is not', async () => {
    const missing = await request(h.app).get('/api/v1/projects');
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="api"');
    const unknown = await request(h.app).get('/api/v1/projects').set('Authorization', `Bearer ${generateApiKey().key}`);
    expect(unknown.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token"');
  });

  it('a valid key gets in (the scheme in any case) and its use is recorded', async () => {
    await request(h.app).get('/api/v1/projects').set(alice.auth).expect(200);
    await request(h.app).get('/api/v1/projects').set('Authorization', `bearer ${alice.key}`).expect(200);
    const key = await h.db.apiKey.findUniqueOrThrow({ where: { id: alice.keyId } });
    expect(key.lastUsedAt).toBeInstanceOf(Date);
  });

  it('a revoked key is 401 from the next request on', async () => {
    const bob = await createTenant(h.db, 'bob');
    const created = await request(h.app)
      .post('/api/v1/projects')
      .set(bob.auth)
      .send({ instruction: INSTRUCTION })
      .expect(202);
    await revokeApiKey(h.db, bob.keyId);
    expectUnauthorized(
      await request(h.app).get(`/api/v1/projects/${created.body.id}`).set(bob.auth),
      /^Invalid API key \(unknown or revoked\)$/,
    );
  });

  it('checks the key before anything else: an invalid body without a key is 401, not 422', async () => {
    const res = await request(h.app).post('/api/v1/projects').send({ instruction: '' });
    expectUnauthorized(res, /^Missing API key/);
  });

  it('every API route needs a key, the short forms too', async () => {
    const id = '00000000-0000-4000-8000-0000000000aa';
    for (const route of [...apiRoutes, ...projectShortForms]) {
      const path = openApiPath(`/api/v1${route.path}`)
        .replace(/\{path\}/, 'app.py')
        .replace(/\{\w+\}/g, id);
      const res = await request(h.app)
        [route.method](path)
        .send(route.method === 'post' ? { instruction: INSTRUCTION } : undefined);
      expect([route.method, path, res.status]).toEqual([route.method, path, 401]);
    }
  });

  it('the probes and the docs stay public', async () => {
    await request(h.app).get('/healthz').expect(200);
    await request(h.app).get('/readyz').expect(200);
    await request(h.app).get('/openapi.json').expect(200);
    await request(h.app).get('/docs/').expect(200);
  });

  it('projects are created for the caller', async () => {
    const res = await request(h.app)
      .post('/api/v1/projects')
      .set(alice.auth)
      .send({ instruction: INSTRUCTION })
      .expect(202);
    const project = await h.db.project.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(project.ownerId).toBe(alice.userId);
  });
});

describe('AUTH_MODE=none', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'none' });
  });
  afterAll(() => h.close());

  it('every request is the implicit local user; a key sent is not looked at', async () => {
    const plain = await request(h.app).post('/api/v1/projects').send({ instruction: INSTRUCTION }).expect(202);
    const withKey = await request(h.app)
      .post('/api/v1/projects')
      .set('Authorization', `Bearer ${generateApiKey().key}`)
      .send({ instruction: INSTRUCTION })
      .expect(202);
    const owners = await h.db.project.findMany({
      where: { id: { in: [plain.body.id, withKey.body.id] } },
      select: { ownerId: true },
    });
    expect(owners).toEqual([{ ownerId: LOCAL_USER_ID }, { ownerId: LOCAL_USER_ID }]);
    await request(h.app).get(`/api/v1/projects/${plain.body.id}`).set('Authorization', 'garbage').expect(200);
  });
});
