import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { ResolvedTarget } from './target';

// One HTTP request of a delivery, to the address target.ts resolved (pinned: the name is not
// looked up again, so it cannot resolve elsewhere now). Node's http client, not fetch: it lets the
// connection's lookup be replaced, follows no redirects, and its response can be cut short. The
// whole request, from connecting to the end of what is read of the answer, has one time limit; at
// most `maxResponseBytes` of the answer are read, then the connection is closed.

export interface SendInput {
  target: ResolvedTarget;
  headers: Record<string, string>;
  body: string;
  /** For the whole request (connect, send, answer). */
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface SendResult {
  /** The receiver's status; null when none came. */
  statusCode: number | null;
  durationMs: number;
  /** The start of the answer (at most maxResponseBytes, as UTF-8 text); null when none came. */
  response: string | null;
  /** Why the attempt failed; null when the receiver answered 2xx. */
  error: string | null;
}

/** A lookup that answers the one address resolved before (for every form Node asks in). */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all)
      (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

export function sendWebhook(input: SendInput): Promise<SendResult> {
  const { target, timeoutMs, maxResponseBytes } = input;
  const { url } = target;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const client = url.protocol === 'https:' ? https : http;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    /** The answer so far: its status once it came, and up to maxResponseBytes of its body. */
    let status: number | null = null;
    let location: string | undefined;
    const chunks: Buffer[] = [];
    let kept = 0;

    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve({
        statusCode: status,
        durationMs: elapsed(),
        // NUL as U+FFFD: Postgres text cannot hold it, and a receiver's NUL must not stop the
        // attempt from being recorded.
        response: status === null ? null : Buffer.concat(chunks).toString('utf8').replace(/\0/g, '\uFFFD'),
        error,
      });
    };
    /** The attempt's verdict on the answer that came. */
    const answered = () => {
      const code = status!;
      if (code >= 200 && code < 300) return finish(null);
      if (code >= 300 && code < 400) {
        const to = location ? ` (to ${location.slice(0, 200)})` : '';
        return finish(`answered ${code}: redirects are not followed${to}`);
      }
      finish(`answered ${code}`);
    };

    const request = client.request({
      method: 'POST',
      protocol: url.protocol,
      hostname,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      headers: { ...input.headers, host: url.host, 'content-length': String(Buffer.byteLength(input.body)) },
      lookup: pinnedLookup(target.address, target.family),
      // A connection of its own each time: a pooled one could have been made to another address.
      agent: false,
      // SNI carries names only (RFC 6066): an address literal is sent none.
      ...(url.protocol === 'https:' && isIP(hostname) === 0 ? { servername: hostname } : {}),
    });
    const timer = setTimeout(() => {
      // An answer whose body does not end in time still counts by its status.
      if (status !== null) answered();
      else finish(`no answer within ${timeoutMs / 1000} s`);
    }, timeoutMs);

    request.on('error', (err: NodeJS.ErrnoException) => {
      if (status !== null) answered();
      else finish(`request failed: ${err.code ?? err.message}`);
    });
    request.on('response', (res) => {
      status = res.statusCode ?? 0;
      location = res.headers.location;
      res.on('data', (chunk: Buffer) => {
        const part = chunk.subarray(0, maxResponseBytes - kept);
        chunks.push(part);
        kept += part.length;
        if (kept >= maxResponseBytes) answered();
      });
      res.on('end', answered);
      res.on('error', answered);
      res.on('close', answered);
    });
    request.end(input.body);
  });
}
