import { Redis } from 'ioredis';
import type { Db } from '@cwo/db';
import { jobsToStop } from '@cwo/jobs';
import type { Logger } from '@cwo/logger';
import type { RunningJobs } from './running-jobs';

// Cancel requests reach a running job two ways: the API publishes the job id on the cancel
// channel (fast), and jobs.cancel_requested_at is polled for the jobs this process runs (pub/sub
// is fire-and-forget: a message sent while this runner was reconnecting is lost). A job whose row
// is gone (its project deleted) is stopped by the poll too.

export interface CancelWatcherOptions {
  redisUrl: string;
  /** cancelChannel(QUEUE_PREFIX). */
  channel: string;
  db: Db;
  running: RunningJobs;
  pollMs: number;
  logger: Logger;
}

export interface CancelWatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One pass of the fallback poll; the number of jobs it stopped. */
  pollOnce(): Promise<number>;
}

export function createCancelWatcher(opts: CancelWatcherOptions): CancelWatcher {
  const { running, logger } = opts;
  // A connection in subscriber mode can do nothing else, so it is a dedicated one.
  const subscriber = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: null });
  subscriber.on('error', (err) => logger.warn('cancel subscriber: redis error', { error: err.message }));
  subscriber.on('message', (_channel: string, message: string) => {
    const jobId = message.trim();
    if (running.abort(jobId, 'cancel')) logger.info('cancel requested: stopping the job', { jobId, via: 'pubsub' });
  });
  let timer: NodeJS.Timeout | null = null;
  let polling = false;

  async function pollOnce(): Promise<number> {
    const ids = running.ids();
    if (ids.length === 0) return 0;
    let stopped = 0;
    for (const id of await jobsToStop(opts.db, ids)) {
      if (running.abort(id, 'cancel')) {
        stopped++;
        logger.info('cancel requested: stopping the job', { jobId: id, via: 'poll' });
      }
    }
    return stopped;
  }

  return {
    async start() {
      await subscriber.connect();
      await subscriber.subscribe(opts.channel);
      timer = setInterval(() => {
        if (polling) return;
        polling = true;
        pollOnce()
          .catch((err: unknown) => logger.warn('cancel poll failed', { error: err }))
          .finally(() => (polling = false));
      }, opts.pollMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
    pollOnce,
  };
}
