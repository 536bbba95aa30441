import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import type { Config } from '@cwo/config';
import { WorkerResult } from '@cwo/contracts';
import { createDb, type Db } from '@cwo/db';
import { runDummyAgent } from '@cwo/dummy-agent';
import { createLogger } from '@cwo/logger';
import { resultFile } from '@cwo/workspace';
import { createDockerExecutor, type DockerExecutor } from '../src/executors/docker';
import { InfrastructureError } from '../src/executors/types';
import { createRunnerId } from '../src/runner-id';
import { LABELS } from '../src/executors/docker/options';
import {
  createJob,
  dockerTestConfig,
  ENGINE,
  filesOf,
  ourContainers,
  requireDockerApi,
  TEST_ENV,
  writeRequest,
} from './docker-helpers';

// The docker executor against a real Docker Engine API (DOCKER_HOST): real containers of the
// worker image, with the diagnostic agents of worker-image/src/agents/test-agents.ts.

const SECRET = 'sk-test-0123456789abcdef-must-never-be-logged';
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error', service: 'docker-test', format: 'pretty' });

let base: Config;
let docker: Docker;
let db: Db;
let redis: Redis;
const executors: DockerExecutor[] = [];

/** An executor of this file's deployment (queue prefix, workspace root) with some settings changed. */
async function executor(
  overrides: Record<string, string> = {},
  extra: { docker?: Docker } = {},
): Promise<DockerExecutor> {
  const config = dockerTestConfig({
    QUEUE_PREFIX: base.QUEUE_PREFIX,
    WORKSPACE_ROOT: base.WORKSPACE_ROOT,
    ...overrides,
  });
  const ex = createDockerExecutor({
    config,
    logger,
    docker: extra.docker,
    env: { ...TEST_ENV, OPENAI_API_KEY: SECRET, DATABASE_URL: 'postgresql://runner:hunter2@db/x', NOT_PASSED: 'x' },
  });
  executors.push(ex);
  await ex.start({ runnerId: createRunnerId(), db, redis });
  return ex;
}

function collector() {
  const lines: string[] = [];
  return { lines, log: (line: string) => void lines.push(line), text: () => lines.join('\n') };
}

async function readResult(workspace: string): Promise<WorkerResult> {
  return WorkerResult.parse(JSON.parse(await fs.readFile(resultFile(workspace), 'utf8')));
}

beforeAll(async () => {
  base = dockerTestConfig();
  docker = await requireDockerApi(base.CODEX_WORKER_IMAGE);
  db = createDb(process.env.DATABASE_URL!);
  redis = new Redis(base.REDIS_URL);
});

afterAll(async () => {
  await Promise.all(executors.map((ex) => ex.close()));
  if (!docker) return; // beforeAll failed, saying why
  const left = await ourContainers(docker, base.QUEUE_PREFIX);
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
  // Every run removes its container, however it ended.
  expect(left.map((c) => c.Names[0])).toEqual([]);
});

