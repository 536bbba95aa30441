import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type Docker from 'dockerode';
import type { Config } from '@cwo/config';
import { dockerHostDescription, engineInfo, type EngineKind } from '@cwo/container-engine';
import type { PreviewSpec, PreviewStatus } from '@cwo/contracts';
import type { Db } from '@cwo/db';
import type { Logger } from '@cwo/logger';
import type { Redis } from 'ioredis';
import {
  containerLogTail,
  PREVIEW_LABELS,
  previewContainerName,
  previewContainerOptions,
  previewFilter,
  previewLabels,
  publishedPort,
  type PreviewContainerConfig,
} from './preview-containers';
import { openPreviewNetwork, removePreviewNetworks, type PreviewNetworkConfig } from './preview-network';

// Running previews: one per project, its state in Redis (shared by every API process; it is
// runtime state, gone with its container, not history), its container on the Docker host.
// Lifecycle: starting -> running (its port answered) | failed (it exited, or did not answer in
// PREVIEW_START_SECONDS); running -> stopped (idle, project deleted, DELETE, API gone) and
// restarted when a job finished after it started.

/** `state` ended (failed or stopped): no container or host port any more, from now. */
const ended = (state: PreviewState, status: 'failed' | 'stopped', reason: string, log: string): PreviewState => ({
  ...state,
  status,
  containerId: null,
  hostPort: null,
  stoppedAt: new Date().toISOString(),
  reason,
  log,
});

export interface PreviewState {
  status: PreviewStatus;
  command: string;
  port: number;
  containerId: string | null;
  hostPort: number | null;
  apiId: string;
  startedAt: string;
  stoppedAt: string | null;
  reason: string | null;
  log: string;
}

export interface RunningPreviews {
  /** Starts (or restarts) the project's server; resolves once it is `starting`. */
  start(projectId: string, spec: PreviewSpec): Promise<PreviewState>;
  stop(projectId: string, reason: string): Promise<PreviewState | null>;
  /** The state, with the container's latest output while it runs. */
  get(projectId: string): Promise<PreviewState | null>;
  /** Where to proxy a request for this project, or null when no server runs; counts as activity. */
  targetOf(projectId: string): Promise<{ status: PreviewStatus; url: string | null; port: number } | null>;
  /** One pass of the housekeeping: idle previews stopped, changed workspaces restarted, orphans reaped. */
  sweep(): Promise<void>;
  start_housekeeping(): void;
  close(): Promise<void>;
}

export interface RunningPreviewsDeps {
  docker: Docker;
  redis: Redis;
  db: Db;
  config: PreviewContainerConfig &
    PreviewNetworkConfig &
    Pick<Config, 'PREVIEW_IDLE_SECONDS' | 'PREVIEW_START_SECONDS' | 'PREVIEW_LOG_MAX_BYTES'>;
  logger: Logger;
  /** How often housekeeping runs (tests make it short). */
  sweepMs?: number;
}

const HEARTBEAT_TTL_S = 30;
/** Activity is written at most this often per project and process (each request would be too much). */
const TOUCH_EVERY_MS = 5_000;
/** A preview network younger than this may belong to a start still making its container. */
const NETWORK_GRACE_MS = 60_000;

