import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import type { Config } from '@cwo/config';
import { cancelChannel } from '@cwo/contracts';
import type { Job } from '@cwo/db';
import { projectWorkspace } from '@cwo/workspace';
import { createDockerExecutor } from '../src/executors/docker';
import { createDummyExecutor } from '../src/executors/dummy';
import { LABELS } from '../src/executors/docker/options';
import type { Runner } from '../src/runner';
import {
  addEdit,
  createProject,
  quietLogger,
  readJobLog,
  testConfig,
  useRunnerHarness,
  waitFor,
  waitForJob,
  type TestQueue,
} from '../src/__tests__/helpers';
import { ENGINE, filesOf, ourContainers, requireDockerApi, TEST_ENV } from './docker-helpers';

// A container start takes seconds when the machine is loaded (two engines, parallel work): waits
// are bounded generously so that only a real hang fails.
const CONTAINER_WAIT_MS = 90_000;
jest.setTimeout(240_000);

// The whole runner (queue, project lock, processor) with the docker executor, next to the same
// runner with the dummy executor: what a user sees must not depend on where the agent ran.

interface Setup {
  config: Config;
  runner: Runner;
  queue: TestQueue;
}

const harness = useRunnerHarness();
const { db } = harness;
let docker: Docker;
const setups: Setup[] = [];

async function startRunner(kind: 'dummy' | 'docker', overrides: Record<string, string> = {}): Promise<Setup> {
  const config = testConfig({
    USE_DUMMY_WORKER: kind === 'dummy' ? 'true' : 'false',
    WORKER_ENV_PASSTHROUGH: 'WORKER_TEST_AGENTS',
    ...overrides,
  });
  const logger = quietLogger();
  const executor =
    kind === 'dummy'
      ? createDummyExecutor()
      : createDockerExecutor({ config, logger, env: { ...process.env, ...TEST_ENV } });
  const queue = harness.queue(config);
  const runner = await harness.startRunner(config, executor, { logger });
  const setup = { config, runner, queue };
  setups.push(setup);
  return setup;
}

/** A project job then an edit, through the queue; the two finished rows. */
async function projectAndEdit({ config, queue }: Setup): Promise<{ projectId: string; jobs: Job[] }> {
  const { projectId, jobId } = await createProject(db, config);
  await queue.enqueue(jobId);
  const first = await waitForJob(db, jobId, CONTAINER_WAIT_MS);
  const editId = await addEdit(db, projectId, 'Add a --count flag');
  await queue.enqueue(editId);
  return { projectId, jobs: [first, await waitForJob(db, editId, CONTAINER_WAIT_MS)] };
}

const visible = (job: Job) => ({
  status: job.status,
  jobType: job.jobType,
  createdFiles: job.createdFiles,
  modifiedFiles: job.modifiedFiles,
  deletedFiles: job.deletedFiles,
  errors: job.errors,
  // Summaries name no ids, so they compare as they are.
  summary: job.summary,
});

beforeAll(async () => {
  docker = await requireDockerApi(testConfig().CODEX_WORKER_IMAGE);
});

