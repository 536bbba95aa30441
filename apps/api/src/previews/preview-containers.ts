import path from 'node:path';
import type Docker from 'dockerode';
import type { Config } from '@cwo/config';
import type { PreviewSpec } from '@cwo/contracts';

// The preview containers themselves: a project's server run in the worker image with the worker's
// limits, its workspace mounted read-only, its port published on 127.0.0.1 of the Docker host only.

export const PREVIEW_LABELS = {
  preview: 'cwo.preview',
  queuePrefix: 'cwo.queue-prefix',
  projectId: 'cwo.project-id',
  /** The API process that started it: its heartbeat says whether anyone still serves it. */
  apiId: 'cwo.api-id',
} as const;

export type PreviewContainerConfig = Pick<
  Config,
  | 'CODEX_WORKER_IMAGE'
  | 'QUEUE_PREFIX'
  | 'workspaceRoot'
  | 'WORKSPACE_HOST_ROOT'
  | 'WORKER_MEMORY'
  | 'WORKER_CPUS'
  | 'WORKER_PIDS'
  | 'WORKER_UID'
>;

export function previewFilter(queuePrefix: string, extra: string[] = []): { label: string[] } {
  return { label: [`${PREVIEW_LABELS.preview}=true`, `${PREVIEW_LABELS.queuePrefix}=${queuePrefix}`, ...extra] };
}

function hostWorkspace(config: PreviewContainerConfig, projectId: string): string {
  const local = path.join(config.workspaceRoot, projectId);
  if (!config.WORKSPACE_HOST_ROOT) return local;
  return path.posix.join(config.WORKSPACE_HOST_ROOT, projectId);
}

/** A new name for a project's preview container (its sealed network is named after it). */
export function previewContainerName(projectId: string): string {
  return `cwo-preview-${projectId}-${Date.now().toString(36)}`;
}

export function previewLabels(
  config: PreviewContainerConfig,
  projectId: string,
  apiId: string,
): Record<string, string> {
  return {
    [PREVIEW_LABELS.preview]: 'true',
    [PREVIEW_LABELS.queuePrefix]: config.QUEUE_PREFIX,
    [PREVIEW_LABELS.projectId]: projectId,
    [PREVIEW_LABELS.apiId]: apiId,
  };
}

export function previewContainerOptions(
  config: PreviewContainerConfig,
  target: { projectId: string; name: string; network: string; apiId: string },
  spec: PreviewSpec,
): Docker.ContainerCreateOptions {
  const { projectId } = target;
  const port = `${spec.port}/tcp`;
  return {
    name: target.name,
    Image: config.CODEX_WORKER_IMAGE,
    // The image's entrypoint runs the agent; a preview runs the project's own command instead.
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [spec.command],
    WorkingDir: '/workspace',
    User: `${config.WORKER_UID.uid}:${config.WORKER_UID.gid}`,
    Env: [`PORT=${spec.port}`, 'HOST=0.0.0.0', 'HOME=/tmp', 'NODE_ENV=development'],
    ExposedPorts: { [port]: {} },
    Labels: previewLabels(config, projectId, target.apiId),
    HostConfig: {
      Binds: [`${hostWorkspace(config, projectId)}:/workspace:ro`],
      Init: true,
      Memory: config.WORKER_MEMORY,
      MemorySwap: config.WORKER_MEMORY,
      NanoCpus: Math.round(config.WORKER_CPUS * 1e9),
      PidsLimit: config.WORKER_PIDS,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=256m' },
      NetworkMode: target.network,
      // A port of the engine's choosing, on the loopback address only: reached through the API.
      PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
    },
  };
}

/** The host port the engine published the container's port on. */
export async function publishedPort(container: Docker.Container, port: number): Promise<number | null> {
  const info = await container.inspect();
  const bindings = info.NetworkSettings?.Ports?.[`${port}/tcp`];
  const hostPort = bindings?.find((b) => b.HostIp === '127.0.0.1' || b.HostIp === '')?.HostPort;
  return hostPort ? Number(hostPort) : null;
}

/** The last `maxBytes` of a container's output (stdout and stderr, in order). */
export async function containerLogTail(container: Docker.Container, maxBytes: number): Promise<string> {
  // Lines from the end, then bytes: the engine has no byte-based tail.
  const raw = await container.logs({ stdout: true, stderr: true, follow: false, tail: 2000 });
  const text = demux(raw);
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= maxBytes ? text : bytes.subarray(bytes.length - maxBytes).toString('utf8');
}

/** Docker's multiplexed log frames (8-byte headers) to text; a TTY-less container always has them. */
function demux(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
