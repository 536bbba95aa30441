import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionInfo } from '@cwo/contracts';
import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { createTenant, type Tenant } from '../../test/tenants';
import { revokeApiKey } from './accounts';
import { generateApiKey } from './api-keys';

// The web app's sign-in over HTTP against the real app, Postgres and Redis: an API key exchanged
// for a session cookie, the cookie's attributes and lifetime, the Origin check on what the cookie
// changes, and bearer keys unaffected. The app listens on one port for the whole file, so its
// own origin is http://127.0.0.1:<port>.

const INSTRUCTION = 'A Python CLI that prints the first 10 Fibonacci numbers';
const TTL_SECONDS = 600;

/** An ErrorResponse of `status` whose detail matches. */
function expectError(res: request.Response, status: number, error: string, detail: RegExp): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: expect.objectContaining({ error, code: status, detail: expect.stringMatching(detail) }),
  });
  expect(res.body.correlation_id).toBe(res.headers['x-request-id']);
}

/** The session cookie a response sets: its value and its attributes, lower-cased. */
function setCookieOf(res: request.Response): { value: string; attributes: Record<string, string | true>; raw: string } {
  const headers = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  const raw = headers.find((c) => c.startsWith('cwo_session='));
  if (!raw) throw new Error(`no session cookie set (status ${res.status}): ${JSON.stringify(res.headers)}`);
  const [pair, ...rest] = raw.split(';').map((p) => p.trim());
  const attributes: Record<string, string | true> = {};
  for (const part of rest) {
    const [name, ...value] = part.split('=');
    attributes[name!.toLowerCase()] = value.length ? value.join('=') : true;
  }
  return { value: pair!.slice('cwo_session='.length), attributes, raw };
}

