import crypto from 'node:crypto';
import type Docker from 'dockerode';
import type { EgressRecord } from '@cwo/contracts';
import type { Config } from '@cwo/config';
import { createSealedNetwork, removeNetwork, type EngineKind, type SealedNetwork } from '@cwo/container-engine';
import { EGRESS_PROXY_PORT, startEgressProxyContainer, type EgressProxyContainer } from './egress-proxy-container';
import { summarizeEgress } from './egress-record';

// WORKER_EGRESS=allowlist for one sandbox (a job's worker; a preview's containers later): a sealed
// network of its own whose only other member is its own egress proxy. Everything is made per
// sandbox and carries the sandbox's labels (the job's, for a job), so it goes the way the
// sandbox's containers go: removed when the job ends, however it ends, and by the orphan reaper
// when its runner died (reaper.ts). Nothing is shared between jobs: no job can reach another's
// worker, see another's connections, or outlive its proxy.

export type EgressSandboxConfig = Pick<
  Config,
  'CODEX_WORKER_IMAGE' | 'WORKER_UID' | 'WORKER_EGRESS_NETWORK' | 'WORKER_EGRESS_BRIDGE_PREFIX' | 'workerEgressAllow'
>;

export interface EgressSandbox {
  /** The network to put the sandbox's containers on (their only one). */
  network: string;
  /** HTTPS_PROXY and the rest, for the containers' environment. */
  env: string[];
  proxyAddress: string;
  /** Stops the proxy and removes the network; returns what the sandbox's containers attempted. */
  close(): Promise<EgressRecord>;
}

/** The variables that send HTTP clients (Codex, npm, curl, pip) to the proxy; curl reads only the lower-case ones. */
export function proxyEnvironment(address: string, port = EGRESS_PROXY_PORT): string[] {
  const url = `http://${address}:${port}`;
  return [
    `HTTPS_PROXY=${url}`,
    `HTTP_PROXY=${url}`,
    `https_proxy=${url}`,
    `http_proxy=${url}`,
    'NO_PROXY=localhost,127.0.0.1,::1',
    'no_proxy=localhost,127.0.0.1,::1',
  ];
}

export async function openEgressSandbox(opts: {
  docker: Docker;
  engine: EngineKind;
  config: EgressSandboxConfig;
  /** Labels of everything made for the sandbox (the job's, for a job). */
  labels: Record<string, string>;
  /** A name for the sandbox, e.g. `cwo-job-<jobId>-<suffix>`; the network and proxy are named after it. */
  name: string;
  log: (line: string) => void;
}): Promise<EgressSandbox> {
  const { docker, config, log } = opts;
  const suffix = crypto.randomBytes(3).toString('hex');
  let sealed: SealedNetwork | null = null;
  let proxy: EgressProxyContainer | null = null;
  try {
    sealed = await createSealedNetwork(docker, opts.engine, {
      name: `${opts.name}-net-${suffix}`,
      bridgePrefix: config.WORKER_EGRESS_BRIDGE_PREFIX,
      labels: opts.labels,
    });
    proxy = await startEgressProxyContainer({
      docker,
      image: config.CODEX_WORKER_IMAGE,
      name: `${opts.name}-egress-${suffix}`,
      labels: { ...opts.labels, 'cwo.role': 'egress-proxy' },
      sealed,
      outward: config.WORKER_EGRESS_NETWORK,
      allow: config.workerEgressAllow,
      user: config.WORKER_UID,
      log,
    });
  } catch (err) {
    if (sealed) await removeNetwork(docker, sealed.id).catch(() => undefined);
    throw err;
  }
  log(
    `egress: allowlist ${config.workerEgressAllow.join(', ')} through proxy ${proxy.address}:${proxy.port} on sealed network ${sealed.name} (bridge ${sealed.bridge}, ${sealed.subnet}; out through ${config.WORKER_EGRESS_NETWORK})`,
  );
  const network = sealed;
  const running = proxy;
  return {
    network: network.name,
    env: proxyEnvironment(running.address, running.port),
    proxyAddress: running.address,
    async close() {
      const record = await running.stop();
      try {
        await removeNetwork(docker, network.id);
      } catch (err) {
        log(`egress: ${(err as Error).message}; the orphan reaper will remove it`);
      }
      log(summarizeEgress(record));
      return record;
    },
  };
}
