import request from 'supertest';
import { TcpProxy } from '../../../e2e/helpers/tcp-proxy';
import { startHarness } from '../test/harness';

// Redis going away under the API and coming back: the API reaches Redis through a proxy the test
// cuts. While it is away a creation answers 503 (saved in Postgres, enqueued later by the
// reconciler); once it is back the API enqueues again within about RUNNER_REDIS_RETRY_MS, its
// queue's reconnects being bounded by it (BullMQ's own back off to 20 s).

describe('the API after a Redis outage', () => {
  it('enqueues a job created right after Redis is back within a few seconds', async () => {
    const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const proxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
    await proxy.up();
    const viaProxy = new URL(redis);
    viaProxy.port = String(proxy.port);
    const h = await startHarness({ REDIS_URL: viaProxy.toString() });
    try {
      const create = () =>
        request(h.app).post('/api/v1/projects').send({ instruction: 'after the outage' }).timeout(8000);
      expect((await create()).status).toBe(202);

      await proxy.down();
      await new Promise((r) => setTimeout(r, 12_000)); // long enough for the reconnects to back off
      await proxy.up();
      const back = Date.now();
      let res = await create();
      while (res.status === 503 && Date.now() - back < 30_000) {
        await new Promise((r) => setTimeout(r, 100));
        res = await create();
      }
      const tookMs = Date.now() - back;
      console.log(`POST /projects answered ${res.status} ${tookMs} ms after Redis came back`);
      expect(res.status).toBe(202);
      expect(await h.queue.getJob(res.body.job.id)).toBeTruthy();
      expect(tookMs).toBeLessThan(3000);
    } finally {
      await h.close();
      await proxy.down();
    }
  }, 70_000);
});
