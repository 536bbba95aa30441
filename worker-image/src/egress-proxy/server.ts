import dns from 'node:dns';
import type http from 'node:http';
import net from 'node:net';
import { RequestError, Server, type PrepareRequestFunctionOpts } from 'proxy-chain';
import { egressAllows, type EgressAllowEntry, type EgressConnection, type EgressProxyEvent } from '@cwo/contracts';

// The egress proxy of a job (WORKER_EGRESS=allowlist): the only member of the worker's sealed
// network besides the worker, and its only way out. proxy-chain (Apify's maintained forward proxy)
// does the proxying: CONNECT tunnels and absolute-URI HTTP requests, hop-by-hop headers, and byte
// counts on both sides of every connection. What is ours is the decision (the allowlist, checked
// on the name the agent asked for, before any lookup: a denied name is never resolved) and the
// record of every attempt, printed as one JSON event a line for the runner.

export interface EgressProxyOptions {
  allow: readonly EgressAllowEntry[];
  /** The address to listen on: the proxy's address on the sealed network, and no other. */
  host: string;
  port: number;
  emit: (event: EgressProxyEvent) => void;
  /** The name lookup (the proxy resolves names itself; the worker has no DNS). */
  lookup?: typeof dns.lookup;
}

export interface RunningEgressProxy {
  port: number;
  /** Stops listening, ends every open connection (each still gets its close event). */
  close(): Promise<void>;
}

/** One request the agent made on a client connection (a kept-alive connection may carry several). */
interface Attempt {
  method: string;
  host: string;
  port: number;
  allowed: boolean;
  isHttp: boolean;
  status: number | null;
  address: string | null;
  error: string | null;
  startedAt: number;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

export async function startEgressProxy(options: EgressProxyOptions): Promise<RunningEgressProxy> {
  const { allow, emit } = options;
  const lookup = options.lookup ?? dns.lookup;
  const attempts = new Map<number, Attempt[]>();
  const requests = new WeakMap<http.IncomingMessage, Attempt>();

  /** The lookup proxy-chain connects with, noting the address (or the failure) on the attempt. */
  const recordingLookup = (attempt: Attempt) =>
    ((hostname: string, lookupOptions: dns.LookupOptions, callback: LookupCallback) => {
      lookup(hostname, lookupOptions, (err, address, family) => {
        if (err) attempt.error = `lookup of ${hostname} failed: ${err.code ?? err.message}`;
        else attempt.address = Array.isArray(address) ? (address[0]?.address ?? null) : address;
        callback(err, address, family);
      });
    }) as unknown as typeof dns.lookup;

  function prepare({ connectionId, request, hostname, port, isHttp }: PrepareRequestFunctionOpts) {
    const list = attempts.get(connectionId) ?? [];
    attempts.set(connectionId, list);
    const method = request.method ?? 'GET';
    const allowed = egressAllows(allow, hostname, port);
    const last = list[list.length - 1];
    let attempt: Attempt;
    const again = !!last && last.allowed && allowed && last.host === hostname && last.port === port;
    if (again) {
      // The next request on a kept-alive connection to the same host: the same record.
      attempt = last;
    } else {
      attempt = {
        method,
        host: hostname,
        port,
        allowed,
        isHttp,
        status: null,
        // An address needs no lookup (Node makes none).
        address: allowed && net.isIP(hostname) ? hostname : null,
        error: null,
        startedAt: Date.now(),
      };
      list.push(attempt);
    }
    requests.set(request, attempt);
    if (!allowed) {
      attempt.status = 403;
      throw new RequestError(
        `egress proxy: ${hostname}:${port} is not on this job's allowlist (WORKER_EGRESS_ALLOW)`,
        403,
      );
    }
    if (!again) emit({ type: 'open', method, host: hostname, port });
    return { dnsLookup: recordingLookup(attempt) };
  }

  const server = new Server({
    host: options.host,
    port: options.port,
    prepareRequestFunction: prepare,
    verbose: false,
  });

  // The status a plain HTTP request was answered with (the target's, or proxy-chain's own).
  server.server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    response.once('finish', () => {
      const attempt = requests.get(request);
      if (attempt && attempt.allowed) attempt.status = response.statusCode;
    });
  });

  server.on(
    'connectionClosed',
    ({
      connectionId,
      stats,
    }: {
      connectionId: number;
      stats?: { srcTxBytes: number; trgTxBytes: number | null; trgRxBytes: number | null };
    }) => {
      const list = attempts.get(connectionId);
      attempts.delete(connectionId);
      if (!list) return;
      const now = Date.now();
      // Bytes are counted per client connection: they belong to its first allowed request.
      const primary = list.find((a) => a.allowed);
      for (const attempt of list) {
        const own = attempt === primary;
        let status = attempt.status;
        let error = attempt.error;
        if (attempt.allowed && !attempt.isHttp) {
          // proxy-chain answers 200 once the tunnel is connected, and closes the client otherwise.
          status = (stats?.srcTxBytes ?? 0) > 0 ? 200 : 502;
          if (status === 502) error ??= `could not connect to ${attempt.host}:${attempt.port}`;
        }
        if (attempt.allowed && attempt.isHttp && status === null) status = 502;
        const connection: EgressConnection = {
          host: attempt.host,
          port: attempt.port,
          method: attempt.method,
          allowed: attempt.allowed,
          status,
          address: attempt.address,
          bytes_sent: own ? (stats?.trgTxBytes ?? 0) : 0,
          bytes_received: own ? (stats?.trgRxBytes ?? 0) : 0,
          duration_ms: Math.max(0, now - attempt.startedAt),
          started_at: new Date(attempt.startedAt).toISOString(),
          error,
        };
        emit({ type: 'close', ...connection });
      }
    },
  );

  await server.listen();
  return {
    port: server.port,
    close: () => server.close(true),
  };
}
