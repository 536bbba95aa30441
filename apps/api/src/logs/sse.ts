import type { Status } from '@cwo/contracts';

// Server-sent events for a job's log. Each `log` event carries whole lines (one `data:` line per
// log line) and its `id` is the byte offset just after them, so a client that reconnects with
// Last-Event-ID resumes exactly where it stopped, on any API instance.

/**
 * How many bytes of `chunk` to send now. Whole lines only while the job runs (a line still being
 * written waits for its newline), unless the chunk is a full read with no newline at all, which
 * is cut at a UTF-8 character boundary so one endless line cannot stall the stream. Once the job
 * has finished, everything goes.
 */
export function sendableLength(chunk: Buffer, opts: { final: boolean; full: boolean }): number {
  if (opts.final) return chunk.length;
  const newline = chunk.lastIndexOf(0x0a);
  if (newline >= 0) return newline + 1;
  return opts.full ? utf8Boundary(chunk) : 0;
}

/** The longest prefix of `buf` that does not end inside a multi-byte UTF-8 character. */
export function utf8Boundary(buf: Buffer): number {
  const end = buf.length;
  let lead = end - 1;
  while (lead >= 0 && lead >= end - 4 && (buf[lead]! & 0xc0) === 0x80) lead--;
  if (lead < 0) return end;
  const byte = buf[lead]!;
  const width = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
  return lead + width <= end ? end : lead;
}

export function logEvent(offsetAfter: number, chunk: Buffer): string {
  const lines = chunk.toString('utf8').split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop(); // the chunk's final newline
  return `id: ${offsetAfter}\nevent: log\n${lines.map((l) => `data: ${l}\n`).join('')}\n`;
}

export function endEvent(status: Status): string {
  return `event: end\ndata: ${JSON.stringify({ status })}\n\n`;
}

/** A comment line: keeps proxies from closing an idle stream; clients ignore it. */
export const KEEP_ALIVE = ': keep-alive\n\n';

/** Tells EventSource clients how soon to reconnect after a dropped connection. */
export const retryHint = (ms: number): string => `retry: ${ms}\n\n`;