afterAll(async () => {
  if (!docker) return; // beforeAll failed, saying why
  const left = (await Promise.all(setups.map((s) => ourContainers(docker, s.config.QUEUE_PREFIX)))).flat();
  await Promise.all(
    left.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  expect(left.map((c) => c.Names[0])).toEqual([]);
});

it(`completes a project and an edit with the same results and files as the dummy executor (on ${ENGINE})`, async () => {
  const [dummy, inContainers] = await Promise.all([startRunner('dummy'), startRunner('docker')]);
  const [expected, actual] = await Promise.all([projectAndEdit(dummy), projectAndEdit(inContainers)]);

  expect(actual.jobs.map(visible)).toEqual(expected.jobs.map(visible));
  expect(actual.jobs.map((j) => j.status)).toEqual(['completed', 'completed']);
  const ws = (s: Setup, projectId: string) => projectWorkspace(s.config.workspaceRoot, projectId);
  expect(await filesOf(ws(inContainers, actual.projectId))).toEqual(await filesOf(ws(dummy, expected.projectId)));

  const log = await readJobLog(inContainers.config, actual.projectId, actual.jobs[0]!.id);
  expect(log).toMatch(/docker: container \w{12} \(codex-worker:latest; network none/);
  expect(log).toContain('dummy agent: wrote app.py');
  const stat = await fs.stat(path.join(ws(inContainers, actual.projectId), 'app.py'));
  expect([stat.uid, stat.gid]).toEqual([1000, 1000]);
});

it(`kills the container of a job past JOB_TIMEOUT_SECONDS and of a cancelled job, and removes both (on ${ENGINE})`, async () => {
  // Two runners: the cancelled job must not meet the 2 s limit first while its container starts on
  // a loaded machine.
  const [short, long] = await Promise.all([
    startRunner('docker', { WORKER_AGENT: 'sleep', JOB_TIMEOUT_SECONDS: '2' }),
    startRunner('docker', { WORKER_AGENT: 'sleep', JOB_TIMEOUT_SECONDS: '600' }),
  ]);
  const timedOut = await createProject(db, short.config);
  const cancelled = await createProject(db, long.config);
  await short.queue.enqueue(timedOut.jobId);
  await long.queue.enqueue(cancelled.jobId);

  // Cancel as the API does, once the agent runs: the request in Postgres, then the message.
  await waitFor(
    'the agent to run',
    async () => (await readJobLog(long.config, cancelled.projectId, cancelled.jobId)).includes('sleep agent: sleeping'),
    CONTAINER_WAIT_MS,
  );
  await db.job.update({ where: { id: cancelled.jobId }, data: { cancelRequestedAt: new Date() } });
  const redis = new Redis(long.config.REDIS_URL);
  await redis.publish(cancelChannel(long.config.QUEUE_PREFIX), cancelled.jobId);
  await redis.quit();

  const [timeoutJob, cancelJob] = await Promise.all([
    waitForJob(db, timedOut.jobId, CONTAINER_WAIT_MS),
    waitForJob(db, cancelled.jobId, CONTAINER_WAIT_MS),
  ]);
  expect(timeoutJob).toMatchObject({ status: 'error', errors: ['timeout'], errorCode: 'timeout' });
  expect(cancelJob).toMatchObject({ status: 'cancelled', errorCode: 'cancelled' });
  for (const [{ config }, { projectId, jobId }] of [
    [short, timedOut],
    [long, cancelled],
  ] as const) {
    expect(await readJobLog(config, projectId, jobId)).toMatch(/docker: container \w{12} killed after/);
    expect(await ourContainers(docker, config.QUEUE_PREFIX, [`${LABELS.jobId}=${jobId}`])).toEqual([]);
  }
});

it('ends a job whose container runs out of memory in out_of_memory, and one whose image is missing in image_missing', async () => {
  const [oom, noImage] = await Promise.all([
    startRunner('docker', { WORKER_AGENT: 'allocate', WORKER_MEMORY: '128m' }),
    startRunner('docker', { CODEX_WORKER_IMAGE: 'cwo-no-such-worker-image:never' }),
  ]);
  const [a, b] = await Promise.all([createProject(db, oom.config), createProject(db, noImage.config)]);
  await oom.queue.enqueue(a.jobId);
  await noImage.queue.enqueue(b.jobId);

  const [outOfMemory, missing] = await Promise.all([
    waitForJob(db, a.jobId, CONTAINER_WAIT_MS),
    waitForJob(db, b.jobId, CONTAINER_WAIT_MS),
  ]);
  expect(outOfMemory).toMatchObject({ status: 'error', errorCode: 'out_of_memory', attempts: 1 });
  expect(outOfMemory.errors.join(' ')).toMatch(/out-of-memory/);
  expect(missing).toMatchObject({ status: 'error', errorCode: 'image_missing', attempts: 1 });
  expect(missing.errors.join(' ')).toMatch(/worker image "cwo-no-such-worker-image:never" not found/);
});
