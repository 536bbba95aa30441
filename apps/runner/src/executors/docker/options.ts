import path from 'node:path';
import type { ContainerCreateOptions } from 'dockerode';
import type { Config } from '@cwo/config';
import type { WorkerRequest } from '@cwo/contracts';

/** Labels on every worker container: what the orphan reaper and operators (`docker ps`) go by. */
export const LABELS = {
  managed: 'cwo.managed',
  /** The deployment (QUEUE_PREFIX): runners reap only their own deployment's containers. */
  queuePrefix: 'cwo.queue-prefix',
  jobId: 'cwo.job-id',
  projectId: 'cwo.project-id',
  runnerId: 'cwo.runner-id',
} as const;

/** Docker API filter matching every worker container of this deployment. */
export function deploymentFilter(queuePrefix: string, extra: string[] = []): { label: string[] } {
  return { label: [`${LABELS.managed}=true`, `${LABELS.queuePrefix}=${queuePrefix}`, ...extra] };
}

const CONTAINER_WORKSPACE = '/workspace';

/** Size of the writable /tmp (memory, counted in WORKER_MEMORY). */
const TMP_SIZE = '256m';

export type DockerExecutorConfig = Pick<
  Config,
  | 'CODEX_WORKER_IMAGE'
  | 'QUEUE_PREFIX'
  | 'workspaceRoot'
  | 'WORKSPACE_HOST_ROOT'
  | 'WORKER_NETWORK'
  | 'WORKER_MEMORY'
  | 'WORKER_CPUS'
  | 'WORKER_PIDS'
  | 'WORKER_UID'
  | 'WORKER_AGENT'
  | 'WORKER_ENV_PASSTHROUGH'
  | 'WORKER_EGRESS_NETWORK'
  | 'WORKER_EGRESS_BRIDGE_PREFIX'
  | 'workerEgress'
  | 'workerEgressAllow'
>;

/**
 * The workspace's path on the Docker host: the same path, or under WORKSPACE_HOST_ROOT when the
 * runner runs in a container and sees WORKSPACE_ROOT at another path than the Docker host does.
 */
export function hostWorkspacePath(config: DockerExecutorConfig, workspace: string): string {
  if (!config.WORKSPACE_HOST_ROOT) return workspace;
  const relative = path.relative(config.workspaceRoot, workspace);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new Error(`workspace ${workspace} is not under WORKSPACE_ROOT ${config.workspaceRoot}`);
  }
  return path.posix.join(config.WORKSPACE_HOST_ROOT, ...relative.split(path.sep));
}

export function containerName(request: WorkerRequest, suffix: string): string {
  return `cwo-job-${request.job_id}-${suffix}`;
}

/** The labels of everything made for a job (its container, its egress proxy and network). */
export function jobLabels(config: Pick<Config, 'QUEUE_PREFIX'>, request: WorkerRequest, runnerId: string) {
  return {
    [LABELS.managed]: 'true',
    [LABELS.queuePrefix]: config.QUEUE_PREFIX,
    [LABELS.jobId]: request.job_id,
    [LABELS.projectId]: request.project_id,
    [LABELS.runnerId]: runnerId,
  };
}

/** The create options of a job's container: hardened by default (see the README, "Worker containers"). */
export function containerOptions(args: {
  config: DockerExecutorConfig;
  request: WorkerRequest;
  workspace: string;
  runnerId: string;
  name: string;
  env: string[];
  /** The network instead of WORKER_NETWORK (the sealed one, under WORKER_EGRESS=allowlist). */
  network?: string;
}): ContainerCreateOptions {
  const { config, request, workspace, runnerId, name, env } = args;
  const { uid, gid } = config.WORKER_UID;
  return {
    name,
    Image: config.CODEX_WORKER_IMAGE,
    Env: env,
    User: `${uid}:${gid}`,
    WorkingDir: CONTAINER_WORKSPACE,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Labels: jobLabels(config, request, runnerId),
    HostConfig: {
      Binds: [`${hostWorkspacePath(config, workspace)}:${CONTAINER_WORKSPACE}:rw`],
      NetworkMode: args.network ?? config.WORKER_NETWORK,
      Memory: config.WORKER_MEMORY,
      // Equal to Memory: no swap on top, so going over the limit ends in the OOM killer.
      MemorySwap: config.WORKER_MEMORY,
      NanoCpus: Math.round(config.WORKER_CPUS * 1e9),
      PidsLimit: config.WORKER_PIDS,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${TMP_SIZE}` },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      // Never AutoRemove: the exit code must be read first (podman's `removed` wait reports 0).
      AutoRemove: false,
    },
  };
}
