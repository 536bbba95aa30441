import crypto from 'node:crypto';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import type { Config } from '@cwo/config';
import { createDb, type Db } from '@cwo/db';
import { createLogger } from '@cwo/logger';
import { createDockerExecutor, type DockerExecutor } from '../src/executors/docker';
import { LABELS } from '../src/executors/docker/options';
import { runnerHeartbeatKey } from '../src/executors/docker/reaper';
import { createRunnerId } from '../src/runner-id';
import { createJob, dockerTestConfig, ENGINE, ourContainers, requireDockerApi } from './docker-helpers';

// Containers left behind by runners that died (SIGKILL): the next runner to start removes those
// it can prove are orphans, and only those, since other runners may share the Docker host.

const logger = createLogger({
  level: process.env.TEST_LOG_LEVEL ?? 'error',
  service: 'orphans-test',
  format: 'pretty',
});

let config: Config;
let docker: Docker;
let db: Db;
let redis: Redis;
let executor: DockerExecutor | undefined;
const otherPrefix = `cwo-other-${crypto.randomBytes(3).toString('hex')}`;

/** A long-running container labelled as a runner labels its job's container. */
async function leftBehind(labels: {
  prefix: string;
  jobId: string;
  projectId: string;
  runnerId: string;
}): Promise<string> {
  const container = await docker.createContainer({
    Image: config.CODEX_WORKER_IMAGE,
    Entrypoint: ['node', '-e', 'setInterval(() => {}, 60000)'],
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.queuePrefix]: labels.prefix,
      [LABELS.jobId]: labels.jobId,
      [LABELS.projectId]: labels.projectId,
      [LABELS.runnerId]: labels.runnerId,
    },
    HostConfig: { NetworkMode: 'none' },
  });
  await container.start();
  return container.id;
}

const ids = (list: Docker.ContainerInfo[]) => list.map((c) => c.Id).sort();

beforeAll(async () => {
  config = dockerTestConfig({ ORPHAN_REAP_INTERVAL_SECONDS: '1' });
  docker = await requireDockerApi(config.CODEX_WORKER_IMAGE);
  db = createDb(process.env.DATABASE_URL!);
  redis = new Redis(config.REDIS_URL);
});

afterAll(async () => {
  await executor?.close();
  if (!docker) return; // beforeAll failed, saying why
  const left = [...(await ourContainers(docker, config.QUEUE_PREFIX)), ...(await ourContainers(docker, otherPrefix))];
  await Promise.all(
    left.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  await redis?.quit();
  await db?.$disconnect();
  expect(left.map((c) => c.Labels[LABELS.queuePrefix])).toEqual([otherPrefix]); // only the other deployment's, removed just now
});

it(`removes at start the containers it can prove are orphans, and later those that become orphans (on ${ENGINE})`, async () => {
  const finished = await createJob(db, config, { status: 'completed' });
  const deadRunners = await createJob(db, config, { status: 'in_progress' });
  const liveRunners = await createJob(db, config, { status: 'in_progress' });
  const liveRunner = `live-runner-${crypto.randomBytes(3).toString('hex')}`;
  await redis.set(runnerHeartbeatKey(config.QUEUE_PREFIX, liveRunner), '1', 'PX', 60_000);

  const orphanOfFinishedJob = await leftBehind({
    prefix: config.QUEUE_PREFIX,
    jobId: finished.request.job_id,
    projectId: finished.request.project_id,
    runnerId: liveRunner,
  });
  const orphanOfDeadRunner = await leftBehind({
    prefix: config.QUEUE_PREFIX,
    jobId: deadRunners.request.job_id,
    projectId: deadRunners.request.project_id,
    runnerId: 'a-runner-killed-with-sigkill',
  });
  const orphanOfDeletedJob = await leftBehind({
    prefix: config.QUEUE_PREFIX,
    jobId: crypto.randomUUID(),
    projectId: crypto.randomUUID(),
    runnerId: liveRunner,
  });
  const inUse = await leftBehind({
    prefix: config.QUEUE_PREFIX,
    jobId: liveRunners.request.job_id,
    projectId: liveRunners.request.project_id,
    runnerId: liveRunner,
  });
  const otherDeployment = await leftBehind({
    prefix: otherPrefix,
    jobId: finished.request.job_id,
    projectId: finished.request.project_id,
    runnerId: 'a-runner-killed-with-sigkill',
  });
  expect(ids(await ourContainers(docker, config.QUEUE_PREFIX))).toEqual(
    [orphanOfFinishedJob, orphanOfDeadRunner, orphanOfDeletedJob, inUse].sort(),
  );

  // The next runner starts.
  executor = createDockerExecutor({ config, logger });
  await executor.start({ runnerId: createRunnerId(), db, redis });

  expect(ids(await ourContainers(docker, config.QUEUE_PREFIX))).toEqual([inUse]);
  expect(ids(await ourContainers(docker, otherPrefix))).toEqual([otherDeployment]);
  // The new runner announces itself alive, so other runners leave its containers alone.
  expect(await redis.exists(runnerHeartbeatKey(config.QUEUE_PREFIX, executor.runnerId))).toBe(1);

  // The live runner's job finishes but its container stays (a runner that died just then):
  // a periodic pass (ORPHAN_REAP_INTERVAL_SECONDS=1) removes it.
  await db.job.update({ where: { id: liveRunners.request.job_id }, data: { status: 'completed' } });
  const deadline = Date.now() + 15_000;
  while ((await ourContainers(docker, config.QUEUE_PREFIX)).length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(await ourContainers(docker, config.QUEUE_PREFIX)).toEqual([]);
});
