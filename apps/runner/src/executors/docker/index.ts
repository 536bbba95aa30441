import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import Docker from 'dockerode';
import type { Config } from '@cwo/config';
import type { Logger } from '@cwo/logger';
import { lastLineKeeper, lineWriter } from '../output-lines';
import {
  InfrastructureError,
  JobFailure,
  UnreachableError,
  type Executor,
  type ExecutorRun,
  type RunnerContext,
} from '../types';
import { workerEnvironment } from '../worker-environment';
import {
  dockerHostDescription,
  dockerMessage,
  engineInfo,
  isUnreachable,
  removeNetwork,
  statusCodeOf,
  type EngineInfo,
} from '@cwo/container-engine';
import { openEgressSandbox, type EgressSandbox } from './egress-sandbox';
import { exitFailure } from './exit-status';
import {
  containerName,
  containerOptions,
  deploymentFilter,
  jobLabels,
  LABELS,
  type DockerExecutorConfig,
} from './options';
import { createOrphanReaper, type OrphanReaper } from './reaper';
import { giveWorkspaceTo } from './workspace-owner';

export interface DockerExecutorDeps {
  config: DockerExecutorConfig & Pick<Config, 'ORPHAN_REAP_INTERVAL_SECONDS'>;
  logger: Logger;
  /** Defaults to a client of DOCKER_HOST (or the default socket), as dockerode reads it. */
  docker?: Docker;
  /** Where the allowlisted variables for the worker are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Tests: how often the reaper's heartbeat is refreshed. */
  heartbeatMs?: number;
}

export interface DockerExecutor extends Executor {
  readonly name: 'docker';
  /** The runner's id, on its containers' labels (known once started). */
  readonly runnerId: string;
  readonly docker: Docker;
  /**
   * Announces the runner alive and reaps orphaned containers (the first pass is awaited; its
   * problems are logged, not thrown), then keeps doing both; also says if the image is missing.
   */
  start(runner: RunnerContext): Promise<void>;
  /** Stops the orphan reaper and withdraws the runner's heartbeat. */
  close(): Promise<void>;
  stopEarlierRuns(run: Pick<ExecutorRun, 'request' | 'log'>): Promise<void>;
}

/** How long to wait for the rest of the output once the container has exited. */
const OUTPUT_DRAIN_MS = 2000;

const formatBytes = (n: number) =>
  n >= 1024 ** 3 ? `${+(n / 1024 ** 3).toFixed(2)}g` : `${Math.round(n / 1024 ** 2)}m`;

const abortReason = (signal: AbortSignal): string =>
  (signal.reason as { reason?: unknown } | undefined)?.reason?.toString() ?? 'abort';

/**
 * The `docker` executor: runs each job in a container of the worker image (CODEX_WORKER_IMAGE)
 * through the Docker Engine API, with the workspace bind-mounted at /workspace, hardened by default
 * (no network, memory/CPU/pids limits, read-only root filesystem, no capabilities, a non-root
 * user, an allowlisted environment). The container's output streams into the job log; the
 * container is removed however the job ends. Its orphan reaper (reaper.ts) runs from the runner's
 * start to its stop, on the runner's connections and under the runner's id.
 */
