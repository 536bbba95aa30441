import type Docker from 'dockerode';

/**
 * Which engine answers the Docker API: what differs between them is handled in the code by name
 * (podman's own API for networks with DNS off; see sealed-network.ts), never guessed from errors.
 */
export type EngineKind = 'podman' | 'docker';

export interface EngineInfo {
  kind: EngineKind;
  /** For log lines and test titles: "podman 4.3.1", "Docker Engine 20.10.24+dfsg1". */
  description: string;
}

export async function engineInfo(docker: Docker): Promise<EngineInfo> {
  const version = (await docker.version()) as {
    Version?: string;
    Components?: Array<{ Name?: string; Version?: string }>;
  };
  const podman = version.Components?.find((c) => /podman/i.test(c.Name ?? ''));
  if (podman) return { kind: 'podman', description: `podman ${podman.Version ?? version.Version ?? ''}`.trim() };
  return { kind: 'docker', description: `Docker Engine ${version.Version ?? ''}`.trim() };
}
