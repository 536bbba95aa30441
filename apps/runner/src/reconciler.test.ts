import fs from 'node:fs';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { JOBS_QUEUE_NAME } from '@cwo/contracts';
import { redisConnection } from '@cwo/queue';
import type { Db } from '@cwo/db';
import { outcomeFile, recordOutcome } from './outcome';
import { ProjectLocks } from './project-lock';
import { createReconciler } from './reconciler';
import { clearPrefix, createProject, quietLogger, testConfig, testDb, testQueue } from './__tests__/helpers';

describe('the reconciler: what falls between Postgres and the queue', () => {
  const config = testConfig({ RECONCILE_GRACE_SECONDS: '2', RUNNER_MAX_ATTEMPTS: '3' });
  let db: Db;
  const queue = testQueue(config);
  const redis = new Redis(config.REDIS_URL);
  const locks = new ProjectLocks({ redis, prefix: config.QUEUE_PREFIX, ttlMs: 10_000, logger: quietLogger() });
  const reconciler = () => createReconciler({ db, queue, config, locks, logger: quietLogger() });
  const longAgo = () => new Date(Date.now() - 60_000);

  beforeAll(() => {
    db = testDb();
  });
  afterAll(async () => {
    await queue.close();
    await redis.quit();
    await clearPrefix(config);
    await db.$disconnect();
  });

  /** A job row as the API leaves it when Redis was down: in Postgres, not in the queue. */
  async function queuedJobNotInRedis(createdAt = longAgo()): Promise<string> {
    const { jobId } = await createProject(db, config);
    await db.job.update({ where: { id: jobId }, data: { createdAt } });
    return jobId;
  }

  async function inProgressJob(attempts: number): Promise<{ jobId: string; projectId: string }> {
    const created = await createProject(db, config);
    await db.job.update({
      where: { id: created.jobId },
      data: { status: 'in_progress', attempts, startedAt: longAgo(), createdAt: longAgo(), updatedAt: longAgo() },
    });
    // updated_at is set by Prisma on every update; push it back with SQL as a job running for a while would be.
    await db.$executeRaw`UPDATE jobs SET updated_at = now() - interval '1 minute' WHERE id = ${created.jobId}::uuid`;
    return created;
  }

  it('enqueues a queued job the queue does not have, once, even with several reconcilers at the same time', async () => {
    const jobId = await queuedJobNotInRedis();
    const reports = await Promise.all([reconciler().runOnce(), reconciler().runOnce(), reconciler().runOnce()]);
    expect(reports.some((r) => r.enqueued.includes(jobId))).toBe(true);
    const job = await queue.getJob(jobId);
    expect(job?.data).toEqual({ jobId });
    expect(await job?.getState()).toBe('waiting');
    expect((await queue.getJobs(['waiting'])).filter((j) => j.id === jobId)).toHaveLength(1);
    // Once it is in the queue, the next pass leaves it alone.
    expect((await reconciler().runOnce()).enqueued).not.toContain(jobId);
  });

  it('leaves alone a queued job younger than the grace period (the API may be enqueueing it right now)', async () => {
    const jobId = await queuedJobNotInRedis(new Date());
    expect((await reconciler().runOnce()).enqueued).not.toContain(jobId);
    expect(await queue.getJob(jobId)).toBeUndefined();
  });

  it('queues again an in_progress job whose queue entry is gone, when it has attempts left', async () => {
    const { jobId } = await inProgressJob(1);
    const report = await reconciler().runOnce();
    expect(report.requeued).toContain(jobId);
    expect((await db.job.findUniqueOrThrow({ where: { id: jobId } })).status).toBe('queued');
    expect(await (await queue.getJob(jobId))?.getState()).toBe('waiting');
  });

  it('ends in error "runner lost the job" an in_progress job that is gone from the queue and out of attempts', async () => {
    const { jobId, projectId } = await inProgressJob(3);
    const report = await reconciler().runOnce();
    expect(report.failed).toContain(jobId);
    const job = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job).toMatchObject({ status: 'error', errors: ['runner lost the job'], errorCode: 'infrastructure' });
    expect(job.finishedAt).not.toBeNull();
    expect((await db.project.findUniqueOrThrow({ where: { id: projectId } })).status).toBe('error');
  });

  it('finishes from the outcome its last attempt recorded on disk a job whose final write failed, without running it again', async () => {
    const { jobId, projectId } = await inProgressJob(3);
    recordOutcome(config.workspaceRoot, jobId, {
      attempt: 3,
      status: 'completed',
      summary: 'Appended a comment to app.py',
      errors: [],
      created_files: [],
      modified_files: ['app.py'],
      deleted_files: [],
      result_path: `.codex/jobs/${jobId}/result.json`,
      usage: null,
      thread_id: null,
      commit_sha: 'd'.repeat(40),
      egress: null,
      error_code: null,
      checks: null,
    });

    const report = await reconciler().runOnce();

    expect(report.failed).toContain(jobId);
    expect(await db.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({
      status: 'completed',
      errors: [],
      modifiedFiles: ['app.py'],
      commitSha: 'd'.repeat(40),
      attempts: 3,
    });
    expect((await db.project.findUniqueOrThrow({ where: { id: projectId } })).status).toBe('completed');
    expect(fs.existsSync(outcomeFile(config.workspaceRoot, jobId))).toBe(false);
    expect(await queue.getJob(jobId)).toBeUndefined(); // not run again
  });

  it('says why, when the queue failed the job for good', async () => {
    const { jobId } = await inProgressJob(3);
    await queue.drain();
    await queue.enqueue(jobId);
    // Fail it in the queue as BullMQ does with a job that stalled too often.
    const worker = new Worker(JOBS_QUEUE_NAME, null, {
      connection: redisConnection(config.REDIS_URL),
      prefix: config.QUEUE_PREFIX,
      autorun: false,
    });
    const bull = await worker.getNextJob('test-token');
    expect(bull.id).toBe(jobId);
    await bull.moveToFailed(new UnrecoverableError('job stalled more than allowable limit'), 'test-token');
    await worker.close();
    expect(await (await queue.getJob(jobId))!.getState()).toBe('failed');
    await reconciler().runOnce();
    expect((await db.job.findUniqueOrThrow({ where: { id: jobId } })).errors).toEqual([
      'runner lost the job',
      'job stalled more than allowable limit',
    ]);
  });

  it('leaves alone an in_progress job whose project lock is held for it (it is running somewhere)', async () => {
    const { jobId, projectId } = await inProgressJob(1);
    const lock = await locks.acquire(projectId, jobId);
    const report = await reconciler().runOnce();
    expect(report.requeued).not.toContain(jobId);
    expect((await db.job.findUniqueOrThrow({ where: { id: jobId } })).status).toBe('in_progress');
    await lock!.release();
  });

  it('leaves alone jobs the queue still has (waiting, delayed, active)', async () => {
    const { jobId } = await inProgressJob(1);
    await queue.enqueue(jobId);
    const report = await reconciler().runOnce();
    expect(report.requeued).not.toContain(jobId);
    expect((await db.job.findUniqueOrThrow({ where: { id: jobId } })).status).toBe('in_progress');
  });
});