describe(`docker executor on ${ENGINE}`, () => {
  it('gives a project job and an edit the same files and results as the dummy agent, owned by WORKER_UID', async () => {
    const ex = await executor();
    const first = await createJob(db, base, { instruction: 'Build the Fibonacci CLI' });
    const out = collector();
    await ex.run({
      workspace: first.workspace,
      request: first.request,
      log: out.log,
      signal: new AbortController().signal,
    });
    const created = await readResult(first.workspace);

    const edit = await createJob(db, base, {
      projectId: first.request.project_id,
      jobType: 'edit',
      instruction: 'Add a --count flag',
    });
    await ex.run({
      workspace: edit.workspace,
      request: edit.request,
      log: out.log,
      signal: new AbortController().signal,
    });
    const edited = await readResult(edit.workspace);

    // The same two jobs through the in-process dummy agent.
    const reference = path.join(base.workspaceRoot, 'dummy-reference');
    await fs.mkdir(reference, { recursive: true });
    const expectedCreated = await runDummyAgent(reference, first.request);
    const expectedEdited = await runDummyAgent(reference, edit.request);

    // The worker protocol's presence lines come first in result.json's logs (no value, ever).
    const presence = ['OPENAI_API_KEY=present', 'OPENAI_ORG_ID=absent', 'OPENAI_PROJECT=absent'];
    const withPresence = (r: WorkerResult) => ({ ...r, logs: [...presence, ...r.logs] });
    expect(created).toEqual(withPresence(WorkerResult.parse(expectedCreated)));
    expect(edited).toEqual(withPresence(WorkerResult.parse(expectedEdited)));
    expect(created.created_files.sort()).toEqual(['README.md', 'app.py', 'tests/test_cli.py']);
    expect(await filesOf(edit.workspace)).toEqual(await filesOf(reference));
    expect(
      (await fs.readFile(path.join(edit.workspace, 'app.py'), 'utf8')).endsWith('# Edit: Add a --count flag\n'),
    ).toBe(true);

    // Written by the container's user, not root.
    for (const file of ['app.py', 'tests/test_cli.py', '.codex/result.json']) {
      const stat = await fs.stat(path.join(edit.workspace, file));
      expect([file, stat.uid, stat.gid]).toEqual([file, base.WORKER_UID.uid, base.WORKER_UID.gid]);
    }

    // The container's output streamed into the log, line by line; the key's presence, never its value.
    expect(out.lines).toEqual(expect.arrayContaining(['dummy agent: wrote app.py', ...presence]));
    expect(out.text()).not.toContain(SECRET);
    expect(out.lines.some((l) => /^docker: container \w{12} exited with code 0/.test(l))).toBe(true);
    expect(await ourContainers(docker, base.QUEUE_PREFIX, [`${LABELS.projectId}=${first.request.project_id}`])).toEqual(
      [],
    );
  });

  it('kills and removes a container that runs past the time limit', async () => {
    const ex = await executor({ WORKER_AGENT: 'sleep' });
    const job = await createJob(db, base);
    const out = collector();
    // The runner's timer aborts the run (reason "timeout"); here it starts once the agent runs.
    const limit = new AbortController();
    await ex.run({
      workspace: job.workspace,
      request: job.request,
      signal: limit.signal,
      log: (line) => {
        out.log(line);
        if (line.startsWith('sleep agent: sleeping')) setTimeout(() => limit.abort({ reason: 'timeout' }), 1000);
      },
    });

    expect(out.text()).toMatch(/docker: container \w{12} killed after [\d.]+ s \(timeout\)/);
    await expect(fs.access(resultFile(job.workspace))).rejects.toThrow();
    expect(await ourContainers(docker, base.QUEUE_PREFIX, [`${LABELS.jobId}=${job.request.job_id}`])).toEqual([]);
  });

  it('kills and removes the container at once when the job is cancelled', async () => {
    const ex = await executor({ WORKER_AGENT: 'sleep' });
    const job = await createJob(db, base);
    const controller = new AbortController();
    const out = collector();
    const running = ex.run({
      workspace: job.workspace,
      request: job.request,
      signal: controller.signal,
      log: (line) => {
        out.log(line);
        if (line.startsWith('sleep agent:')) controller.abort({ reason: 'cancel' });
      },
    });
    await running;

    expect(controller.signal.aborted).toBe(true);
    expect(out.text()).toMatch(/docker: container \w{12} killed after [\d.]+ s \(cancel\)/);
    expect(await ourContainers(docker, base.QUEUE_PREFIX, [`${LABELS.jobId}=${job.request.job_id}`])).toEqual([]);
  });

  it('runs the agent with a read-only root filesystem, no network and only the allowlisted variables', async () => {
    const ex = await executor({ WORKER_AGENT: 'probe' });
    const job = await createJob(db, base);
    const out = collector();
    await ex.run({
      workspace: job.workspace,
      request: job.request,
      log: out.log,
      signal: new AbortController().signal,
    });
    const { logs } = await readResult(job.workspace);

    expect(logs).toEqual(
      expect.arrayContaining([
        `uid ${base.WORKER_UID.uid} gid ${base.WORKER_UID.gid}`,
        'write /workspace/probe.txt: ok',
        'write /tmp/probe.txt: ok',
        'write /etc/probe.txt: EROFS',
        'write /probe.txt: EROFS',
        'write /opt/cwo-worker/dist/probe.txt: EROFS',
        'interfaces lo',
      ]),
    );
    const connect = logs.find((l) => l.startsWith('connect 1.1.1.1:443:'));
    expect(connect).toBeDefined();
    expect(connect).not.toMatch(/: ok$/);

    const envLine = logs.find((l) => l.startsWith('env '))!;
    const names = envLine.slice('env '.length).split(',');
    expect(names).toEqual(expect.arrayContaining(['OPENAI_API_KEY', 'WORKER_AGENT', 'WORKER_TEST_AGENTS']));
    expect(names).not.toContain('DATABASE_URL');
    expect(names).not.toContain('NOT_PASSED');
    expect(out.text()).not.toContain(SECRET);
    expect(out.text()).not.toContain('hunter2');

    const stat = await fs.stat(path.join(job.workspace, 'probe.txt'));
    expect([stat.uid, stat.gid]).toEqual([base.WORKER_UID.uid, base.WORKER_UID.gid]);
  });

  it('ends in an error naming out-of-memory when the agent goes over WORKER_MEMORY', async () => {
    const ex = await executor({ WORKER_AGENT: 'allocate', WORKER_MEMORY: '128m' });
    const job = await createJob(db, base);
    const out = collector();
    const run = ex.run({
      workspace: job.workspace,
      request: job.request,
      log: out.log,
      signal: new AbortController().signal,
    });

    // The same words on every engine (podman never says OOMKilled here; Docker does).
    await expect(run).rejects.toThrow(
      'worker container ran out of memory: killed at its limit of WORKER_MEMORY=128m (out-of-memory)',
    );
    await expect(run).rejects.toMatchObject({ code: 'out_of_memory' });
    await expect(run).rejects.not.toBeInstanceOf(InfrastructureError);
    expect(out.text()).toContain('allocate agent: holding');
    expect(await ourContainers(docker, base.QUEUE_PREFIX, [`${LABELS.jobId}=${job.request.job_id}`])).toEqual([]);
  });

  it('fails the job with how to build the image when the worker image is missing', async () => {
    const ex = await executor({ CODEX_WORKER_IMAGE: 'cwo-no-such-worker-image:never' });
    const job = await createJob(db, base);
    const run = ex.run({
      workspace: job.workspace,
      request: job.request,
      log: () => {},
      signal: new AbortController().signal,
    });

    await expect(run).rejects.toThrow(/worker image "cwo-no-such-worker-image:never" not found .*pnpm worker:build/);
    await expect(run).rejects.toMatchObject({ code: 'image_missing' });
    await expect(run).rejects.not.toBeInstanceOf(InfrastructureError);
  });

  it('reports an unreachable Docker API as an infrastructure error naming where it looked', async () => {
    const ex = await executor({}, { docker: new Docker({ socketPath: '/nonexistent/cwo-docker.sock' }) });
    const job = await createJob(db, base);
    const run = ex.run({
      workspace: job.workspace,
      request: job.request,
      log: () => {},
      signal: new AbortController().signal,
    });

    await expect(run).rejects.toBeInstanceOf(InfrastructureError);
    await expect(run).rejects.toThrow(/Docker API unreachable at unix:\/\/\/nonexistent\/cwo-docker\.sock/);
  });

  it('removes the containers earlier runs of the project left (this job’s or an earlier job’s) before it starts', async () => {
    const ex = await executor();
    const job = await createJob(db, base);
    // Runs whose runner died or froze: their containers still run.
    const stale: Docker.Container[] = [];
    for (const jobId of [job.request.job_id, '00000000-0000-4000-8000-0000000000e1']) {
      const container = await docker.createContainer({
        Image: base.CODEX_WORKER_IMAGE,
        Env: ['WORKER_AGENT=sleep', 'WORKER_TEST_AGENTS=true'],
        Labels: {
          [LABELS.managed]: 'true',
          [LABELS.queuePrefix]: base.QUEUE_PREFIX,
          [LABELS.jobId]: jobId,
          [LABELS.projectId]: job.request.project_id,
          [LABELS.runnerId]: ex.runnerId, // even one this runner believes is its own
        },
        HostConfig: { NetworkMode: 'none', Binds: [`${job.workspace}:/workspace`] },
      });
      await container.start();
      stale.push(container);
    }
    await writeRequest(job.workspace, job.request);

    const out = collector();
    await ex.stopEarlierRuns({ request: job.request, log: out.log });
    await ex.run({
      workspace: job.workspace,
      request: job.request,
      log: out.log,
      signal: new AbortController().signal,
    });

    expect(out.text()).toContain(`removing container ${stale[0]!.id.slice(0, 12)} of an earlier attempt of this job`);
    expect(out.text()).toContain(`removing container ${stale[1]!.id.slice(0, 12)} of an earlier job`);
    expect((await readResult(job.workspace)).status).toBe('success');
    expect(await ourContainers(docker, base.QUEUE_PREFIX, [`${LABELS.projectId}=${job.request.project_id}`])).toEqual(
      [],
    );
  });
});