export function createDockerExecutor(deps: DockerExecutorDeps): DockerExecutor {
  const { config, logger } = deps;
  const docker = deps.docker ?? new Docker();
  const env = deps.env ?? process.env;
  const where = dockerHostDescription(docker, env);
  let runner: RunnerContext | null = null;
  let reaper: OrphanReaper | null = null;
  let engine: EngineInfo | null = null;

  /** A Docker API failure as the runner should see it: unreachable or 5xx is retried, the rest is final. */
  function translate(err: unknown, action: string): Error {
    if (err instanceof InfrastructureError) return err;
    if (isUnreachable(err)) {
      const code = (err as NodeJS.ErrnoException).code;
      return new UnreachableError('the container engine', `Docker API unreachable at ${where}: ${code}`, {
        cause: err,
      });
    }
    const status = statusCodeOf(err);
    const message = dockerMessage(err);
    if (status === 404 && action === 'create' && /image/i.test(message)) {
      return new JobFailure(
        'image_missing',
        `worker image "${config.CODEX_WORKER_IMAGE}" not found at ${where}: build it with \`pnpm worker:build\` (or set CODEX_WORKER_IMAGE)`,
        { cause: err },
      );
    }
    if (status !== undefined && status >= 500) {
      return new InfrastructureError(`Docker API at ${where} failed to ${action} the worker container: ${message}`, {
        cause: err,
      });
    }
    // The engine refused what it was asked (a 4xx): on create, a setting of ours it does not accept.
    return new JobFailure(
      action === 'create' ? 'configuration' : 'infrastructure',
      `could not ${action} the worker container: ${message}`,
      { cause: err },
    );
  }

  /** Removes a container, retrying while the engine is still busy with it (podman: "state improper"). */
  async function removeContainer(container: Docker.Container): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await container.remove({ force: true, v: true });
        return true;
      } catch (err) {
        const status = statusCodeOf(err);
        if (status === 404 || (status === 409 && /in progress/i.test(dockerMessage(err)))) return true;
        if (attempt >= 8) {
          logger.warn('could not remove a worker container; the orphan reaper will', {
            container: container.id,
            error: dockerMessage(err),
          });
          return false;
        }
        await delay(100 * attempt);
      }
    }
  }

  /**
   * The container's exit code, as soon as it is known. The engine's wait is poll-bound (podman
   * answers a few hundred milliseconds after the exit), while the attach stream ends as the process exits; so
   * once the output has ended, inspect is polled briefly, with wait racing it as the fallback for a
   * program that closes its output and keeps running. (Wait is called after start: a wait before
   * start can return early on podman, see the notes.)
   */
  async function waitForExit(container: Docker.Container, outputEnded: Promise<void>): Promise<number> {
    let settled = false;
    const viaWait = (container.wait() as Promise<{ StatusCode: number }>).then((r) => r.StatusCode);
    const viaInspect = outputEnded.then(async () => {
      for (let pause = 5; !settled; pause = Math.min(pause * 2, 250)) {
        const state = (await container.inspect()).State;
        if (!state.Running && !state.Restarting && state.Status !== 'created') return state.ExitCode;
        await delay(pause);
      }
      return viaWait;
    });
    try {
      return await Promise.race([viaWait, viaInspect]);
    } finally {
      settled = true;
      // The loser settles later (or fails once the container is removed): nothing waits on it.
      viaWait.catch(() => undefined);
      viaInspect.catch(() => undefined);
    }
  }

  async function kill(container: Docker.Container): Promise<void> {
    await container.kill({ signal: 'SIGKILL' }).catch(() => undefined); // not running (yet, or any more)
  }

  /**
   * Containers of this project left by an earlier run (a runner that died, froze past its lock or
   * lost the engine): this runner holds the project's lock now, so every one of them is stale.
   */
  async function stopEarlierRuns({ request, log }: Pick<ExecutorRun, 'request' | 'log'>): Promise<void> {
    let found: Docker.ContainerInfo[];
    try {
      found = await docker.listContainers({
        all: true,
        filters: deploymentFilter(config.QUEUE_PREFIX, [`${LABELS.projectId}=${request.project_id}`]),
      });
    } catch (err) {
      throw translate(err, 'list');
    }
    for (const info of found) {
      const short = info.Id.slice(0, 12);
      const of = info.Labels[LABELS.jobId] === request.job_id ? 'an earlier attempt of this job' : 'an earlier job';
      log(`docker: removing container ${short} of ${of}`);
      if (!(await removeContainer(docker.getContainer(info.Id))))
        throw new InfrastructureError(`could not remove container ${short} of ${of}; not starting another beside it`);
    }
    // Their sealed networks too (WORKER_EGRESS=allowlist), once their containers are gone.
    let networks: Docker.NetworkInspectInfo[];
    try {
      networks = await docker.listNetworks({
        filters: deploymentFilter(config.QUEUE_PREFIX, [`${LABELS.projectId}=${request.project_id}`]),
      });
    } catch (err) {
      throw translate(err, 'list');
    }
    for (const info of networks) {
      const of = info.Labels?.[LABELS.jobId] === request.job_id ? 'an earlier attempt of this job' : 'an earlier job';
      log(`docker: removing network ${info.Name} of ${of}`);
      await removeNetwork(docker, info.Id);
    }
  }

  /** The agent's sealed network and egress proxy (WORKER_EGRESS=allowlist), made before its container. */
  async function openSandbox(request: ExecutorRun['request'], name: string, log: ExecutorRun['log']) {
    try {
      engine ??= await engineInfo(docker);
      return await openEgressSandbox({
        docker,
        engine: engine.kind,
        config,
        labels: jobLabels(config, request, runnerContext().runnerId),
        name,
        log,
      });
    } catch (err) {
      if (err instanceof InfrastructureError) throw err;
      const status = statusCodeOf(err);
      if (isUnreachable(err) || (status !== undefined && status >= 500)) {
        throw new InfrastructureError(
          `Docker API at ${where} failed to set up the egress proxy: ${dockerMessage(err)}`,
          {
            cause: err,
          },
        );
      }
      // The engine refused it (a missing egress network, a setting it does not take): ours to fix.
      throw new JobFailure('configuration', `could not set up the egress proxy: ${dockerMessage(err)}`, { cause: err });
    }
  }

  async function run(args: ExecutorRun): Promise<void> {
    const { request, log, recordEgress } = args;
    if (args.signal.aborted) return;
    const name = containerName(request, crypto.randomBytes(3).toString('hex'));
    // (What earlier runs of the project left, containers, proxies and networks, is gone already:
    // stopEarlierRuns runs first.)
    const sandbox: EgressSandbox | null =
      config.workerEgress === 'allowlist' ? await openSandbox(request, name, log) : null;
    try {
      await runContainer(args, name, sandbox);
    } finally {
      // After the container: the record holds every connection it made, to its end.
      if (sandbox) recordEgress?.(await sandbox.close());
    }
  }

  async function runContainer(
    { workspace, request, log, signal, mayChangeWorkspace }: ExecutorRun,
    name: string,
    sandbox: EgressSandbox | null,
  ): Promise<void> {
    if (signal.aborted) return;
    try {
      await giveWorkspaceTo(workspace, config.WORKER_UID);
    } catch (err) {
      const { uid, gid } = config.WORKER_UID;
      throw new JobFailure(
        'configuration',
        `cannot make the workspace writable for WORKER_UID ${uid}:${gid} (${(err as Error).message}): run the runner as root, or set WORKER_UID to the runner's own uid:gid`,
        { cause: err },
      );
    }

    const environment = workerEnvironment(config, env);
    let container: Docker.Container;
    try {
      container = await docker.createContainer(
        containerOptions({
          config,
          request,
          workspace,
          runnerId: runnerContext().runnerId,
          name,
          env: [...environment.entries, ...(sandbox?.env ?? [])],
          network: sandbox?.network,
        }),
      );
    } catch (err) {
      throw translate(err, 'create');
    }
    const short = container.id.slice(0, 12);
    const { uid, gid } = config.WORKER_UID;
    log(
      `docker: container ${short} (${config.CODEX_WORKER_IMAGE}; network ${sandbox ? `${sandbox.network} (sealed: out only through its egress proxy)` : config.WORKER_NETWORK}, memory ${formatBytes(config.WORKER_MEMORY)}, cpus ${config.WORKER_CPUS}, pids ${config.WORKER_PIDS}, user ${uid}:${gid}; env ${[...environment.names, ...(sandbox ? ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'] : [])].join(', ')})`,
    );

    const onAbort = () => void kill(container);
    signal.addEventListener('abort', onAbort, { once: true });
    const stdout = lineWriter(log);
    const said = lastLineKeeper(log);
    const stderr = lineWriter(said.onLine);
    const started = Date.now();
    let stream: Duplex | undefined;
    try {
      stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Duplex;
      const outputEnded = new Promise<void>((resolve) => {
        stream!.once('end', resolve);
        stream!.once('close', resolve);
        stream!.once('error', () => resolve());
      });
      docker.modem.demuxStream(stream, stdout, stderr);
      if (signal.aborted || mayChangeWorkspace?.() === false) return;
      await container.start();
      // An abort that came while starting found nothing to kill yet.
      if (signal.aborted) await kill(container);
      const exitCode = await waitForExit(container, outputEnded);
      await Promise.race([outputEnded, delay(OUTPUT_DRAIN_MS, undefined, { ref: false })]);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (signal.aborted) {
        log(`docker: container ${short} killed after ${seconds} s (${abortReason(signal)})`);
        return;
      }
      log(`docker: container ${short} exited with code ${exitCode} after ${seconds} s`);
      const state = (await container.inspect()).State;
      const failure = exitFailure({
        exitCode,
        oomKilled: state.OOMKilled,
        memoryLimit: config.WORKER_MEMORY,
        engineError: state.Error || undefined,
        lastErrorLine: said.last() || undefined,
      });
      if (failure) throw new JobFailure(failure.code, failure.message);
    } catch (err) {
      // Killing the container can break the calls in flight; the job ends by its abort reason.
      if (signal.aborted) return;
      if (err instanceof Error && !statusCodeOf(err) && !isUnreachable(err)) throw err;
      throw translate(err, 'run');
    } finally {
      signal.removeEventListener('abort', onAbort);
      // The attach stream first, so that nothing is written to the line writers once they end.
      stream?.destroy();
      stdout.end();
      stderr.end();
      await removeContainer(container);
    }
  }

  function runnerContext(): RunnerContext {
    if (!runner) throw new Error('the docker executor was not started (Executor.start)');
    return runner;
  }

  /** Says at start, once, when the worker image is missing or the Docker API does not answer. */
  async function checkImage(): Promise<void> {
    try {
      await docker.getImage(config.CODEX_WORKER_IMAGE).inspect();
    } catch (err) {
      if (statusCodeOf(err) === 404) {
        logger.warn(
          `worker image ${config.CODEX_WORKER_IMAGE} not found at ${where}: build it with \`pnpm worker:build\``,
        );
      } else {
        logger.warn(`Docker API at ${where} did not answer: ${dockerMessage(err)}`);
      }
    }
  }

  return {
    name: 'docker',
    docker,
    get runnerId() {
      return runnerContext().runnerId;
    },
    async start(context) {
      runner = context;
      reaper = createOrphanReaper({ docker, ...context, config, logger, heartbeatMs: deps.heartbeatMs });
      await Promise.all([
        checkImage(),
        engineInfo(docker).then(
          (info) => {
            engine = info;
          },
          () => undefined, // said by checkImage
        ),
        reaper.start().catch((err: unknown) => {
          logger.warn('orphan reaper: first pass failed', { error: err });
        }),
      ]);
    },
    run,
    stopEarlierRuns,
    async close() {
      await reaper?.stop();
    },
  };
}
