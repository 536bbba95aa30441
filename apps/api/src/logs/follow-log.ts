import type { EventSink } from './log-follower';
import { LogTail, type FollowSource, type TailOptions } from './log-tail';

export type { EventSink } from './log-follower';
export type { FollowSource, LogReader, TailOptions } from './log-tail';

export const DEFAULT_TAIL_OPTIONS: TailOptions = {
  pollMs: 200,
  statusEveryMs: 1000,
  keepAliveMs: 15_000,
  maxChunkBytes: 64 * 1024,
  minReadIntervalMs: 20,
  maxQueuedBytes: 1024 * 1024,
};

/** The clients following job logs in this API process, one shared tail per followed job. */
export interface LogFollowers {
  /**
   * Writes the SSE body of `GET …/logs?follow=1` for one client to `sink` (its response): the log
   * from `offset` as it grows, then `end` with the final status once the job has finished and
   * every byte has been sent (nothing more when the job is deleted meanwhile), then ends it.
   * Stops when the sink closes (the client went away), or ends it where it is when `signal`
   * aborts (the server is shutting down). The first client of a job starts its tail with `source`.
   */
  follow(jobId: string, source: FollowSource, offset: number, sink: EventSink, signal: AbortSignal): void;
  /** Jobs whose log is being read now. */
  readonly tails: number;
}

export function createLogFollowers(options: Partial<TailOptions> = {}): LogFollowers {
  const opts = { ...DEFAULT_TAIL_OPTIONS, ...options };
  const tails = new Map<string, LogTail>();
  return {
    follow(jobId, source, offset, sink, signal) {
      let tail = tails.get(jobId);
      if (!tail || tail.isDone) {
        const created: LogTail = new LogTail(source, offset, opts, () => {
          if (tails.get(jobId) === created) tails.delete(jobId);
        });
        tails.set(jobId, created);
        tail = created;
      }
      const follower = tail.follow(offset, sink);
      const stop = () => follower.stop();
      if (signal.aborted) stop();
      else {
        signal.addEventListener('abort', stop, { once: true });
        sink.on('close', () => signal.removeEventListener('abort', stop));
      }
    },
    get tails() {
      return tails.size;
    },
  };
}
