// Shared by the runner's tests: the real runner against this run's Postgres database and Redis,
// each test file under a queue prefix of its own.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '@cwo/config';
import { createDb, type Db, type Job } from '@cwo/db';
import { createLogger, type Logger } from '@cwo/logger';
import type { Job as BullJob } from 'bullmq';
import { createJobsQueue, enqueueJob, type JobsQueue } from '@cwo/queue';
import { jobLogFile, projectWorkspace } from '@cwo/workspace';
import type { Executor } from '../executors/types';
import { createRunner, type Runner } from '../runner';
import { eventually } from '../../../../e2e/helpers/poll';

export function testConfig(overrides: Record<string, string> = {}): Config {
  const base = { ...process.env } as Record<string, string>;
  return loadConfig({
    ...base,
    QUEUE_PREFIX: `${base.QUEUE_PREFIX}-${crypto.randomBytes(3).toString('hex')}`,
    WORKSPACE_ROOT: path.join(base.WORKSPACE_ROOT!, crypto.randomBytes(3).toString('hex')),
    PROJECT_BUSY_RETRY_MS: '50',
    // Other test files share this database; the reconciler must not take their jobs into this queue.
    RECONCILE_GRACE_SECONDS: '3600',
    RECONCILE_INTERVAL_SECONDS: '3600', // tests call the reconciler themselves
    ...overrides,
  });
}

export const quietLogger = (): Logger =>
  createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error', service: 'runner-test', format: 'pretty' });

export const testDb = (): Db => createDb(process.env.DATABASE_URL!);

export async function createProject(
  db: Db,
  config: Config,
  instruction = 'Build the Fibonacci CLI',
): Promise<{ projectId: string; jobId: string }> {
  const project = await db.project.create({ data: { instruction, workspacePath: 'pending' } });
  await db.project.update({
    where: { id: project.id },
    data: { workspacePath: projectWorkspace(config.workspaceRoot, project.id) },
  });
  const job = await db.job.create({ data: { projectId: project.id, jobType: 'initial_project', instruction } });
  return { projectId: project.id, jobId: job.id };
}

export async function addEdit(db: Db, projectId: string, instruction: string): Promise<string> {
  const job = await db.job.create({ data: { projectId, jobType: 'edit', instruction } });
  return job.id;
}

/** Polls `fn` until it returns something truthy (every 50 ms, for up to 20 s by default). */
export function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  return eventually(what, fn, timeoutMs, 50);
}

const FINISHED = ['completed', 'error', 'cancelled'];

export function waitForJob(db: Db, jobId: string, timeoutMs = 20_000): Promise<Job> {
  return waitFor(
    `job ${jobId} to finish`,
    async () => {
      const job = await db.job.findUnique({ where: { id: jobId } });
      return job && FINISHED.includes(job.status) ? job : null;
    },
    timeoutMs,
  );
}

export function waitForStatus(db: Db, jobId: string, status: string, timeoutMs = 20_000): Promise<Job> {
  return waitFor(
    `job ${jobId} to be ${status}`,
    async () => {
      const job = await db.job.findUnique({ where: { id: jobId } });
      return job?.status === status ? job : null;
    },
    timeoutMs,
  );
}

export async function readJobLog(config: Config, projectId: string, jobId: string): Promise<string> {
  return fs.readFile(jobLogFile(projectWorkspace(config.workspaceRoot, projectId), jobId), 'utf8').catch(() => '');
}

/** A queue on the test's prefix, to enqueue as the API does. */
export function testQueue(config: Config): JobsQueue & { enqueue(jobId: string): Promise<unknown> } {
  const queue = createJobsQueue(config) as JobsQueue & { enqueue(jobId: string): Promise<unknown> };
  queue.enqueue = (jobId) => enqueueJob(queue, config, jobId);
  return queue;
}

export async function clearPrefix(config: Config): Promise<void> {
  const redis = new Redis(config.REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.QUEUE_PREFIX}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
}

export type TestQueue = ReturnType<typeof testQueue>;

/**
 * Waits for BullMQ's own state of a job. The runner writes the row's final status before BullMQ
 * moves the job on, so a test that reads the row first must wait here before touching the queue.
 */
export function waitForBullState(queue: JobsQueue, jobId: string, state: string, timeoutMs = 20_000): Promise<BullJob> {
  return waitFor(
    `BullMQ job ${jobId} to be ${state}`,
    async () => {
      const job = await queue.getJob(jobId);
      // Read again once in that state: the first read may predate the move (no returnvalue yet).
      return job && (await job.getState()) === state ? queue.getJob(jobId) : null;
    },
    timeoutMs,
  );
}

export interface RunnerHarness {
  /** This run's test database (it connects on first use), closed after the block's tests. */
  readonly db: Db;
  /** A queue on the config's prefix (see testQueue); closed, and the prefix cleared, at teardown. */
  queue(config: Config): TestQueue;
  /** A started runner on the test database (or `options.db`); stopped at teardown. */
  startRunner(config: Config, executor: Executor, options?: { db?: Db; logger?: Logger }): Promise<Runner>;
  /** Anything else to undo at teardown. */
  onCleanup(cleanup: () => Promise<unknown>): void;
}

/**
 * The set-up the runner's test files share, as jest hooks: call it first in a describe block (or
 * a file). What a test starts through it is undone after that test, the last started first; what
 * a beforeAll or the describe body starts, after the block's tests. The database is closed last.
 */
export function useRunnerHarness(): RunnerHarness {
  const db = testDb();
  let inTest = false;
  const afterTest: Array<() => Promise<unknown>> = [];
  const afterBlock: Array<() => Promise<unknown>> = [];
  const undo = async (cleanups: Array<() => Promise<unknown>>) => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  beforeEach(() => {
    inTest = true;
  });
  afterEach(async () => {
    inTest = false;
    await undo(afterTest);
  });
  afterAll(async () => {
    await undo(afterBlock);
    await db.$disconnect();
  });

  const harness: RunnerHarness = {
    db,
    onCleanup(cleanup) {
      (inTest ? afterTest : afterBlock).push(cleanup);
    },
    queue(config) {
      const queue = testQueue(config);
      harness.onCleanup(async () => {
        await queue.close();
        await clearPrefix(config);
      });
      return queue;
    },
    async startRunner(config, executor, options = {}) {
      const runner = createRunner({ db: options.db ?? db, config, logger: options.logger ?? quietLogger(), executor });
      await runner.start();
      harness.onCleanup(() => runner.stop(0));
      return runner;
    },
  };
  return harness;
}
