import request from 'supertest';
import { TcpProxy } from '../../../../e2e/helpers/tcp-proxy';
import { DEAD_REDIS_URL, startHarness, type Harness } from '../../test/harness';

// The queue board while Redis is away: its page still loads, its API answers 503 in the standard
// shape within the API's bound (it hung until Redis came back: BullMQ waits for a connection
// instead of failing), and it serves again on its own once Redis is back.

const ADMIN = { ADMIN_USER: 'operator', ADMIN_PASSWORD: 'a long admin password' };
const AUTH = `Basic ${Buffer.from(`${ADMIN.ADMIN_USER}:${ADMIN.ADMIN_PASSWORD}`).toString('base64')}`;
const board = { BULL_BOARD_ENABLED: 'true', AUTH_MODE: 'none', ...ADMIN };

async function expectUnavailable(h: Harness, path: string): Promise<void> {
  const started = Date.now();
  const res = await request(h.app).get(path).set('Authorization', AUTH).timeout(8000);
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({
    error: 'service_unavailable',
    code: 503,
    detail: expect.stringMatching(/^Redis unavailable/),
  });
  expect(res.body.correlation_id).toBe(res.headers['x-request-id']);
  expect(Date.now() - started).toBeLessThan(5000);
}

describe('Bull Board with Redis down', () => {
  it('never reached since start-up: the page loads, its API answers 503 promptly', async () => {
    const h = await startHarness({ ...board, REDIS_URL: DEAD_REDIS_URL });
    try {
      const page = await request(h.app).get('/admin/queues').set('Authorization', AUTH).timeout(8000).expect(200);
      expect(page.text.toLowerCase()).toContain('<html');
      await expectUnavailable(h, '/admin/queues/api/queues');
      await expectUnavailable(h, '/admin/queues/api/redis/stats');
    } finally {
      await h.close();
    }
  });

  it('gone after it worked (every connection cut): 503 while it is away, served again once it is back', async () => {
    const redis = new URL(process.env.REDIS_URL!);
    const proxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
    await proxy.up();
    const h = await startHarness({ ...board, REDIS_URL: `redis://127.0.0.1:${proxy.port}${redis.pathname}` });
    try {
      const ok = await request(h.app).get('/admin/queues/api/queues').set('Authorization', AUTH).timeout(8000);
      expect(ok.status).toBe(200);
      await proxy.down();
      await expectUnavailable(h, '/admin/queues/api/queues');
      await proxy.up();
      // ioredis reconnects on its own (its retry delay grows to 2 s).
      let back = 0;
      for (const deadline = Date.now() + 15_000; Date.now() < deadline && back !== 200;) {
        back = (await request(h.app).get('/admin/queues/api/queues').set('Authorization', AUTH).timeout(8000)).status;
        if (back !== 200) {
          expect(back).toBe(503);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      expect(back).toBe(200);
    } finally {
      await h.close();
      await proxy.down();
    }
  }, 60_000);
});
