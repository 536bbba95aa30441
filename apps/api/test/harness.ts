import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Express } from 'express';
import { loadConfig, type Config } from '@cwo/config';
import type { Db } from '@cwo/db';
import { createLogger } from '@cwo/logger';
import type { JobsQueue } from '@cwo/queue';
import { systemLookup, type Lookup } from '@cwo/webhooks';
import type { Redis } from 'ioredis';
import { createApp } from '../src/app';
import { createApiDb } from '../src/db-client';
import { createApiQueue, createApiRedis } from '../src/redis-clients';

// Builds the real API over this run's Postgres and Redis (test/env.js sets DATABASE_URL etc.).
// Each harness gets a BullMQ prefix of its own, so no other test's worker takes its jobs.

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

export interface Harness {
  app: Express;
  config: Config;
  db: Db;
  queue: JobsQueue;
  redis: Redis;
  /** Every line the app logged (JSON-parsed), in order. */
  logs: LogLine[];
  close(): Promise<void>;
}

/** A Redis URL where nothing listens: the "Redis is down" case. */
export const DEAD_REDIS_URL = 'redis://127.0.0.1:1';
/** A Postgres URL where nothing listens: the "Postgres is down" case. */
export const DEAD_DATABASE_URL = 'postgresql://postgres@127.0.0.1:1/nothing';

export interface HarnessOptions {
  /** Level of the captured log (default info). */
  logLevel?: string;
  /** How webhook URLs' names resolve (default: only `localhost`, through the system, so no test sends DNS queries). */
  lookup?: Lookup;
  /** The built web app to serve at `/` (default: apps/web/dist). */
  webAppDir?: string;
}

/** The tests' resolver: `localhost` as the system resolves it (/etc/hosts), every other name unknown. */
export const localOnlyLookup: Lookup = (hostname) =>
  hostname === 'localhost'
    ? systemLookup(hostname)
    : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));

export async function startHarness(env: Record<string, string> = {}, opts: HarnessOptions = {}): Promise<Harness> {
  const basePrefix = process.env.QUEUE_PREFIX;
  if (!process.env.DATABASE_URL || !basePrefix) {
    throw new Error('DATABASE_URL/QUEUE_PREFIX are not set: run the tests through the root jest config (pnpm test)');
  }
  const config = loadConfig({
    ...process.env,
    QUEUE_PREFIX: `${basePrefix}-api-${randomBytes(3).toString('hex')}`,
    // Tests other than the auth and limits tests run as the implicit local user, whose projects
    // pile up over the whole run (one database): limits are off unless a test turns them on.
    AUTH_MODE: 'none',
    RATE_LIMIT_CREATE_PER_MINUTE: '0',
    MAX_ACTIVE_JOBS_PER_USER: '0',
    ...env,
  });
  const logs: LogLine[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line) as LogLine);
  });
  const logger = createLogger({ level: opts.logLevel ?? 'info', format: 'json', service: 'api', stream });
  const db = createApiDb(config, logger, 'cwo-api-test');
  const queue = createApiQueue(config);
  const redis = createApiRedis(config);
  const app = createApp({
    db,
    queue,
    redis,
    config,
    logger,
    lookup: opts.lookup ?? localOnlyLookup,
    webAppDir: opts.webAppDir,
  });
  return {
    app,
    config,
    db,
    queue,
    redis,
    logs,
    async close() {
      if (config.REDIS_URL !== DEAD_REDIS_URL) await queue.obliterate({ force: true }).catch(() => undefined);
      await Promise.allSettled([queue.close(), db.$disconnect()]);
      redis.disconnect();
    },
  };
}
