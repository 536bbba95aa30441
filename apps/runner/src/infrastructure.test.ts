import fs from 'node:fs/promises';
import path from 'node:path';
import { createDb, sqlPool } from '@cwo/db';
import { projectWorkspace } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import { InfrastructureError, UnreachableError, type Executor } from './executors/types';
import { outcomeFile } from './outcome';
import { TcpProxy } from '../../../e2e/helpers/tcp-proxy';
import {
  addEdit,
  createProject,
  readJobLog,
  testConfig,
  useRunnerHarness,
  waitFor,
  waitForBullState,
  waitForJob,
} from './__tests__/helpers';

// Failures around a job rather than of it are retried with backoff (RUNNER_MAX_ATTEMPTS);
// the last attempt records the cause. The agent's own failure is final (see runner.test.ts).
// Outages (Postgres or the container engine not answering at all) are waited out without using
// attempts, for up to OUTAGE_RETRY_SECONDS.

describe('infrastructure failures', () => {
  const harness = useRunnerHarness();
  const { db } = harness;

  it('Postgres going away while a job runs: the job waits for it (no attempt used), and the next attempt records the same outcome without running the agent again', async () => {
    const config = testConfig({ RUNNER_MAX_ATTEMPTS: '3' });
    const queue = harness.queue(config);

    // The runner reaches Postgres through a proxy that the test can cut.
    const pg = new URL(process.env.DATABASE_URL!);
    const proxy = new TcpProxy(pg.hostname, Number(pg.port || 5432));
    await proxy.up();
    harness.onCleanup(() => proxy.down());
    const viaProxy = new URL(pg);
    viaProxy.port = String(proxy.port);
    const runnerDb = createDb(viaProxy.toString());
    harness.onCleanup(() => runnerDb.$disconnect());

    const dummy = createDummyExecutor();
    let runs = 0;
    let outageAfter = '';
    const agentThenOutage: Executor = {
      name: 'dummy',
      async run(run) {
        if (run.request.job_id === outageAfter) runs++;
        await dummy.run(run);
        // Postgres is unreachable when the runner writes this job's outcome.
        if (run.request.job_id === outageAfter && runs === 1) await proxy.down();
      },
    };
    await harness.startRunner(config, agentThenOutage, { db: runnerDb });

    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await waitForJob(db, jobId);
    const edit = await addEdit(db, projectId, 'make it count to 20');
    outageAfter = edit;
    await queue.enqueue(edit);

    await waitFor('the first attempt to wait for Postgres', async () =>
      /attempt 1: Postgres did not answer .*without using an attempt/.test(await readJobLog(config, projectId, edit)),
    );
    await proxy.up(); // Postgres is back before the retry (a delay of a second)

    const job = await waitForJob(db, edit, 20_000);
    expect(job).toMatchObject({
      status: 'completed',
      attempts: 2,
      modifiedFiles: ['app.py'],
      errors: [],
      errorCode: null,
    });
    expect(runs).toBe(1); // the agent ran once
    const app = await fs.readFile(path.join(projectWorkspace(config.workspaceRoot, projectId), 'app.py'), 'utf8');
    expect(app.match(/# Edit: make it count to 20/g)).toHaveLength(1);
    expect(await readJobLog(config, projectId, edit)).toMatch(
      /an earlier attempt finished the job \(completed\) but could not record it/,
    );
  }, 40_000);

  it('Postgres slow to take the outcome: it is kept on disk while the write waits, and removed once written', async () => {
    const config = testConfig();
    const queue = harness.queue(config);
    const { projectId, jobId } = await createProject(db, config);
    // The job's row is locked by another transaction when the agent is done, so the runner's
    // final write waits for it.
    const locker = await sqlPool(db).connect();
    const dummy = createDummyExecutor();
    await harness.startRunner(config, {
      name: 'dummy',
      async run(run) {
        await dummy.run(run);
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE', [jobId]);
      },
    });
    // Registered after the runner, so undone before it stops (it would wait for the lock).
    harness.onCleanup(async () => {
      await locker.query('ROLLBACK').catch(() => undefined);
      locker.release();
    });
    await queue.enqueue(jobId);

    const kept = outcomeFile(config.workspaceRoot, jobId);
    const outcome = await waitFor('the outcome to be kept on disk', async () =>
      JSON.parse(await fs.readFile(kept, 'utf8')),
    );
    expect(outcome).toMatchObject({
      status: 'completed',
      attempt: 1,
      created_files: ['README.md', 'app.py', 'tests/test_cli.py'],
    });
    expect((await db.job.findUniqueOrThrow({ where: { id: jobId } })).status).toBe('in_progress');

    await locker.query('COMMIT');
    expect(await waitForJob(db, jobId)).toMatchObject({ status: 'completed', attempts: 1 });
    await waitFor('the kept outcome to be removed', async () => !(await fs.stat(kept).catch(() => null)));
    expect((await readJobLog(config, projectId, jobId)).match(/attempt \d+ of job/g)).toHaveLength(1);
  });

  it('an executor that keeps failing for infrastructure reasons: retried until the attempts run out, then error with the cause', async () => {
    const config = testConfig({ RUNNER_MAX_ATTEMPTS: '2' });
    const queue = harness.queue(config);
    let runs = 0;
    const dockerDown: Executor = {
      name: 'docker',
      async run() {
        runs++;
        throw new InfrastructureError('the Docker API is unreachable (connect ENOENT /var/run/docker.sock)');
      },
    };
    await harness.startRunner(config, dockerDown);

    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId, 20_000);
    expect(runs).toBe(2);
    expect(job).toMatchObject({
      status: 'error',
      attempts: 2,
      errors: ['infrastructure error: the Docker API is unreachable (connect ENOENT /var/run/docker.sock)'],
      errorCode: 'infrastructure',
    });
    const log = await readJobLog(config, projectId, jobId);
    expect(log).toMatch(/attempt 1 failed: .*it will be retried/);
    expect(log).toMatch(/attempt 2 failed: .*no attempts left/);
    await waitForBullState(queue, jobId, 'failed');
  }, 30_000);

  /** An executor whose engine does not answer until `until()` says so. */
  function engineDownUntil(until: () => boolean): Executor & { calls: number } {
    const dummy = createDummyExecutor();
    const ex = {
      name: 'docker' as const,
      calls: 0,
      async run(run: Parameters<Executor['run']>[0]) {
        ex.calls++;
        if (!until())
          throw new UnreachableError(
            'the container engine',
            'Docker API unreachable at unix:///run/podman/podman.sock: ECONNREFUSED',
          );
        await dummy.run(run);
      },
    };
    return ex;
  }

  it('the container engine restarting for seconds: the job waits it out without using its attempts, then completes', async () => {
    const config = testConfig({ RUNNER_MAX_ATTEMPTS: '2', OUTAGE_RETRY_SECONDS: '60' });
    const queue = harness.queue(config);
    const back = Date.now() + 4000; // longer than two attempts' backoff (1 s, 2 s)
    const executor = engineDownUntil(() => Date.now() >= back);
    await harness.startRunner(config, executor);

    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId, 30_000);

    expect(job).toMatchObject({ status: 'completed', errors: [] });
    expect(executor.calls).toBeGreaterThanOrEqual(3);
    const log = await readJobLog(config, projectId, jobId);
    expect(log).toMatch(
      /attempt 1: the container engine did not answer \(Docker API unreachable at .*ECONNREFUSED\); the job waits for it and is tried again in [\d.]+ s, without using an attempt/,
    );
    expect(log).not.toMatch(/failed: .*(it will be retried|no attempts left)/);
    expect((await waitForBullState(queue, jobId, 'completed')).attemptsMade).toBe(1);
  }, 40_000);

  it('a container engine that stays down: past OUTAGE_RETRY_SECONDS the attempts are used, and the job ends saying so', async () => {
    const config = testConfig({ RUNNER_MAX_ATTEMPTS: '2', OUTAGE_RETRY_SECONDS: '2' });
    const queue = harness.queue(config);
    await harness.startRunner(
      config,
      engineDownUntil(() => false),
    );

    const { jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId, 30_000);

    expect(job.status).toBe('error');
    expect(job.errors).toEqual([
      expect.stringMatching(
        /^infrastructure error: the container engine did not answer for \d+ s \(OUTAGE_RETRY_SECONDS\): Docker API unreachable at .*ECONNREFUSED$/,
      ),
    ]);
    await waitForBullState(queue, jobId, 'failed');
  }, 40_000);

  it('Postgres down when a job is taken: it is put back without using an attempt, and runs once Postgres is back', async () => {
    const config = testConfig({ RUNNER_MAX_ATTEMPTS: '2', OUTAGE_RETRY_SECONDS: '60' });
    const queue = harness.queue(config);
    const pg = new URL(process.env.DATABASE_URL!);
    const proxy = new TcpProxy(pg.hostname, Number(pg.port || 5432));
    await proxy.up();
    harness.onCleanup(() => proxy.down());
    const viaProxy = new URL(pg);
    viaProxy.port = String(proxy.port);
    const runnerDb = createDb(viaProxy.toString());
    harness.onCleanup(() => runnerDb.$disconnect());
    await harness.startRunner(config, createDummyExecutor(), { db: runnerDb });

    const { jobId } = await createProject(db, config);
    await proxy.down();
    await queue.enqueue(jobId);
    // Longer than two attempts' backoff: before, the queue failed the job for good meanwhile.
    await waitFor('the job to be put back at least twice', async () => {
      const bull = await queue.getJob(jobId);
      return ((bull?.data as { outage?: { waits: number } } | undefined)?.outage?.waits ?? 0) >= 2;
    });
    await new Promise((r) => setTimeout(r, 1000));
    await proxy.up();

    expect(await waitForJob(db, jobId, 30_000)).toMatchObject({ status: 'completed', attempts: 1 });
    expect((await waitForBullState(queue, jobId, 'completed')).attemptsMade).toBe(1);
  }, 40_000);
});
