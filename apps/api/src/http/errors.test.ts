import request from 'supertest';
import { DEAD_DATABASE_URL, startHarness, type Harness } from '../../test/harness';

// The error examples of docs/http-api.md and the framework-level errors, all in the ErrorResponse shape.

describe('errors', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('400 for malformed JSON', async () => {
    const res = await request(h.app)
      .post('/api/v1/projects')
      .set('Content-Type', 'application/json')
      .send('{"instruction": "unterminated')
      .expect(400);
    expect(res.body).toEqual({
      error: 'bad_request',
      message: 'Bad request',
      code: 400,
      detail: 'Malformed JSON body',
      correlation_id: res.headers['x-request-id'],
    });
  });

  it('413 for a body over 1 MiB', async () => {
    const res = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'x'.repeat(1024 * 1024 + 10) })
      .expect(413);
    expect(res.body).toMatchObject({ error: 'payload_too_large', code: 413 });
  });

  it('404 for an unknown route', async () => {
    const res = await request(h.app).get('/api/v1/nothing/here/at/all').expect(404);
    expect(res.body).toMatchObject({ error: 'not_found', message: 'Not found', code: 404, detail: 'Not Found' });
    // Outside the API a page request is the web app's (its own "not found" view); anything else is 404.
    await request(h.app).get('/nope').set('Accept', 'application/json').expect(404);
  });

  it('405 with an Allow header for a known path and a wrong method', async () => {
    const res = await request(h.app).put('/api/v1/projects').send({}).expect(405);
    expect(res.body).toMatchObject({ error: 'method_not_allowed', code: 405 });
    expect(res.headers.allow).toBe('GET, HEAD, POST, OPTIONS');
    const item = await request(h.app).put('/api/v1/projects/00000000-0000-4000-8000-000000000000').expect(405);
    expect(item.headers.allow).toBe('GET, HEAD, PATCH, DELETE, OPTIONS');
    const file = await request(h.app)
      .delete('/api/v1/projects/00000000-0000-4000-8000-000000000000/files/a.txt')
      .expect(405);
    expect(file.headers.allow).toBe('GET, HEAD, OPTIONS');
  });

  describe('request id', () => {
    it('generates one, returns it in X-Request-Id and as correlation_id', async () => {
      const res = await request(h.app).get('/api/v1/projects/not-a-uuid').expect(404);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.body.correlation_id).toBe(res.headers['x-request-id']);
    });

    it('keeps a sane incoming id, replaces one that could forge headers or log lines', async () => {
      const kept = await request(h.app).get('/healthz').set('X-Request-Id', 'client-abc.123').expect(200);
      expect(kept.headers['x-request-id']).toBe('client-abc.123');
      const replaced = await request(h.app)
        .get('/api/v1/projects/x')
        .set('X-Request-Id', 'bad id "with" quotes')
        .expect(404);
      expect(replaced.headers['x-request-id']).not.toBe('bad id "with" quotes');
      expect(replaced.body.correlation_id).toBe(replaced.headers['x-request-id']);
    });
  });

  it('logs one line per request: method, path, status, duration, request id; 4xx at warn', async () => {
    h.logs.length = 0;
    const res = await request(h.app)
      .get('/api/v1/projects/not-a-uuid?token=hunter2')
      .set('Authorization', 'Bearer very-secret-token')
      .expect(404);
    const line = h.logs.find((l) => l.message === 'request');
    expect(line).toMatchObject({
      level: 'warn',
      method: 'GET',
      path: '/api/v1/projects/not-a-uuid',
      status: 404,
      request_id: res.headers['x-request-id'],
    });
    expect(typeof line?.duration_ms).toBe('number');
    expect(JSON.stringify(h.logs)).not.toMatch(/hunter2|very-secret-token/);
  });
});

describe('errors of the services behind the API', () => {
  it('500 without stack or internal message when something unexpected fails; logged at error with the stack', async () => {
    // A database that does not exist: a misconfiguration, not an outage.
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = '/cwo_no_such_database';
    const h = await startHarness({ DATABASE_URL: url.toString() });
    try {
      const res = await request(h.app).get('/api/v1/projects').expect(500);
      expect(res.body).toEqual({
        error: 'internal_error',
        message: 'Internal server error',
        code: 500,
        correlation_id: res.headers['x-request-id'],
      });
      const line = h.logs.find((l) => l.message === 'request failed');
      expect(line).toMatchObject({ level: 'error', status: 500, request_id: res.headers['x-request-id'] });
      expect(JSON.stringify(line?.error)).toMatch(/stack/);
    } finally {
      await h.close();
    }
  });

  it('503 when Postgres is down', async () => {
    const h = await startHarness({ DATABASE_URL: DEAD_DATABASE_URL });
    try {
      const res = await request(h.app).get('/api/v1/projects').expect(503);
      expect(res.body).toMatchObject({ error: 'service_unavailable', code: 503, detail: 'Database unavailable' });
      await request(h.app).post('/api/v1/projects').send({ instruction: 'while postgres is down' }).expect(503);
    } finally {
      await h.close();
    }
  });
});
