import os from 'node:os';
import { parseEgressAllow } from '@cwo/contracts';
import { startEgressProxy } from './server';

// The egress proxy container's entrypoint (the worker image, run with another entrypoint by the
// runner: apps/runner/src/executors/docker/egress-proxy.ts). It listens only on its address in
// the sealed network (EGRESS_LISTEN_SUBNET), so that nothing on its other, normal network can use
// it; it prints its events on stdout, one JSON object a line, and stops on SIGTERM.
//   EGRESS_ALLOW          host:port entries, comma-separated (WORKER_EGRESS_ALLOW)
//   EGRESS_LISTEN_SUBNET  the sealed network's IPv4 subnet, e.g. 10.164.3.0/24
//   EGRESS_PORT           the port (default 3128)

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** This container's IPv4 address inside `subnet` (CIDR). */
export function addressIn(subnet: string, interfaces = os.networkInterfaces()): string | undefined {
  const [base, bits] = subnet.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4ToInt(base!) / size) * size;
  for (const list of Object.values(interfaces)) {
    for (const entry of list ?? []) {
      if (entry.family !== 'IPv4') continue;
      const n = ipv4ToInt(entry.address);
      if (n >= start && n < start + size) return entry.address;
    }
  }
  return undefined;
}

async function main(): Promise<void> {
  const fail = (message: string) => {
    process.stderr.write(`egress proxy: ${message}\n`);
    process.exit(2);
  };
  const subnet = process.env.EGRESS_LISTEN_SUBNET ?? '';
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(subnet)) return fail(`EGRESS_LISTEN_SUBNET "${subnet}" is not an IPv4 CIDR`);
  const host = addressIn(subnet);
  if (!host) return fail(`no address of this container is in ${subnet}`);
  let allow;
  try {
    allow = parseEgressAllow((process.env.EGRESS_ALLOW ?? '').split(',').filter((e) => e.trim()));
  } catch (err) {
    return fail(`EGRESS_ALLOW: ${(err as Error).message}`);
  }
  const emit = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);
  const proxy = await startEgressProxy({ allow, host, port: Number(process.env.EGRESS_PORT || 3128), emit });
  emit({ type: 'ready', address: host, port: proxy.port });
  process.once('SIGTERM', () => {
    // Every open connection ends (and is reported) before the process does.
    void proxy.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  });
}

if (require.main === module) void main();
