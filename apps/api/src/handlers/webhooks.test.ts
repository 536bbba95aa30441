import request from 'supertest';
import { MAX_ENDPOINTS_PER_USER, type Lookup } from '@cwo/webhooks';
import { localOnlyLookup, startHarness, type Harness } from '../../test/harness';
import { createTenant, type Tenant } from '../../test/tenants';

// /webhooks through the real API: registration and its SSRF checks, the secret shown once,
// owner scoping, rotation, deletion. Delivery is the runners' (packages/webhooks' tests).

/** A name that resolves to loopback only through this lookup (no hosts-file entry is available). */
const lookup: Lookup = (hostname) => {
  const known: Record<string, string> = { 'loopback.example.test': '127.0.0.1', 'hooks.example.test': '93.184.216.34' };
  const address = known[hostname];
  return address ? Promise.resolve([{ address, family: 4 }]) : localOnlyLookup(hostname);
};

describe('webhooks API', () => {
  let h: Harness;
  let alice: Tenant;
  let bob: Tenant;
  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'api_key' }, { lookup });
    alice = await createTenant(h.db, 'alice');
    bob = await createTenant(h.db, 'bob');
  });
  afterAll(async () => {
    // Endpoints would otherwise collect the events of the other test files' jobs.
    await h.db.$executeRawUnsafe('DELETE FROM webhook_endpoints WHERE owner_id = ANY ($1::uuid[])', [
      alice.userId,
      bob.userId,
    ]);
    await h.close();
  });

  const post = (path: string, who: Tenant, body?: object) =>
    request(h.app).post(`/api/v1${path}`).set(who.auth).send(body);
  const get = (path: string, who: Tenant) => request(h.app).get(`/api/v1${path}`).set(who.auth);
  const register = (who: Tenant, url: string, events: string[] = ['job.completed', 'job.failed']) =>
    post('/webhooks', who, { url, events });

  it('registers an endpoint: 201 with its secret, shown this once; listed and read without it', async () => {
    const res = await register(alice, 'https://hooks.example.test/ci', ['job.failed', 'job.completed', 'job.failed']);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      url: 'https://hooks.example.test/ci',
      events: ['job.completed', 'job.failed'],
      failed_deliveries: 0,
      disabled_at: null,
      disabled_reason: null,
    });
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const { secret, ...shown } = res.body as Record<string, unknown>;

    const one = await get(`/webhooks/${res.body.id}`, alice).expect(200);
    expect(one.body).toEqual(shown);
    const list = await get('/webhooks', alice).expect(200);
    expect(list.body.items).toContainEqual(shown);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(h.logs.map((l) => JSON.stringify(l)).join('\n')).not.toContain(secret);
  });

  it.each([
    ['https://127.0.0.1/hook', '127.0.0.1 is a loopback address: not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)'],
    ['https://10.0.0.1/hook', '10.0.0.1 is a private address: not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)'],
    [
      'https://169.254.169.254/latest/meta-data/',
      '169.254.169.254 is a link-local address (where cloud metadata services answer): not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)',
    ],
    ['https://[::1]:8443/hook', '::1 is a loopback address: not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)'],
    // [::127.0.0.1] as a URL normalises it: the deprecated IPv4-compatible form, with 127.0.0.1 in it.
    [
      'https://[::127.0.0.1]/hook',
      '::7f00:1 is an IPv4-compatible address (deprecated, ::/96): not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)',
    ],
    [
      'https://loopback.example.test/hook',
      'loopback.example.test resolves to 127.0.0.1, a loopback address: not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)',
    ],
    ['http://hooks.example.test/hook', 'url must start with https:// (http is not allowed)'],
    ['https://nowhere.example.test/hook', 'nowhere.example.test does not resolve (ENOTFOUND)'],
  ])('refuses %s with a 422 on url saying why', async (url, msg) => {
    const res = await register(alice, url).expect(422);
    expect(res.body).toMatchObject({
      error: 'validation_error',
      code: 422,
      detail: [{ loc: ['body', 'url'], msg, type: 'url_refused' }],
    });
  });

  it('refuses localhost, which the system resolves to loopback', async () => {
    const res = await register(alice, 'https://localhost:9443/hook').expect(422);
    expect(res.body.detail[0].msg).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), a loopback address: not allowed/,
    );
  });

  it('validates the body: events from the closed set, at least one', async () => {
    const none = await register(alice, 'https://hooks.example.test/x', []).expect(422);
    expect(none.body.detail).toEqual([{ loc: ['body', 'events'], msg: expect.any(String), type: 'too_small' }]);
    const unknown = await register(alice, 'https://hooks.example.test/x', ['job.exploded']).expect(422);
    expect(unknown.body.detail[0]).toMatchObject({ loc: ['body', 'events', 0], type: 'enum' });
    const missing = await post('/webhooks', alice, { events: ['job.queued'] }).expect(422);
    expect(missing.body.detail).toEqual([{ loc: ['body', 'url'], msg: 'Field required', type: 'missing' }]);
  });

  it('scopes endpoints by owner: another user’s endpoint is not found, on every route', async () => {
    const mine = (await register(alice, 'https://hooks.example.test/mine').expect(201)).body;
    for (const res of [
      await get(`/webhooks/${mine.id}`, bob),
      await get(`/webhooks/${mine.id}/deliveries`, bob),
      await post(`/webhooks/${mine.id}/rotate-secret`, bob),
      await post(`/webhooks/${mine.id}/enable`, bob),
      await post(`/webhooks/${mine.id}/deliveries/${mine.id}/redeliver`, bob),
      await request(h.app).delete(`/api/v1/webhooks/${mine.id}`).set(bob.auth),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.detail).toBe('Webhook not found');
    }
    expect((await get('/webhooks', bob).expect(200)).body.items).toEqual([]);
    await get(`/webhooks/${mine.id}`, alice).expect(200);
  });

  it('rotates the secret (a new one, shown once), deletes the endpoint, and lists no deliveries before any', async () => {
    const created = (await register(alice, 'https://hooks.example.test/rotate').expect(201)).body;
    const rotated = await post(`/webhooks/${created.id}/rotate-secret`, alice).expect(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    expect(await get(`/webhooks/${created.id}/deliveries`, alice).expect(200)).toMatchObject({
      body: { items: [], total: 0, limit: 20, offset: 0 },
    });
    const unknown = await post(`/webhooks/${created.id}/deliveries/${created.id}/redeliver`, alice).expect(404);
    expect(unknown.body.detail).toBe('Delivery not found');

    await request(h.app).delete(`/api/v1/webhooks/${created.id}`).set(alice.auth).expect(204);
    await get(`/webhooks/${created.id}`, alice).expect(404);
    await get('/webhooks/not-a-uuid', alice).expect(404);
  });

  it(`allows at most ${MAX_ENDPOINTS_PER_USER} endpoints per user (409 beyond)`, async () => {
    const carol = await createTenant(h.db, 'carol');
    try {
      for (let i = 0; i < MAX_ENDPOINTS_PER_USER; i++)
        await register(carol, `https://hooks.example.test/${i}`).expect(201);
      const res = await register(carol, 'https://hooks.example.test/one-more').expect(409);
      expect(res.body.detail).toBe(`At most ${MAX_ENDPOINTS_PER_USER} webhook endpoints per user: delete one first`);
    } finally {
      await h.db.$executeRawUnsafe('DELETE FROM webhook_endpoints WHERE owner_id = $1::uuid', carol.userId);
    }
  });
});

describe('webhooks API with WEBHOOK_ALLOW_PRIVATE_HOSTS and WEBHOOK_ALLOW_HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true', WEBHOOK_ALLOW_HTTP: 'true' });
  });
  afterAll(() => h.close());

  it('accepts a local receiver', async () => {
    const res = await request(h.app)
      .post('/api/v1/webhooks')
      .send({ url: 'http://127.0.0.1:9/hooks', events: ['job.queued'] })
      .expect(201);
    await request(h.app).delete(`/api/v1/webhooks/${res.body.id}`).expect(204);
  });
});
