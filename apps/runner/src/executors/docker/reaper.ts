import type Docker from 'dockerode';
import type { Config } from '@cwo/config';
import { isFinished } from '@cwo/contracts';
import type { Db } from '@cwo/db';
import { jobStatuses } from '@cwo/jobs';
import type { Logger } from '@cwo/logger';
import type { Redis } from 'ioredis';
import { deploymentFilter, LABELS } from './options';
import { removeNetwork } from '@cwo/container-engine';

// Worker containers whose runner crashed (SIGKILL, a lost machine) keep running and keep writing
// in the workspace. With N runners on one Docker host a runner may remove only what it can prove
// is orphaned:
//   - its job is finished, or gone, in Postgres (the source of truth): nobody waits for it;
//   - the runner that started it is not alive: every runner keeps a heartbeat key in Redis
//     (`<QUEUE_PREFIX>:runners:<runnerId>`), and a container is only of use to the runner that
//     attached to it.
// A container of a live runner whose job is queued or in progress is never touched. (A job, under
// its project's lock, also removes every earlier container of its project before it starts:
// stopEarlierRuns in index.ts.)
// A job's egress proxy is one of its containers (the same labels), and its sealed network is
// judged by the same rules and removed once its containers are gone.

const DEFAULT_HEARTBEAT_MS = 10_000;
/** A runner is dead when its heartbeat key expired: three missed refreshes. */
const TTL_BEATS = 3;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const runnerHeartbeatKey = (queuePrefix: string, runnerId: string): string =>
  `${queuePrefix}:runners:${runnerId}`;

export interface OrphanReaperDeps {
  docker: Docker;
  db: Db;
  redis: Redis;
  config: Pick<Config, 'QUEUE_PREFIX' | 'ORPHAN_REAP_INTERVAL_SECONDS'>;
  logger: Logger;
  runnerId: string;
  heartbeatMs?: number;
}

export interface ReapedContainer {
  id: string;
  jobId: string;
  reason: string;
}

export interface OrphanReaper {
  /** Announces this runner alive, reaps once, then keeps doing both periodically. */
  start(): Promise<void>;
  /** One pass: removes the provable orphans and returns them. */
  reapOnce(): Promise<ReapedContainer[]>;
  /** Stops the timers and withdraws this runner's heartbeat. */
  stop(): Promise<void>;
}

export function createOrphanReaper(deps: OrphanReaperDeps): OrphanReaper {
  const { docker, db, redis, config, logger, runnerId } = deps;
  const heartbeatMs = deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const ownKey = runnerHeartbeatKey(config.QUEUE_PREFIX, runnerId);
  const timers: NodeJS.Timeout[] = [];
  let running: Promise<ReapedContainer[]> | null = null;
  let stopped = false;

  const beat = () => redis.set(ownKey, String(Date.now()), 'PX', heartbeatMs * TTL_BEATS);

  /** Which of these containers (or networks) are orphans, and why. */
  async function judge<T extends { Labels?: Record<string, string> }>(
    containers: T[],
  ): Promise<Array<{ info: T; jobId: string; reason: string }>> {
    const label = (c: T, name: string) => c.Labels?.[name] ?? '';
    const jobIds = [...new Set(containers.map((c) => label(c, LABELS.jobId)).filter((id) => UUID.test(id)))];
    const statusOf = await jobStatuses(db, jobIds);
    const runnerIds = [...new Set(containers.map((c) => label(c, LABELS.runnerId)))].filter(Boolean);
    const alive = new Set<string>();
    if (runnerIds.length) {
      const beats = await redis.mget(runnerIds.map((id) => runnerHeartbeatKey(config.QUEUE_PREFIX, id)));
      runnerIds.forEach((id, i) => beats[i] !== null && alive.add(id));
    }
    alive.add(runnerId);

    const orphans = [];
    for (const info of containers) {
      const jobId = label(info, LABELS.jobId);
      const owner = label(info, LABELS.runnerId);
      const status = statusOf.get(jobId);
      let reason: string | null = null;
      if (!UUID.test(jobId)) reason = 'its job label is not a job id';
      else if (status === undefined) reason = 'its job no longer exists';
      else if (isFinished(status)) reason = `its job is ${status}`;
      else if (!alive.has(owner)) reason = `its runner ${owner || '(unnamed)'} is not alive`;
      if (reason) orphans.push({ info, jobId, reason });
    }
    return orphans;
  }

  /** Sealed networks (WORKER_EGRESS=allowlist) of orphaned jobs, after their containers. */
  async function reapNetworks(): Promise<void> {
    const networks = await docker.listNetworks({ filters: deploymentFilter(config.QUEUE_PREFIX) });
    if (!networks.length) return;
    for (const { info, jobId, reason } of await judge(networks)) {
      try {
        await removeNetwork(docker, info.Id);
        logger.info('orphan reaper: removed an orphaned sealed network', { network: info.Name, jobId, reason });
      } catch (err) {
        logger.warn('orphan reaper: could not remove a network', { network: info.Name, error: err });
      }
    }
  }

  async function pass(): Promise<ReapedContainer[]> {
    const containers = await docker.listContainers({ all: true, filters: deploymentFilter(config.QUEUE_PREFIX) });
    const reaped = await reapContainers(containers);
    await reapNetworks();
    return reaped;
  }

  async function reapContainers(containers: Docker.ContainerInfo[]): Promise<ReapedContainer[]> {
    if (!containers.length) return [];
    const reaped: ReapedContainer[] = [];
    for (const { info, jobId, reason } of await judge(containers)) {
      try {
        await docker.getContainer(info.Id).remove({ force: true, v: true });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) {
          logger.warn('orphan reaper: could not remove a container', {
            container: info.Id,
            error: err,
          });
          continue;
        }
      }
      reaped.push({ id: info.Id, jobId, reason });
      logger.info('orphan reaper: removed an orphaned worker container', {
        container: info.Id.slice(0, 12),
        name: info.Names?.[0],
        jobId,
        reason,
      });
    }
    return reaped;
  }

  function reapOnce(): Promise<ReapedContainer[]> {
    // One pass at a time; a caller during a pass gets that pass's outcome.
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    async start() {
      if (stopped) return;
      timers.push(
        setInterval(() => {
          beat().catch((err: unknown) => logger.warn('runner heartbeat failed', { error: err }));
        }, heartbeatMs),
        setInterval(() => {
          reapOnce().catch((err: unknown) => logger.warn('orphan reaper: pass failed', { error: err }));
        }, config.ORPHAN_REAP_INTERVAL_SECONDS * 1000),
      );
      for (const t of timers) t.unref();
      await beat();
      await reapOnce();
    },
    reapOnce,
    async stop() {
      stopped = true;
      for (const t of timers.splice(0)) clearInterval(t);
      await running?.catch(() => undefined);
      await redis.del(ownKey).catch(() => undefined);
    },
  };
}
