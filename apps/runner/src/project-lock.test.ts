import { Redis } from 'ioredis';
import { ProjectLocks } from './project-lock';
import { clearPrefix, quietLogger, testConfig, waitFor } from './__tests__/helpers';

describe('the per-project lock in Redis', () => {
  const config = testConfig();
  const redis = new Redis(config.REDIS_URL);
  const locksWith = (ttlMs: number) =>
    new ProjectLocks({ redis, prefix: config.QUEUE_PREFIX, ttlMs, logger: quietLogger() });
  afterAll(async () => {
    await clearPrefix(config);
    await redis.quit();
  });

  it('is held by one job at a time, and names its holder', async () => {
    const locks = locksWith(5000);
    const a = await locks.acquire('p1', 'job-a');
    expect(a).not.toBeNull();
    expect(await locks.acquire('p1', 'job-b')).toBeNull();
    expect(await locks.holderJobId('p1')).toBe('job-a');
    // Another project is not affected.
    const other = await locks.acquire('p2', 'job-c');
    expect(other).not.toBeNull();
    await a!.release();
    await other!.release();
    const b = await locks.acquire('p1', 'job-b');
    expect(b).not.toBeNull();
    await b!.release();
    expect(await locks.holderJobId('p1')).toBeNull();
  });

  it('is released only by its holder: a late release after expiry leaves the next holder’s lock alone', async () => {
    const locks = locksWith(200);
    const first = await locks.acquire('p3', 'job-a');
    // Simulate the holder stalling past its TTL: its key expires and another job takes the lock.
    await redis.del(locks.key('p3'));
    const second = await locks.acquire('p3', 'job-b');
    expect(second).not.toBeNull();
    await first!.release();
    expect(await locks.holderJobId('p3')).toBe('job-b');
    await second!.release();
  });

  it('stays held past its TTL while renewed, and expires once its holder stops renewing (a dead runner)', async () => {
    const locks = locksWith(300);
    const held = await locks.acquire('p4', 'job-a');
    await new Promise((r) => setTimeout(r, 900));
    expect(held!.lost).toBe(false);
    expect(await locks.holderJobId('p4')).toBe('job-a');
    await held!.release();

    // A holder that never renews: a raw key as a crashed runner leaves it.
    await redis.set(locks.key('p4'), 'job-dead:token', 'PX', 300);
    expect(await locks.acquire('p4', 'job-b')).toBeNull();
    const next = await waitFor('the dead holder’s lock to expire', () => locks.acquire('p4', 'job-b'), 3000);
    await next.release();
  });

  it('tells its holder when it is lost, so the job stops', async () => {
    const locks = locksWith(300);
    const held = await locks.acquire('p5', 'job-a');
    let lost = false;
    held!.onLost(() => (lost = true));
    await redis.set(locks.key('p5'), 'job-z:intruder'); // someone else holds it now
    await waitFor('the loss to be noticed', async () => lost, 2000);
    expect(held!.lost).toBe(true);
    await held!.release();
    expect(await redis.get(locks.key('p5'))).toBe('job-z:intruder');
  });
});
