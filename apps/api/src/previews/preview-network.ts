import type Docker from 'dockerode';
import type { Config } from '@cwo/config';
import { createSealedNetwork, removeNetwork, type EngineKind } from '@cwo/container-engine';

// The network a preview's server runs on. PREVIEW_NETWORK=sealed (the default): a sealed network
// of its own (one per preview, so that no project's server reaches another's), made before the
// container and removed with it; the host can reach the container only through its published
// 127.0.0.1 port. Any other value names an existing network, used as it is.

export type PreviewNetworkConfig = Pick<Config, 'PREVIEW_NETWORK' | 'WORKER_EGRESS_BRIDGE_PREFIX'>;

export interface PreviewNetwork {
  /** For the container's NetworkMode. */
  name: string;
  /** What the log and a failure's reason say about it. */
  description: string;
}

export async function openPreviewNetwork(opts: {
  docker: Docker;
  engine: EngineKind;
  config: PreviewNetworkConfig;
  name: string;
  labels: Record<string, string>;
}): Promise<PreviewNetwork> {
  const { config } = opts;
  if (config.PREVIEW_NETWORK !== 'sealed') {
    return { name: config.PREVIEW_NETWORK, description: `network ${config.PREVIEW_NETWORK} (PREVIEW_NETWORK)` };
  }
  const sealed = await createSealedNetwork(opts.docker, opts.engine, {
    name: opts.name,
    bridgePrefix: config.WORKER_EGRESS_BRIDGE_PREFIX,
    labels: opts.labels,
    publishesPorts: true,
  });
  return {
    name: sealed.name,
    description: `sealed network ${sealed.name} (bridge ${sealed.bridge}, ${sealed.subnet})`,
  };
}

/** Removes the sealed networks made for previews that match these label filters (none when PREVIEW_NETWORK names one). */
export async function removePreviewNetworks(docker: Docker, filter: { label: string[] }): Promise<void> {
  const networks = await docker.listNetworks({ filters: filter });
  for (const network of networks) await removeNetwork(docker, network.Id);
}
