import { z } from './zod';

// The agent's network under WORKER_EGRESS=allowlist: what may be reached (the allowlist, read by
// the runner's configuration and by the egress proxy alike) and what was attempted (the per-job
// egress record, written by the runner from the proxy's events and served in the job detail).

/** One WORKER_EGRESS_ALLOW entry: `host:port`, `*.domain:port` (any subdomain) or `[v6 address]:port`. */
export interface EgressAllowEntry {
  /** Lower case, without a trailing dot; `*.example.com` for a wildcard; an IPv6 address unbracketed. */
  host: string;
  port: number;
}

const HOST_NAME =
  /^(\*\.)?(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** A host as requests name it, for comparison: lower case, no trailing dot, IPv6 unbracketed. */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** Parses one entry; throws an Error saying what is wrong with it. */
export function parseEgressAllowEntry(entry: string): EgressAllowEntry {
  const text = entry.trim();
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+):(\d{1,5})$/i.exec(text);
  if (!m) throw new Error(`"${entry}" is not host:port (e.g. api.openai.com:443)`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`"${entry}": the port must be 1-65535`);
  const host = normalizeHost(m[1]!);
  if (!m[1]!.startsWith('[') && !HOST_NAME.test(host)) throw new Error(`"${entry}": "${m[1]}" is not a host name`);
  return { host, port };
}

/** The entries of WORKER_EGRESS_ALLOW; throws naming the first bad one. */
export function parseEgressAllow(entries: readonly string[]): EgressAllowEntry[] {
  return entries.map(parseEgressAllowEntry);
}

export const formatEgressAllowEntry = ({ host, port }: EgressAllowEntry): string =>
  `${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Whether a request for host:port is allowed: the same host (or a subdomain of a `*.` entry) and the same port. */
export function egressAllows(allow: readonly EgressAllowEntry[], host: string, port: number): boolean {
  const h = normalizeHost(host);
  return allow.some((entry) => {
    if (entry.port !== port) return false;
    if (entry.host.startsWith('*.')) return h.endsWith(entry.host.slice(1)) && h.length > entry.host.length - 1;
    return entry.host === h;
  });
}

/** The allowlist's default: the model endpoint's host and port (CODEX_BASE_URL, else OpenAI's API). */
export function defaultEgressAllow(baseUrl: string | undefined): string[] {
  const url = new URL(baseUrl || 'https://api.openai.com/v1');
  const port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  return [formatEgressAllowEntry({ host: normalizeHost(url.hostname), port })];
}

/** At most this many connections are kept on a job (the rest are counted): the agent chooses how many it opens. */
export const EGRESS_CONNECTIONS_KEPT = 500;

/** One connection the agent attempted through the egress proxy. */
export const EgressConnection = z
  .object({
    /** The host as the agent asked for it (CONNECT host:port, or the URL's host). */
    host: z.string(),
    port: z.number().int(),
    /** CONNECT (a tunnel, e.g. HTTPS) or the method of a plain HTTP request. */
    method: z.string(),
    allowed: z.boolean(),
    /** What the proxy answered: 200 for a tunnel opened, 403 for a host not on the allowlist, 502 when it could not connect. */
    status: z.number().int().nullable(),
    /** The address the proxy's own lookup gave the host (null when denied or not resolved). */
    address: z.string().nullable(),
    /** Bytes the agent sent to the host, and the host sent back (0 when denied). */
    bytes_sent: z.number().int().nonnegative(),
    bytes_received: z.number().int().nonnegative(),
    duration_ms: z.number().int().nonnegative(),
    started_at: z.string().openapi({ format: 'date-time' }),
    /** Why it failed, when it did (a lookup or connect error). */
    error: z.string().nullable(),
  })
  .openapi('EgressConnection');
export type EgressConnection = z.infer<typeof EgressConnection>;

/** `egress` in a job's detail: the allowlist in force and every connection the agent attempted. */
export const EgressRecord = z
  .object({
    mode: z.literal('allowlist'),
    /** WORKER_EGRESS_ALLOW as the job ran with it. */
    allow: z.array(z.string()),
    /** The first EGRESS_CONNECTIONS_KEPT connections, in the order they ended. */
    connections: z.array(EgressConnection),
    /** The summary, over all connections (kept or not). */
    attempted: z.number().int().nonnegative(),
    allowed: z.number().int().nonnegative(),
    denied: z.number().int().nonnegative(),
    bytes_sent: z.number().int().nonnegative(),
    bytes_received: z.number().int().nonnegative(),
    /** True when more connections were attempted than are kept. */
    truncated: z.boolean(),
  })
  .openapi('EgressRecord');
export type EgressRecord = z.infer<typeof EgressRecord>;

/**
 * What the egress proxy prints on its stdout, one JSON object a line: `ready` once it listens,
 * `open` when it lets a connection through, `close` when any attempt ends (denied ones at once).
 */
export const EgressProxyEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), address: z.string(), port: z.number().int() }),
  z.object({
    type: z.literal('open'),
    method: z.string(),
    host: z.string(),
    port: z.number().int(),
  }),
  EgressConnection.extend({ type: z.literal('close') }),
]);
export type EgressProxyEvent = z.infer<typeof EgressProxyEvent>;
