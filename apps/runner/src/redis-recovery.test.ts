import { createDummyExecutor } from './executors/dummy';
import { TcpProxy } from '../../../e2e/helpers/tcp-proxy';
import { createProject, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

// Redis going away under an idle runner and coming back: the runner reaches Redis through a proxy
// the test cuts; the job is enqueued on Redis directly the moment the proxy is back. BullMQ's
// worker waits `runRetryDelay` after a failed fetch before it fetches again (15 s by default);
// the runner sets it from RUNNER_REDIS_RETRY_MS, and its queue's reconnects (the reconciler's) too.

describe('the runner after a Redis outage', () => {
  const harness = useRunnerHarness();
  const { db } = harness;

  /** A started runner that reaches Redis through a proxy the test can cut; its queue straight to Redis. */
  async function runnerBehindProxy() {
    const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const proxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
    await proxy.up();
    harness.onCleanup(() => proxy.down());
    const viaProxy = new URL(redis);
    viaProxy.port = String(proxy.port);
    const config = testConfig();
    const queue = harness.queue(config); // also clears the prefix at teardown
    const runner = await harness.startRunner({ ...config, REDIS_URL: viaProxy.toString() }, createDummyExecutor());
    return { proxy, config, queue, runner };
  }

  it('takes a job enqueued right after Redis is back within a few seconds', async () => {
    const { proxy, config, queue } = await runnerBehindProxy();
    const { jobId } = await createProject(db, config);

    await proxy.down();
    await new Promise((r) => setTimeout(r, 12_000)); // long enough for the reconnects to back off
    await proxy.up();
    const back = Date.now();
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId, 40_000);
    const tookMs = job.startedAt!.getTime() - back;
    console.log(`job started ${tookMs} ms after Redis came back`);
    expect(job.status).toBe('completed');
    expect(tookMs).toBeLessThan(3000);
  }, 60_000);

  it('its reconciler enqueues again within a few seconds of Redis coming back', async () => {
    const { proxy, config, runner } = await runnerBehindProxy();
    await runner.reconciler.runOnce();

    // Long enough for BullMQ's own reconnects to back off to ~20 s (they wait e^attempts ms).
    await proxy.down();
    await new Promise((r) => setTimeout(r, 22_000));
    // A job the API saved but could not enqueue, older than the grace period (an hour here).
    const { jobId } = await createProject(db, config);
    await db.job.update({ where: { id: jobId }, data: { createdAt: new Date(Date.now() - 2 * 3600_000) } });
    await proxy.up();
    const back = Date.now();
    const report = await runner.reconciler.runOnce();
    const tookMs = Date.now() - back;
    console.log(`the reconciler's pass ended ${tookMs} ms after Redis came back`);
    expect(report.enqueued).toContain(jobId);
    expect(tookMs).toBeLessThan(3000);
    expect((await waitForJob(db, jobId, 20_000)).status).toBe('completed');
  }, 90_000);
});
