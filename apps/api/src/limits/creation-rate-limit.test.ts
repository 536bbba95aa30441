import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { DEAD_REDIS_URL, startHarness, type Harness } from '../../test/harness';
import { addKey, createTenant, type Tenant } from '../../test/tenants';

// The creation rate limit: RATE_LIMIT_CREATE_PER_MINUTE projects and jobs per key per
// RATE_LIMIT_WINDOW_SECONDS, counted in Redis. Windows of 2 s keep the tests short.

const INSTRUCTION = 'A Python CLI that prints the first 10 Fibonacci numbers';
const LIMITS = { RATE_LIMIT_CREATE_PER_MINUTE: '2', RATE_LIMIT_WINDOW_SECONDS: '2' };

function expectRateLimited(res: request.Response, per: 'API key' | 'user', windowSeconds = 2): number {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({
    error: 'rate_limited',
    message: 'Too many requests',
    code: 429,
    detail: `Rate limit reached: at most 2 projects and jobs may be created per ${windowSeconds} s per ${per}`,
    correlation_id: res.headers['x-request-id'],
  });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  return retryAfter;
}

describe('creation rate limit (AUTH_MODE=api_key)', () => {
  // Two API replicas on one Redis (the same key prefix), as in a deployment.
  let h: Harness;
  let replica: Harness;
  beforeAll(async () => {
    const shared = {
      AUTH_MODE: 'api_key',
      ...LIMITS,
      QUEUE_PREFIX: `${process.env.QUEUE_PREFIX}-rl-${randomBytes(3).toString('hex')}`,
    };
    h = await startHarness(shared);
    replica = await startHarness(shared);
  });
  afterAll(async () => {
    await h.close();
    await replica.close();
  });

  const createProject = (app: Harness['app'], who: Tenant) =>
    request(app).post('/api/v1/projects').set(who.auth).send({ instruction: INSTRUCTION });

  it('429 with Retry-After past the limit, projects and jobs counted together, across replicas; recovers after the window', async () => {
    const alice = await createTenant(h.db, 'alice');
    const project = await createProject(h.app, alice).expect(202);
    await request(replica.app)
      .post(`/api/v1/projects/${project.body.id}/jobs`)
      .set(alice.auth)
      .send({ job_type: 'edit', instruction: 'add a flag' })
      .expect(202);
    // The third creation, on either replica, is over the limit.
    expectRateLimited(await createProject(h.app, alice), 'API key');
    const retryAfter = expectRateLimited(
      await request(replica.app)
        .post(`/api/v1/${project.body.id}/jobs`)
        .set(alice.auth)
        .send({ job_type: 'edit', instruction: 'again' }),
      'API key',
    );
    // Nothing was created by the refused requests.
    expect(await h.db.job.count({ where: { project: { ownerId: alice.userId } } })).toBe(2);
    // Reads are not limited.
    await request(h.app).get('/api/v1/projects').set(alice.auth).expect(200);

    await sleep(retryAfter * 1000 + 100);
    await createProject(replica.app, alice).expect(202);
  });

  it('counts per key: another key of the same user, and other users, are not held back', async () => {
    const carol = await createTenant(h.db, 'carol');
    await createProject(h.app, carol).expect(202);
    await createProject(h.app, carol).expect(202);
    expectRateLimited(await createProject(h.app, carol), 'API key');
    const carolsOtherKey = await addKey(h.db, carol.name);
    await createProject(h.app, carolsOtherKey).expect(202);
    const dave = await createTenant(h.db, 'dave');
    await createProject(h.app, dave).expect(202);
  });

  it('requests refused before the limit is consulted (401, 422) do not count', async () => {
    const erin = await createTenant(h.db, 'erin');
    for (let i = 0; i < 3; i++) {
      await request(h.app).post('/api/v1/projects').set(erin.auth).send({ instruction: 'no' }).expect(422);
    }
    await createProject(h.app, erin).expect(202);
    await createProject(h.app, erin).expect(202);
  });
});

describe('creation rate limit (AUTH_MODE=none)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'none', ...LIMITS });
  });
  afterAll(() => h.close());

  it('counts per user: the implicit local user', async () => {
    await request(h.app).post('/api/v1/projects').send({ instruction: INSTRUCTION }).expect(202);
    await request(h.app).post('/api/v1/projects').send({ instruction: INSTRUCTION }).expect(202);
    expectRateLimited(await request(h.app).post('/api/v1/projects').send({ instruction: INSTRUCTION }), 'user');
  });
});

describe('creation rate limit with Redis down', () => {
  let h: Harness;
  beforeAll(async () => {
    // A minute's window: each creation waits for the dead queue for a while.
    h = await startHarness({
      REDIS_URL: DEAD_REDIS_URL,
      AUTH_MODE: 'none',
      ...LIMITS,
      RATE_LIMIT_WINDOW_SECONDS: '60',
    });
  });
  afterAll(() => h.close());

  it('is not a 500: creations go on (saved, 503 from the queue) and are counted in this process instead', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await request(h.app).post('/api/v1/projects').send({ instruction: INSTRUCTION }).timeout(8000);
      // The usual answer while Redis is down: saved in Postgres, enqueued later by the reconciler.
      expect(res.status).toBe(503);
      expect(res.body.detail.project_id).toEqual(expect.any(String));
    }
    expectRateLimited(
      await request(h.app).post('/api/v1/projects').send({ instruction: INSTRUCTION }).timeout(8000),
      'user',
      60,
    );
    expect(h.logs.some((l) => l.level === 'warn' && /rate limits: Redis is unavailable/.test(l.message))).toBe(true);
  });
});