describe('web app sessions (AUTH_MODE=api_key)', () => {
  let h: Harness;
  let server: http.Server;
  let base: string;
  let alice: Tenant;
  let bob: Tenant;

  beforeAll(async () => {
    // Many sign-ins from one address: the sign-in rate limit has a test of its own below.
    h = await startHarness({
      AUTH_MODE: 'api_key',
      SESSION_TTL_SECONDS: String(TTL_SECONDS),
      SIGN_IN_ATTEMPTS_PER_MINUTE: '0',
    });
    server = http.createServer(h.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    alice = await createTenant(h.db, 'alice');
    bob = await createTenant(h.db, 'bob');
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  const signIn = (key: string, origin: string | null = base) => {
    const req = request(base).post('/api/v1/session');
    if (origin !== null) req.set('Origin', origin);
    return req.send({ api_key: key });
  };
  /** Signs in and returns the Cookie header that carries the session. */
  const sessionOf = async (who: Tenant): Promise<string> => {
    const res = await signIn(who.key).expect(200);
    return `cwo_session=${setCookieOf(res).value}`;
  };
  const createProject = (cookie: string, origin?: string) => {
    const req = request(base).post('/api/v1/projects').set('Cookie', cookie);
    if (origin) req.set('Origin', origin);
    return req.send({ instruction: INSTRUCTION });
  };

  it('signs in with a key: 200 with who, and an HttpOnly, SameSite=Strict, host-only cookie with an expiry', async () => {
    const before = Date.now();
    const res = await signIn(alice.key).expect(200);
    expect(SessionInfo.parse(res.body)).toEqual({
      auth_mode: 'api_key',
      user: { id: alice.userId, name: alice.name },
      api_key: { id: alice.keyId, prefix: alice.key.slice(0, 12), name: 'default', is_admin: false },
      via: 'cookie',
      expires_at: expect.any(String),
    });
    expect(res.headers['cache-control']).toBe('no-store');
    const cookie = setCookieOf(res);
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie.attributes).toEqual({
      path: '/',
      httponly: true,
      samesite: 'Strict',
      'max-age': expect.any(String),
      expires: expect.any(String),
    });
    // The remaining lifetime, counted when the header is written: a loaded machine may take a
    // second between writing the session row and the header.
    expect(Number(cookie.attributes['max-age'])).toBeGreaterThanOrEqual(TTL_SECONDS - 2);
    expect(Number(cookie.attributes['max-age'])).toBeLessThanOrEqual(TTL_SECONDS);
    // No Domain (host-only: never sent to <id>.preview.<host>), no Secure over plain HTTP.
    expect(cookie.attributes).not.toHaveProperty('domain');
    expect(cookie.attributes).not.toHaveProperty('secure');
    const expires = Date.parse(cookie.attributes.expires as string);
    expect(Math.abs(expires - Date.parse(res.body.expires_at))).toBeLessThan(1000);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + TTL_SECONDS * 1000 - 1000);
    // Only the token's hash is stored.
    const stored = await h.db.session.findMany({ where: { apiKeyId: alice.keyId } });
    expect(stored.length).toBeGreaterThan(0);
    expect(JSON.stringify(stored)).not.toContain(cookie.value);
  });

  it('the cookie then stands for the key: the caller’s projects, reads and writes, and GET /session', async () => {
    const cookie = await sessionOf(alice);
    const created = await createProject(cookie, base).expect(202);
    const project = await h.db.project.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(project.ownerId).toBe(alice.userId);
    await request(base).get(`/api/v1/projects/${created.body.id}`).set('Cookie', cookie).expect(200);
    const me = await request(base).get('/api/v1/session').set('Cookie', cookie).expect(200);
    expect(me.body).toMatchObject({ user: { name: alice.name }, via: 'cookie' });
    // The log stream (SSE, as EventSource asks for it) takes the cookie too.
    const log = await request(base)
      .get(`/api/v1/projects/${created.body.id}/jobs/${created.body.job.id}/logs`)
      .set('Cookie', cookie)
      .expect(200);
    expect(log.headers['x-job-status']).toBe('queued');
  });

  it('another tenant’s project is "not found" through the cookie, exactly as a missing one', async () => {
    const bobs = await createProject(await sessionOf(bob), base).expect(202);
    const cookie = await sessionOf(alice);
    const res = await request(base).get(`/api/v1/projects/${bobs.body.id}`).set('Cookie', cookie);
    expectError(res, 404, 'not_found', /^Project not found$/);
    const list = await request(base).get('/api/v1/projects').set('Cookie', cookie).expect(200);
    expect(list.body.items.map((p: { id: string }) => p.id)).not.toContain(bobs.body.id);
    await request(base)
      .delete(`/api/v1/projects/${bobs.body.id}`)
      .set('Cookie', cookie)
      .set('Origin', base)
      .expect(404);
  });

  it('a wrong key is 401 in the standard shape, in words; nothing is set', async () => {
    for (const [key, detail] of [
      [generateApiKey().key, /^Invalid API key \(unknown or revoked\)$/],
      ['not a key at all', /^That is not an API key of this service/],
    ] as const) {
      const res = await signIn(key);
      expectError(res, 401, 'unauthorized', detail);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const empty = await signIn('');
    expect([empty.status, empty.body.detail[0].loc]).toEqual([422, ['body', 'api_key']]);
  });

  it('state-changing requests with the cookie need the app’s own Origin (or Referer): 403 without, or from elsewhere', async () => {
    const cookie = await sessionOf(alice);
    const projects = () => h.db.project.count({ where: { ownerId: alice.userId } });
    const before = await projects();
    for (const origin of [undefined, 'https://evil.example', 'null', 'http://localhost:3000', `${base}.evil.example`]) {
      const res = await createProject(cookie, origin);
      expectError(res, 403, 'forbidden', /^Cross-site request refused/);
    }
    // The same, for a job and for a delete.
    const project = await createProject(cookie, base).expect(202);
    expectError(
      await request(base)
        .post(`/api/v1/projects/${project.body.id}/jobs`)
        .set('Cookie', cookie)
        .set('Origin', 'https://evil.example')
        .send({ job_type: 'edit', instruction: 'add a flag' }),
      403,
      'forbidden',
      /evil\.example/,
    );
    expectError(
      await request(base).delete(`/api/v1/projects/${project.body.id}`).set('Cookie', cookie),
      403,
      'forbidden',
      /must carry an Origin/,
    );
    expect(await projects()).toBe(before + 1);
    // A Referer of the app's own pages does (browsers that leave Origin out send it).
    await request(base)
      .post('/api/v1/projects')
      .set('Cookie', cookie)
      .set('Referer', `${base}/projects/x`)
      .send({ instruction: INSTRUCTION })
      .expect(202);
    // Reads need no Origin: SameSite=Strict keeps the cookie off other sites' requests.
    await request(base).get('/api/v1/projects').set('Cookie', cookie).expect(200);
  });

  it('sign-in itself needs the app’s own Origin (no signing a person in from elsewhere)', async () => {
    expectError(await signIn(alice.key, null), 403, 'forbidden', /must carry an Origin/);
    const res = await signIn(alice.key, 'https://evil.example');
    expectError(res, 403, 'forbidden', /evil\.example/);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('bearer keys are unaffected: no Origin needed, and an Authorization header wins over a cookie', async () => {
    await request(base).post('/api/v1/projects').set(alice.auth).send({ instruction: INSTRUCTION }).expect(202);
    await request(base)
      .post('/api/v1/projects')
      .set(alice.auth)
      .set('Origin', 'https://evil.example')
      .send({ instruction: INSTRUCTION })
      .expect(202);
    // Alice's cookie, Bob's key: Bob is the caller, and no Origin is asked for.
    const cookie = await sessionOf(alice);
    const res = await request(base)
      .post('/api/v1/projects')
      .set('Cookie', cookie)
      .set(bob.auth)
      .send({ instruction: INSTRUCTION });
    expect(res.status).toBe(202);
    const project = await h.db.project.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(project.ownerId).toBe(bob.userId);
    const me = await request(base).get('/api/v1/session').set(bob.auth).expect(200);
    expect(me.body).toMatchObject({ user: { name: bob.name }, via: 'bearer', expires_at: null });
  });

  it('signing out ends the session on the server and clears the cookie', async () => {
    const cookie = await sessionOf(alice);
    await request(base).get('/api/v1/session').set('Cookie', cookie).expect(200);
    const out = await request(base).delete('/api/v1/session').set('Cookie', cookie).set('Origin', base).expect(204);
    const cleared = setCookieOf(out);
    expect(cleared.value).toBe('');
    expect(cleared.attributes['max-age']).toBe('0');
    // The old cookie, replayed, no longer works.
    expectError(
      await request(base).get('/api/v1/session').set('Cookie', cookie),
      401,
      'unauthorized',
      /^Session expired or ended/,
    );
    expectError(
      await request(base).get('/api/v1/projects').set('Cookie', cookie),
      401,
      'unauthorized',
      /sign in again/,
    );
    // Without a session there is nothing to end: still 204.
    await request(base).delete('/api/v1/session').expect(204);
  });

  it('a cross-site sign-out is refused (403), and the session stays', async () => {
    const cookie = await sessionOf(alice);
    expectError(
      await request(base).delete('/api/v1/session').set('Cookie', cookie).set('Origin', 'https://evil.example'),
      403,
      'forbidden',
      /Cross-site/,
    );
    await request(base).get('/api/v1/session').set('Cookie', cookie).expect(200);
  });

  it('revoking the key ends its sessions at once; signing in with it again is 401', async () => {
    const carol = await createTenant(h.db, 'carol');
    const cookie = await sessionOf(carol);
    const other = await sessionOf(carol);
    await request(base).get('/api/v1/projects').set('Cookie', cookie).expect(200);
    await revokeApiKey(h.db, carol.keyId);
    for (const c of [cookie, other]) {
      expectError(
        await request(base).get('/api/v1/projects').set('Cookie', c),
        401,
        'unauthorized',
        /^Session expired or ended/,
      );
    }
    expect(await h.db.session.count({ where: { apiKeyId: carol.keyId } })).toBe(0);
    expectError(await signIn(carol.key), 401, 'unauthorized', /^Invalid API key/);
  });

  it('a forged or malformed cookie is 401', async () => {
    for (const value of ['x'.repeat(43), 'short', '']) {
      const res = await request(base).get('/api/v1/projects').set('Cookie', `cwo_session=${value}`);
      expect(res.status).toBe(401);
    }
  });

  it('the cookie is Secure when the request came over HTTPS, as a trusted proxy says', async () => {
    const trusting = await startHarness({ AUTH_MODE: 'api_key', TRUST_PROXY: 'loopback' });
    const trustingServer = http.createServer(trusting.app);
    await new Promise<void>((resolve) => trustingServer.listen(0, '127.0.0.1', resolve));
    const port = (trustingServer.address() as AddressInfo).port;
    try {
      const dave = await createTenant(trusting.db, 'dave');
      // Behind the proxy the browser is on https://app.example; the proxy says so.
      const res = await request(`http://127.0.0.1:${port}`)
        .post('/api/v1/session')
        .set('X-Forwarded-Proto', 'https')
        .set('X-Forwarded-Host', 'app.example')
        .set('Origin', 'https://app.example')
        .send({ api_key: dave.key })
        .expect(200);
      expect(setCookieOf(res).attributes.secure).toBe(true);
      // An untrusted sender's X-Forwarded-Proto is not believed (the other app trusts no proxy).
      const plain = await signIn(alice.key).set('X-Forwarded-Proto', 'https').expect(200);
      expect(setCookieOf(plain).attributes).not.toHaveProperty('secure');
    } finally {
      await new Promise((resolve) => trustingServer.close(resolve));
      await trusting.close();
    }
  });
});

describe('session expiry', () => {
  let h: Harness;
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'api_key', SESSION_TTL_SECONDS: '1' });
    server = http.createServer(h.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  it('a session ends when SESSION_TTL_SECONDS have passed, and is removed', async () => {
    const frank = await createTenant(h.db, 'frank');
    const res = await request(base)
      .post('/api/v1/session')
      .set('Origin', base)
      .send({ api_key: frank.key })
      .expect(200);
    expect(setCookieOf(res).attributes['max-age']).toBe('1');
    const cookie = `cwo_session=${setCookieOf(res).value}`;
    await sleep(1200);
    expectError(
      await request(base).get('/api/v1/projects').set('Cookie', cookie),
      401,
      'unauthorized',
      /^Session expired/,
    );
    expect(await h.db.session.count({ where: { apiKeyId: frank.keyId } })).toBe(0);
  });
});

describe('sign-in rate limit', () => {
  let h: Harness;
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'api_key', SIGN_IN_ATTEMPTS_PER_MINUTE: '3', RATE_LIMIT_WINDOW_SECONDS: '60' });
    server = http.createServer(h.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  it('429 with Retry-After past SIGN_IN_ATTEMPTS_PER_MINUTE attempts from one address, a right key included', async () => {
    const erin = await createTenant(h.db, 'erin');
    const attempt = (key: string) => request(base).post('/api/v1/session').set('Origin', base).send({ api_key: key });
    for (let i = 0; i < 3; i++) expect((await attempt(generateApiKey().key)).status).toBe(401);
    const res = await attempt(erin.key);
    expectError(res, 429, 'rate_limited', /^Too many sign-in attempts: at most 3 per 60 s/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('GET /session with AUTH_MODE=none', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'none' });
  });
  afterAll(() => h.close());

  it('is the implicit local user; signing in is a 400 saying there is nothing to sign in to', async () => {
    const me = await request(h.app).get('/api/v1/session').expect(200);
    expect(me.body).toMatchObject({ auth_mode: 'none', api_key: null, via: 'none', expires_at: null });
    const res = await request(h.app).post('/api/v1/session').send({ api_key: generateApiKey().key });
    expectError(res, 400, 'bad_request', /^AUTH_MODE=none/);
  });
});
