import pg from 'pg';
import request from 'supertest';
import { TcpProxy } from '../../../e2e/helpers/tcp-proxy';
import { startHarness, type Harness } from '../test/harness';

// Postgres going away while the API serves: every request answers 503 in the standard shape
// within a bounded time (never a 500, never a hang), /readyz names Postgres, and the same app
// serves again once Postgres is back, without a restart. The API reaches Postgres through a proxy
// the test can cut (refused connections), freeze (a Postgres that hangs) or whose connections
// Postgres itself ends (pg_terminate_backend).

/** A request that takes longer than this counts as a hang. */
const BOUND_MS = 8000;

describe('with Postgres going away', () => {
  let h: Harness;
  let proxy: TcpProxy;
  let projectId: string;
  let jobId: string;

  beforeAll(async () => {
    const target = new URL(process.env.DATABASE_URL!);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.up();
    const viaProxy = new URL(target);
    viaProxy.port = String(proxy.port);
    h = await startHarness({ DATABASE_URL: viaProxy.toString() });
    const res = await request(h.app).post('/api/v1/projects').send({ instruction: 'made before the outage' });
    expect(res.status).toBe(202);
    projectId = res.body.id;
    jobId = res.body.job.id;
  });
  afterAll(async () => {
    proxy.thaw();
    await proxy.down();
    await h.close();
  });

  /** Every route a client uses, with a body where it takes one. */
  const everyRoute = (): Array<[string, string, object?]> => [
    ['get', '/api/v1/projects'],
    ['post', '/api/v1/projects', { instruction: 'made during the outage' }],
    ['get', `/api/v1/projects/${projectId}`],
    ['post', `/api/v1/projects/${projectId}/jobs`, { job_type: 'edit', instruction: 'edit during the outage' }],
    ['get', `/api/v1/projects/${projectId}/jobs`],
    ['get', `/api/v1/projects/${projectId}/jobs/${jobId}`],
    ['get', `/api/v1/projects/${projectId}/jobs/${jobId}/logs`],
    ['get', `/api/v1/projects/${projectId}/jobs/${jobId}/logs?follow=1`],
    ['get', `/api/v1/projects/${projectId}/jobs/${jobId}/diff`],
    ['post', `/api/v1/projects/${projectId}/jobs/${jobId}/cancel`],
    ['get', `/api/v1/projects/${projectId}/files`],
    ['get', `/api/v1/projects/${projectId}/files/README.md`],
    ['delete', `/api/v1/projects/${projectId}`],
  ];

  const send = (method: string, path: string, body?: object): request.Test => {
    const req = (request(h.app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).timeout(
      BOUND_MS + 2000,
    );
    return body ? req.send(body) : req;
  };

  async function expectAll503(): Promise<void> {
    // All at once: they wait on the same outage.
    const answers = await Promise.all(
      everyRoute().map(async ([method, path, body]) => {
        const started = Date.now();
        const res = await send(method, path, body);
        return { route: `${method.toUpperCase()} ${path}`, res, took: Date.now() - started };
      }),
    );
    for (const { route, res, took } of answers) {
      expect({ route, status: res.status }).toEqual({ route, status: 503 });
      expect(res.body).toMatchObject({ error: 'service_unavailable', message: 'Service unavailable', code: 503 });
      expect(res.body.correlation_id).toBe(res.headers['x-request-id']);
      expect({ route, fast: took < BOUND_MS }).toEqual({ route, fast: true });
    }
    const ready = await request(h.app).get('/readyz').timeout(BOUND_MS);
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'unavailable', checks: { postgres: 'down', redis: 'ok' } });
  }

  async function expectServing(): Promise<void> {
    await request(h.app).get('/readyz').expect(200);
    await request(h.app).get(`/api/v1/projects/${projectId}`).expect(200);
    await request(h.app).post('/api/v1/projects').send({ instruction: 'made after the outage' }).expect(202);
  }

  it('refused connections (Postgres stopped): 503 on every route, then served again when it is back', async () => {
    await proxy.down();
    await expectAll503();
    await proxy.up();
    await expectServing();
  });

  it('Postgres ends every connection of the API (pg_terminate_backend): no 500, served again at once', async () => {
    await request(h.app).get('/api/v1/projects').expect(200);
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      // The API's connections come through the proxy; the admin's do not.
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND client_port IS NOT NULL
            AND application_name = 'cwo-api-test'`,
      );
      expect(rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    const notStreaming = everyRoute().filter(([, path]) => !path.includes('follow=1'));
    for (const [method, path, body] of notStreaming.slice(0, -1)) {
      const res = await send(method, path, body);
      expect({ route: path, status: res.status < 500 || res.status === 503 }).toEqual({ route: path, status: true });
    }
    await expectServing();
  });

  it('a Postgres that hangs: 503 within the bound on every route, then served again', async () => {
    proxy.freeze();
    try {
      await expectAll503();
    } finally {
      proxy.thaw();
    }
    await proxy.down(); // the frozen connections are dead weight: cut them
    await proxy.up();
    await expectServing();
  }, 60_000);
});