/** Nothing listens where DOCKER_HOST points (no socket, or no one on it); other failures are faults. */
function noEngineThere(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

export function createRunningPreviews(deps: RunningPreviewsDeps): RunningPreviews {
  const { docker, redis, db, config, logger } = deps;
  const apiId = randomUUID();
  const prefix = config.QUEUE_PREFIX;
  const stateKey = (id: string) => `${prefix}:preview:${id}`;
  const seenKey = (id: string) => `${prefix}:preview-seen:${id}`;
  const heartbeatKey = (id: string) => `${prefix}:preview-api:${id}`;
  const lastTouch = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;
  let beat: NodeJS.Timeout | undefined;
  let engine: Promise<EngineKind> | undefined;
  const engineKind = () => {
    engine ??= engineInfo(docker).then(
      (info) => info.kind,
      (err: unknown) => {
        engine = undefined;
        throw err;
      },
    );
    return engine;
  };

  const read = async (projectId: string): Promise<PreviewState | null> => {
    const raw = await redis.get(stateKey(projectId));
    return raw ? (JSON.parse(raw) as PreviewState) : null;
  };
  const write = (projectId: string, state: PreviewState) => redis.set(stateKey(projectId), JSON.stringify(state));

  async function removeContainers(projectId: string): Promise<string> {
    const found = await docker.listContainers({
      all: true,
      filters: previewFilter(prefix, [`${PREVIEW_LABELS.projectId}=${projectId}`]),
    });
    let log = '';
    for (const c of found) {
      const container = docker.getContainer(c.Id);
      log = await containerLogTail(container, config.PREVIEW_LOG_MAX_BYTES).catch(() => log);
      await container.remove({ force: true }).catch((err: Error) => {
        logger.warn('could not remove a preview container', { project_id: projectId, error: err.message });
      });
    }
    await removePreviewNetworks(docker, previewFilter(prefix, [`${PREVIEW_LABELS.projectId}=${projectId}`])).catch(
      (err: Error) => {
        logger.warn('could not remove a preview network', { project_id: projectId, error: err.message });
      },
    );
    return log;
  }

  // An HTTP answer, not a TCP connect: Docker's userland proxy accepts connections on the
  // published port before the server listens (and closes them).
  const portAnswers = (port: number) =>
    new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 1000, agent: false }, (res) => {
        res.resume();
        resolve(true);
      });
      req.once('error', () => resolve(false));
      req.once('timeout', () => {
        req.destroy();
        resolve(false);
      });
    });

  /** Waits for the server to listen; records running or failed. */
  async function watchStart(projectId: string, state: PreviewState): Promise<void> {
    const container = docker.getContainer(state.containerId!);
    const deadline = Date.now() + config.PREVIEW_START_SECONDS * 1000;
    let outcome: Pick<PreviewState, 'status' | 'reason'> = {
      status: 'failed',
      reason: `the server did not answer on port ${state.port} within ${config.PREVIEW_START_SECONDS} s`,
    };
    while (Date.now() < deadline) {
      const info = await container.inspect().catch(() => null);
      if (!info) {
        outcome = { status: 'stopped', reason: 'stopped while starting' };
        break;
      }
      if (!info.State.Running) {
        outcome = { status: 'failed', reason: `the server exited with code ${info.State.ExitCode}` };
        break;
      }
      if (state.hostPort !== null && (await portAnswers(state.hostPort))) {
        outcome = { status: 'running', reason: null };
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const current = await read(projectId);
    // Another start or a stop came meanwhile: theirs is the state now.
    if (!current || current.containerId !== state.containerId) return;
    const log = await containerLogTail(container, config.PREVIEW_LOG_MAX_BYTES).catch(() => '');
    if (outcome.status !== 'running') await removeContainers(projectId);
    await write(projectId, {
      ...current,
      ...outcome,
      log,
      ...(outcome.status !== 'running'
        ? { containerId: null, hostPort: null, stoppedAt: new Date().toISOString() }
        : {}),
    });
    if (outcome.status === 'running') await redis.set(seenKey(projectId), String(Date.now()));
    else logger.info('preview did not start', { project_id: projectId, reason: outcome.reason });
  }

  async function failExited(projectId: string, state: PreviewState, containerId: string): Promise<void> {
    const info = await docker
      .getContainer(containerId)
      .inspect()
      .catch(() => null);
    const log = await removeContainers(projectId);
    const reason = `the server exited with code ${info?.State.ExitCode ?? 'unknown'} after it started`;
    await write(projectId, ended(state, 'failed', reason, log || state.log));
    logger.info('preview server exited', { project_id: projectId, reason });
  }

  async function start(projectId: string, spec: PreviewSpec): Promise<PreviewState> {
    await removeContainers(projectId);
    const name = previewContainerName(projectId);
    const network = await openPreviewNetwork({
      docker,
      engine: await engineKind(),
      config,
      name: `${name}-net`,
      labels: previewLabels(config, projectId, apiId),
    });
    let container: Docker.Container;
    try {
      container = await docker.createContainer(
        previewContainerOptions(config, { projectId, name, network: network.name, apiId }, spec),
      );
      await container.start();
    } catch (err) {
      await removeContainers(projectId);
      throw err;
    }
    const hostPort = await publishedPort(container, spec.port);
    const state: PreviewState = {
      status: 'starting',
      command: spec.command,
      port: spec.port,
      containerId: container.id,
      hostPort,
      apiId,
      startedAt: new Date().toISOString(),
      stoppedAt: null,
      reason: null,
      log: '',
    };
    // An exited container has no ports (Docker): watchStart says how it exited.
    const exited = hostPort === null && !(await container.inspect()).State.Running;
    if (hostPort === null && !exited) {
      // Nothing could ever reach it: say so now rather than time out after PREVIEW_START_SECONDS.
      const reason = `the container engine published no host port for port ${spec.port} on ${network.description}; set PREVIEW_NETWORK to sealed or to a network that publishes ports (docs/previews.md)`;
      const log = await removeContainers(projectId);
      const failed = ended(state, 'failed', reason, log);
      await write(projectId, failed);
      logger.warn('preview did not start', { project_id: projectId, reason });
      return failed;
    }
    await write(projectId, state);
    await redis.set(heartbeatKey(apiId), '1', 'EX', HEARTBEAT_TTL_S);
    const watching = watchStart(projectId, state).catch((err: Error) =>
      logger.warn('watching a preview start failed', { project_id: projectId, error: err.message }),
    );
    pending.add(watching);
    void watching.finally(() => pending.delete(watching));
    logger.info('preview started', {
      project_id: projectId,
      command: spec.command,
      port: spec.port,
      network: network.description,
    });
    return state;
  }

  async function stop(projectId: string, reason: string): Promise<PreviewState | null> {
    const current = await read(projectId);
    const log = await removeContainers(projectId);
    if (!current) return null;
    if (current.status === 'stopped' || current.status === 'failed') return current;
    const stopped = ended(current, 'stopped', reason, log || current.log);
    await write(projectId, stopped);
    logger.info('preview stopped', { project_id: projectId, reason });
    return stopped;
  }

  async function get(projectId: string): Promise<PreviewState | null> {
    const state = await read(projectId);
    if (!state?.containerId) return state;
    const log = await containerLogTail(docker.getContainer(state.containerId), config.PREVIEW_LOG_MAX_BYTES).catch(
      () => state.log,
    );
    return { ...state, log };
  }

  async function targetOf(projectId: string) {
    const state = await read(projectId);
    if (!state || (state.status !== 'running' && state.status !== 'starting')) return null;
    const now = Date.now();
    if (now - (lastTouch.get(projectId) ?? 0) > TOUCH_EVERY_MS) {
      lastTouch.set(projectId, now);
      await redis.set(seenKey(projectId), String(now));
    }
    return {
      status: state.status,
      url: state.hostPort ? `http://127.0.0.1:${state.hostPort}` : null,
      port: state.port,
    };
  }

  async function sweep(): Promise<void> {
    await redis.set(heartbeatKey(apiId), '1', 'EX', HEARTBEAT_TTL_S);
    const containers = await docker.listContainers({ all: true, filters: previewFilter(prefix) });
    for (const c of containers) {
      const projectId = c.Labels[PREVIEW_LABELS.projectId]!;
      const owner = c.Labels[PREVIEW_LABELS.apiId]!;
      const state = await read(projectId);
      if (!state || state.containerId !== c.Id) {
        // Not the project's current preview (a start raced it, or its state is gone): remove.
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
        continue;
      }
      if (owner !== apiId && !(await redis.exists(heartbeatKey(owner)))) {
        await stop(projectId, 'the API process that started it is gone');
        continue;
      }
      if (state.status !== 'running') continue;
      if (c.State !== 'running') {
        // Its server exited after it started: failed, as an exit while starting is, so GET says
        // why (and its log) while the preview origin answers 502.
        await failExited(projectId, state, c.Id);
        continue;
      }
      const seen = Number((await redis.get(seenKey(projectId))) ?? 0);
      if (Date.now() - seen > config.PREVIEW_IDLE_SECONDS * 1000) {
        await stop(projectId, `idle for ${config.PREVIEW_IDLE_SECONDS} s`);
        continue;
      }
      const project = await db.project.findUnique({ where: { id: projectId } });
      if (!project) {
        await stop(projectId, 'the project was deleted');
        continue;
      }
      const changed = await db.job.findFirst({
        where: { projectId, finishedAt: { gt: new Date(state.startedAt) } },
        select: { id: true },
      });
      if (changed) {
        logger.info('restarting a preview: a job changed the workspace', { project_id: projectId, job_id: changed.id });
        await start(projectId, { command: state.command, port: state.port });
      }
    }
    // Sealed networks whose container is gone (an API that died between making the two, or a
    // removal that failed): removed once no start can still be making its container.
    const networks = await docker.listNetworks({ filters: previewFilter(prefix) });
    const withContainer = new Set(containers.map((c) => c.Labels[PREVIEW_LABELS.projectId]));
    for (const network of networks) {
      const projectId = network.Labels?.[PREVIEW_LABELS.projectId];
      const age = Date.now() - Date.parse(network.Created ?? '');
      if (withContainer.has(projectId) || !(age > NETWORK_GRACE_MS)) continue;
      await removePreviewNetworks(docker, {
        label: [`${PREVIEW_LABELS.projectId}=${projectId}`, ...previewFilter(prefix).label],
      });
    }
  }

  return {
    start,
    stop,
    get,
    targetOf,
    sweep,
    start_housekeeping() {
      const every = deps.sweepMs ?? 5_000;
      let lastError = '';
      let engineMissing = false;
      timer = setInterval(() => {
        sweep().then(
          () => {
            if (engineMissing) logger.info('a container engine is reachable: running previews are available');
            engineMissing = false;
            lastError = '';
          },
          (err: Error) => {
            // No engine at all is how a machine without one runs, not a fault: said once, as info.
            if (noEngineThere(err)) {
              if (!engineMissing) {
                logger.info(
                  `running previews are unavailable until a container engine is reachable at ${dockerHostDescription(docker)}`,
                  { error: err.message },
                );
              }
              engineMissing = true;
              return;
            }
            // Once per distinct problem (a broken engine would otherwise say so every few seconds).
            if (err.message !== lastError) logger.warn('preview housekeeping failed', { error: err.message });
            lastError = err.message;
          },
        );
      }, every);
      timer.unref();
      beat = setInterval(
        () => void redis.set(heartbeatKey(apiId), '1', 'EX', HEARTBEAT_TTL_S).catch(() => undefined),
        10_000,
      );
      beat.unref();
    },
    async close() {
      clearInterval(timer);
      clearInterval(beat);
      await Promise.allSettled([...pending]);
    },
  };
}
