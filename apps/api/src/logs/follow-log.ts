import { setTimeout as sleep } from 'node:timers/promises';
import { isFinished, type Status } from '@cwo/contracts';
import { KEEP_ALIVE, endEvent, logEvent, retryHint, sendableLength } from './sse';

export interface FollowSource {
  /** Up to `maxBytes` of the log from `offset`; empty when there is nothing (yet). */
  readChunk(offset: number, maxBytes: number): Promise<Buffer>;
  /** The job's status from Postgres; null once the job no longer exists. */
  jobStatus(): Promise<Status | null>;
}

export interface FollowOptions {
  /** Aborted when the client disconnects or the server shuts down: the stream just stops. */
  signal: AbortSignal;
  /** How often the log file is polled (fs.watch is unreliable on network volumes). */
  pollMs?: number;
  /** How often the job's status is read from Postgres. */
  statusEveryMs?: number;
  /** Silence after which a keep-alive comment is sent. */
  keepAliveMs?: number;
  maxChunkBytes?: number;
}

/**
 * The SSE body of `GET …/logs?follow=1`: the log from `offset` as it grows, then `end` with the
 * final status once the job has finished and every byte has been sent. The status is read before
 * the file, so a finished status guarantees the file read after it is complete. Nothing is kept
 * between requests: the event ids (byte offsets) are the whole resumption state.
 */
export async function* followLog(source: FollowSource, offset: number, opts: FollowOptions): AsyncGenerator<string> {
  const pollMs = opts.pollMs ?? 200;
  const statusEveryMs = opts.statusEveryMs ?? 1000;
  const keepAliveMs = opts.keepAliveMs ?? 15_000;
  const maxChunk = opts.maxChunkBytes ?? 64 * 1024;

  yield retryHint(1000);
  let lastWrite = Date.now();
  let lastStatusCheck = 0;
  let status: Status | null = null;
  while (!opts.signal.aborted) {
    if (Date.now() - lastStatusCheck >= statusEveryMs) {
      lastStatusCheck = Date.now();
      try {
        status = await source.jobStatus();
        if (status === null) return; // the job (its project) was deleted: nothing more will come
      } catch {
        // Postgres is away: the log file needs no database, so the stream goes on, and the
        // status is asked again at the next check (the stream ends only on a status read).
        status = null;
      }
    }
    const final = status !== null && isFinished(status);
    for (;;) {
      const chunk = await source.readChunk(offset, maxChunk);
      const length = sendableLength(chunk, { final, full: chunk.length === maxChunk });
      if (length === 0) break;
      offset += length;
      yield logEvent(offset, chunk.subarray(0, length));
      lastWrite = Date.now();
    }
    if (final) {
      yield endEvent(status!);
      return;
    }
    if (Date.now() - lastWrite >= keepAliveMs) {
      yield KEEP_ALIVE;
      lastWrite = Date.now();
    }
    try {
      await sleep(pollMs, undefined, { signal: opts.signal });
    } catch {
      return; // aborted
    }
  }
}
