import { EGRESS_CONNECTIONS_KEPT, EgressProxyEvent, type EgressConnection, type EgressRecord } from '@cwo/contracts';

// A job's egress record, built from its proxy's events as they come, and the job log's lines about
// them. The proxy is ours, but the events count what the agent chose to do, so what is kept is
// bounded: EGRESS_CONNECTIONS_KEPT connections listed (and logged), every one counted.

export interface EgressRecorder {
  /** One line of the proxy's output; returns the `ready` event when it is one. */
  take(line: string): Extract<EgressProxyEvent, { type: 'ready' }> | null;
  record(): EgressRecord;
}

const kb = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1024 ** 2).toFixed(1)} MB`;
const target = (c: { host: string; port: number }) => `${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;

export function describeConnection(c: EgressConnection): string {
  if (!c.allowed) {
    return `egress: DENIED ${c.method} ${target(c)}: not on the allowlist (WORKER_EGRESS_ALLOW); the agent got 403`;
  }
  const outcome = c.error ? `failed (${c.error})` : `closed (status ${c.status ?? 'none'})`;
  return `egress: ${c.method} ${target(c)}${c.address ? ` (${c.address})` : ''} ${outcome} after ${(c.duration_ms / 1000).toFixed(1)} s: ${kb(c.bytes_sent)} sent, ${kb(c.bytes_received)} received`;
}

export function summarizeEgress(r: EgressRecord): string {
  const denied = [...new Set(r.connections.filter((c) => !c.allowed).map(target))];
  return `egress: ${r.attempted} connection${r.attempted === 1 ? '' : 's'} (${r.allowed} allowed, ${r.denied} denied${denied.length ? `: ${denied.join(', ')}` : ''}), ${kb(r.bytes_sent)} sent, ${kb(r.bytes_received)} received`;
}

export function createEgressRecorder(allow: string[], log: (line: string) => void): EgressRecorder {
  const connections: EgressConnection[] = [];
  let attempted = 0;
  let allowed = 0;
  let denied = 0;
  let bytesSent = 0;
  let bytesReceived = 0;
  let opened = 0;

  return {
    take(line) {
      let event: EgressProxyEvent;
      try {
        const parsed = EgressProxyEvent.safeParse(JSON.parse(line));
        if (!parsed.success) throw new Error(parsed.error.message);
        event = parsed.data;
      } catch {
        // Not an event (a crash's stack trace, say): into the log as it is, cut short.
        log(`egress proxy: ${line.slice(0, 500)}`);
        return null;
      }
      if (event.type === 'ready') return event;
      if (event.type === 'open') {
        if (++opened <= EGRESS_CONNECTIONS_KEPT) log(`egress: ${event.method} ${target(event)} allowed, connecting`);
        return null;
      }
      const { type: _type, ...connection } = event;
      attempted++;
      if (connection.allowed) allowed++;
      else denied++;
      bytesSent += connection.bytes_sent;
      bytesReceived += connection.bytes_received;
      if (connections.length < EGRESS_CONNECTIONS_KEPT) {
        connections.push(connection);
        log(describeConnection(connection));
      } else if (attempted === EGRESS_CONNECTIONS_KEPT + 1) {
        log(`egress: more than ${EGRESS_CONNECTIONS_KEPT} connections: the rest are counted, not listed`);
      }
      return null;
    },
    record() {
      return {
        mode: 'allowlist',
        allow,
        connections: [...connections],
        attempted,
        allowed,
        denied,
        bytes_sent: bytesSent,
        bytes_received: bytesReceived,
        truncated: attempted > connections.length,
      };
    },
  };
}
