import fs from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { cancelChannel } from '@cwo/contracts';
import type { Config } from '@cwo/config';
import { projectWorkspace } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import type { Runner } from './runner';
import {
  addEdit,
  createProject,
  readJobLog,
  testConfig,
  useRunnerHarness,
  waitFor,
  waitForJob,
  waitForStatus,
} from './__tests__/helpers';

// Jobs that are stopped while they run: by the time limit, by a cancel request (pub/sub, or the
// poll when the message is missed), and by the runner shutting down.

describe('stopping a running job', () => {
  const harness = useRunnerHarness();
  const { db } = harness;

  /** A runner whose dummy agent takes `delayMs` before doing anything. */
  const startRunner = (config: Config, delayMs: number): Promise<Runner> =>
    harness.startRunner(config, createDummyExecutor({ delayMs }));
  const runningOn = (runner: Runner, jobId: string) =>
    waitFor(`job ${jobId} to be running`, async () => runner.runningJobIds().includes(jobId));

  it('ends a job that runs past JOB_TIMEOUT_SECONDS in error "timeout", final', async () => {
    const config = testConfig({ JOB_TIMEOUT_SECONDS: '1' });
    const queue = harness.queue(config);
    await startRunner(config, 30_000);
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId, 15_000);
    expect(job).toMatchObject({ status: 'error', errors: ['timeout'], errorCode: 'timeout', attempts: 1 });
    expect(job.finishedAt!.getTime() - job.startedAt!.getTime()).toBeLessThan(10_000);
    expect(await readJobLog(config, projectId, jobId)).toMatch(/time limit of 1 s passed/);
    expect((await db.project.findUniqueOrThrow({ where: { id: projectId } })).status).toBe('error');
  });

  it('cancels a running job within seconds when the cancel is published (the poll is too slow to be what did it)', async () => {
    const config = testConfig({ CANCEL_POLL_SECONDS: '600' });
    const queue = harness.queue(config);
    const runner = await startRunner(config, 30_000);
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await runningOn(runner, jobId);

    // What the API does on POST …/cancel for a running job.
    await db.job.update({ where: { id: jobId }, data: { cancelRequestedAt: new Date() } });
    const publisher = new Redis(config.REDIS_URL);
    await publisher.publish(cancelChannel(config.QUEUE_PREFIX), jobId);
    await publisher.quit();

    const job = await waitForJob(db, jobId, 10_000);
    expect(job).toMatchObject({ status: 'cancelled', errors: [], errorCode: 'cancelled', attempts: 1 });
    expect((await db.project.findUniqueOrThrow({ where: { id: projectId } })).status).toBe('cancelled');
    expect(await readJobLog(config, projectId, jobId)).toMatch(/cancelled on request/);
    // The stopped agent wrote nothing.
    await expect(fs.stat(path.join(projectWorkspace(config.workspaceRoot, projectId), 'app.py'))).rejects.toThrow();
  });

  it('cancels a running job through the poll of cancel_requested_at when no message comes', async () => {
    const config = testConfig({ CANCEL_POLL_SECONDS: '1' });
    const queue = harness.queue(config);
    const runner = await startRunner(config, 30_000);
    const { jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await runningOn(runner, jobId);
    await db.job.update({ where: { id: jobId }, data: { cancelRequestedAt: new Date() } });
    expect(await waitForJob(db, jobId, 10_000)).toMatchObject({ status: 'cancelled' });
  });

  it('stops a running job whose project was deleted, through the poll, when no message comes', async () => {
    const config = testConfig({ CANCEL_POLL_SECONDS: '1' });
    const queue = harness.queue(config);
    const runner = await startRunner(config, 30_000);
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await runningOn(runner, jobId);
    await db.project.delete({ where: { id: projectId } });
    await waitFor('the job to stop', async () => !runner.runningJobIds().includes(jobId), 10_000);
    // The stopped agent wrote nothing.
    await expect(fs.stat(path.join(projectWorkspace(config.workspaceRoot, projectId), 'app.py'))).rejects.toThrow();
  });

  it('skips a queued job whose cancel was requested before it ran, and runs the next one', async () => {
    const config = testConfig();
    const queue = harness.queue(config);
    await startRunner(config, 0);
    const { projectId, jobId } = await createProject(db, config);
    const edit = await addEdit(db, projectId, 'never run');
    await db.job.update({ where: { id: jobId }, data: { cancelRequestedAt: new Date() } });
    await queue.enqueue(jobId);
    await queue.enqueue(edit);
    expect(await waitForJob(db, jobId)).toMatchObject({
      status: 'cancelled',
      errorCode: 'cancelled',
      attempts: 0,
      startedAt: null,
    });
    expect(await waitForJob(db, edit)).toMatchObject({ status: 'completed', attempts: 1 });
  });

  it('on shutdown, hands a job still running after the grace period back to the queue, and another runner finishes it', async () => {
    const config = testConfig();
    const queue = harness.queue(config);
    const first = await startRunner(config, 30_000);
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await runningOn(first, jobId);

    await first.stop(200);
    const back = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(back).toMatchObject({ status: 'queued', attempts: 1 });
    expect(await (await queue.getJob(jobId))?.getState()).toMatch(/delayed|waiting/);

    await startRunner(config, 0);
    const job = await waitForJob(db, jobId);
    expect(job).toMatchObject({
      status: 'completed',
      attempts: 2,
      createdFiles: ['README.md', 'app.py', 'tests/test_cli.py'],
    });
    const log = await readJobLog(config, projectId, jobId);
    expect(log).toMatch(/shutting down: the job goes back to the queue/);
    expect(log).toMatch(/attempt 2 of job/);
  });

  it('on shutdown, lets a job that ends within the grace period finish', async () => {
    const config = testConfig();
    const queue = harness.queue(config);
    const runner = await startRunner(config, 500);
    const { jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await runningOn(runner, jobId);
    await runner.stop(10_000);
    expect(await waitForStatus(db, jobId, 'completed', 1000)).toMatchObject({ attempts: 1 });
  });
});
