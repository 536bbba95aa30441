import crypto from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import { dockerMessage, statusCodeOf } from './engine';
import type { EngineKind } from './engine-kind';

// A sealed network: internal (no way out through the engine), DNS off where the engine allows it,
// and on a bridge whose name starts with WORKER_EGRESS_BRIDGE_PREFIX, which is what the host's
// firewall rules match (scripts/runtime/egress-firewall.sh): they drop its traffic to the host and
// to every other network, so its members can reach only each other. Used for a job's worker and
// its egress proxy, and for a preview's server (apps/api/src/previews/preview-network.ts).

export interface SealedNetwork {
  id: string;
  name: string;
  /** The IPv4 subnet the engine gave it (CIDR). */
  subnet: string;
  bridge: string;
}

/** Linux's limit on interface names (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;

export function sealedBridgeName(prefix: string): string {
  return `${prefix}${crypto.randomBytes(8).toString('hex')}`.slice(0, IFNAME_MAX);
}

interface LibpodNetwork {
  id: string;
  name: string;
  subnets?: Array<{ subnet: string }>;
}

export async function createSealedNetwork(
  docker: Docker,
  engine: EngineKind,
  opts: {
    name: string;
    bridgePrefix: string;
    labels: Record<string, string>;
    /**
     * Its members publish a port on the host (a preview's server). Neither engine can do that on
     * an internal network (measured: Docker publishes nothing, `Ports` stays empty; podman's
     * internal bridge has no address on the host, so its port forward sends the packets out of
     * the host's default route), so the network is a normal bridge: the host rules seal it all
     * the same, since they match the bridge's name, not the flag.
     */
    publishesPorts?: boolean;
  },
): Promise<SealedNetwork> {
  const bridge = sealedBridgeName(opts.bridgePrefix);
  if (engine === 'podman') {
    // Networks made through podman's Docker-compatible API always have DNS on (aardvark-dns on the
    // gateway, which resolves external names: a way out); its own API can turn it off.
    const created = await new Promise<LibpodNetwork>((resolve, reject) => {
      docker.modem.dial(
        {
          path: '/v4.0.0/libpod/networks/create',
          method: 'POST',
          options: {
            name: opts.name,
            driver: 'bridge',
            internal: !opts.publishesPorts,
            dns_enabled: false,
            ipv6_enabled: false,
            network_interface: bridge,
            labels: opts.labels,
          },
          statusCodes: { 200: true, 201: true, 400: 'bad parameter', 409: 'conflict', 500: 'server error' },
        },
        (err, data) => (err ? reject(err) : resolve(data as LibpodNetwork)),
      );
    });
    const subnet = created.subnets?.[0]?.subnet;
    if (!subnet) throw new Error(`podman made network ${opts.name} without a subnet`);
    return { id: created.id, name: created.name, subnet, bridge };
  }
  // Docker: no switch for its embedded DNS (127.0.0.11), which on an internal network answers only
  // for the network's own members and forwards nothing; on a normal one it forwards from inside
  // the container's namespace, which the host's FORWARD rule drops.
  const network = await docker.createNetwork({
    Name: opts.name,
    CheckDuplicate: true,
    Driver: 'bridge',
    Internal: !opts.publishesPorts,
    EnableIPv6: false,
    Labels: opts.labels,
    Options: { 'com.docker.network.bridge.name': bridge },
  });
  const info = (await network.inspect()) as { Id: string; IPAM?: { Config?: Array<{ Subnet?: string }> } };
  const subnet = info.IPAM?.Config?.[0]?.Subnet;
  if (!subnet) throw new Error(`Docker made network ${opts.name} without a subnet`);
  return { id: info.Id, name: opts.name, subnet, bridge };
}

/** Removes a network, waiting a little while the engine still detaches its last container. */
export async function removeNetwork(docker: Docker, id: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await docker.getNetwork(id).remove();
      return;
    } catch (err) {
      if (statusCodeOf(err) === 404) return;
      if (attempt >= 8) throw new Error(`could not remove network ${id}: ${dockerMessage(err)}`, { cause: err });
      await delay(100 * attempt);
    }
  }
}
