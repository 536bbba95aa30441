// Shared by the docker executor's tests: they run real containers through the Docker Engine API
// named by DOCKER_HOST. CI runs them twice (scripts/test.sh): on podman's socket and on Debian's
// Docker Engine, both started by scripts/container-runtime.sh, with CWO_TEST_ENGINE naming the
// engine in every test title. Without an engine they fail, saying how to get one; they never skip.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { loadConfig, type Config } from '@cwo/config';
import type { WorkerRequest } from '@cwo/contracts';
import type { Db } from '@cwo/db';
import { projectWorkspace, requestFile } from '@cwo/workspace';
import { engineInfo, type EngineKind } from '@cwo/container-engine';
import { deploymentFilter } from '../src/executors/docker/options';

const HOW_TO =
  'Run `eval "$(bash scripts/container-runtime.sh --env)"` first (it starts podman\'s Docker API and builds the worker image; scripts/test.sh does it), or point DOCKER_HOST at a Docker engine and run `pnpm worker:build`.';

const EXPECTED = process.env.CWO_TEST_ENGINE as EngineKind | undefined;

/** The engine the tests run on, for their titles: "podman", "Docker Engine" (CWO_TEST_ENGINE), else DOCKER_HOST. */
export const ENGINE =
  EXPECTED === 'docker'
    ? 'Docker Engine'
    : (EXPECTED ?? `the engine at ${process.env.DOCKER_HOST ?? '(DOCKER_HOST unset)'}`);

/**
 * The Docker API of DOCKER_HOST, answering, with the worker image built, and the engine that
 * CWO_TEST_ENGINE names; otherwise an error saying what to do.
 */
export async function requireDockerApi(image: string): Promise<Docker> {
  if (!process.env.DOCKER_HOST) {
    throw new Error(`DOCKER_HOST is not set: the docker executor's tests need a Docker Engine API. ${HOW_TO}`);
  }
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `No Docker API answers at DOCKER_HOST=${process.env.DOCKER_HOST} (${(err as Error).message}). ${HOW_TO}`,
    );
  }
  if (EXPECTED) {
    const engine = await engineInfo(docker);
    if (engine.kind !== EXPECTED) {
      throw new Error(
        `CWO_TEST_ENGINE=${EXPECTED}, but ${engine.description} answers at DOCKER_HOST=${process.env.DOCKER_HOST}`,
      );
    }
  }
  try {
    await docker.getImage(image).inspect();
  } catch {
    throw new Error(`The worker image ${image} is missing at DOCKER_HOST=${process.env.DOCKER_HOST}. ${HOW_TO}`);
  }
  return docker;
}

/** A configuration of its own (queue prefix, workspace root) for one test file, docker executor on. */
export function dockerTestConfig(overrides: Record<string, string> = {}): Config {
  const env = { ...process.env } as Record<string, string>;
  return loadConfig({
    ...env,
    USE_DUMMY_WORKER: 'false',
    QUEUE_PREFIX: `${env.QUEUE_PREFIX}-docker-${crypto.randomBytes(3).toString('hex')}`,
    WORKSPACE_ROOT: path.join(env.WORKSPACE_ROOT!, `docker-${crypto.randomBytes(3).toString('hex')}`),
    // The diagnostic agents (worker-image/src/agents/test-agents.ts) exist only with this variable.
    WORKER_ENV_PASSTHROUGH: 'WORKER_TEST_AGENTS',
    ...overrides,
  });
}

/** The environment the executor reads the worker's variables from. */
export const TEST_ENV = { WORKER_TEST_AGENTS: 'true' };

/** A project with one job in Postgres (the orphan reaper checks jobs there) and its request.json. */
export async function createJob(
  db: Db,
  config: Config,
  opts: {
    projectId?: string;
    jobType?: 'initial_project' | 'edit';
    instruction?: string;
    status?: 'queued' | 'in_progress' | 'completed';
  } = {},
): Promise<{ request: WorkerRequest; workspace: string }> {
  const instruction = opts.instruction ?? 'Build the Fibonacci CLI';
  const projectId =
    opts.projectId ??
    (await db.project.create({ data: { instruction, workspacePath: 'pending', status: 'in_progress' } })).id;
  const workspace = projectWorkspace(config.workspaceRoot, projectId);
  await db.project.update({ where: { id: projectId }, data: { workspacePath: workspace } });
  const job = await db.job.create({
    data: { projectId, jobType: opts.jobType ?? 'initial_project', instruction, status: opts.status ?? 'in_progress' },
  });
  const request: WorkerRequest = {
    project_id: projectId,
    job_id: job.id,
    job_type: opts.jobType ?? 'initial_project',
    instruction,
    history: [],
    checks: [],
    fix_attempts: 0,
  };
  await writeRequest(workspace, request);
  return { request, workspace };
}

export async function writeRequest(workspace: string, request: WorkerRequest): Promise<void> {
  await fs.mkdir(path.dirname(requestFile(workspace)), { recursive: true });
  await fs.writeFile(requestFile(workspace), `${JSON.stringify(request, null, 2)}\n`);
}

/** Containers of this deployment (queue prefix), running or not. */
export async function ourContainers(
  docker: Docker,
  queuePrefix: string,
  extra: string[] = [],
): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: deploymentFilter(queuePrefix, extra) });
}

/** A workspace's files (outside .codex/) with their contents, for comparisons. */
export async function filesOf(workspace: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(workspace, full);
      if (rel === '.codex') continue;
      if (entry.isDirectory()) await walk(full);
      else out[rel] = await fs.readFile(full, 'utf8');
    }
  };
  await walk(workspace);
  return out;
}
