import request from 'supertest';
import { DEAD_DATABASE_URL, DEAD_REDIS_URL, startHarness } from '../../test/harness';

describe('health probes', () => {
  it('healthz is up, readyz checks Postgres and Redis', async () => {
    const h = await startHarness();
    try {
      expect((await request(h.app).get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
      expect((await request(h.app).get('/readyz').expect(200)).body).toEqual({
        status: 'ok',
        checks: { postgres: 'ok', redis: 'ok' },
      });
    } finally {
      await h.close();
    }
  });

  it('readyz is 503 naming Redis when Redis is down; healthz stays up', async () => {
    const h = await startHarness({ REDIS_URL: DEAD_REDIS_URL });
    try {
      await request(h.app).get('/healthz').expect(200);
      const res = await request(h.app).get('/readyz').timeout(8000).expect(503);
      expect(res.body).toEqual({ status: 'unavailable', checks: { postgres: 'ok', redis: 'down' } });
    } finally {
      await h.close();
    }
  });

  it('readyz is 503 naming Postgres when Postgres is down', async () => {
    const h = await startHarness({ DATABASE_URL: DEAD_DATABASE_URL });
    try {
      const res = await request(h.app).get('/readyz').timeout(8000).expect(503);
      expect(res.body.checks).toEqual({ postgres: 'down', redis: 'ok' });
    } finally {
      await h.close();
    }
  });
});
