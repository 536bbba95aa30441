import type { Config } from '@cwo/config';
import type { Db } from '@cwo/db';
import type { Logger } from '@cwo/logger';
import type { JobsQueue } from '@cwo/queue';
import type { Lookup } from '@cwo/webhooks';
import type { Redis } from 'ioredis';
import type { ConsumeSignIn } from './limits/sign-in-rate-limit';
import type { LogFollowers } from './logs/follow-log';
import type { PreviewAccess } from './previews/preview-access';
import type { RunningPreviews } from './previews/running-previews';

/** Everything the API talks to, passed in by main.ts (or a test) rather than created inside. */
export interface AppDeps {
  db: Db;
  queue: JobsQueue;
  /** Plain Redis commands of the API's own: cancel announcements (pub/sub) and readiness pings. */
  redis: Redis;
  config: Config;
  logger: Logger;
  /** Aborted when the process is shutting down: long-lived responses (log streams) end then. */
  shutdownSignal?: AbortSignal;
  /** How webhook URLs' names are resolved when they are registered (dns.lookup by default). */
  lookup?: Lookup;
  /** The built web app served at `/` (apps/web/dist by default). */
  webAppDir?: string;
  /** Previews' servers in containers (main.ts makes them when a container engine is configured). */
  runningPreviews?: RunningPreviews;
}

/** What the handlers get: the services passed in, and what the app shares between its requests. */
export interface AppServices extends AppDeps {
  /** One tail per followed job log in this process, shared by all of its SSE clients. */
  logFollowers: LogFollowers;
  /** Preview links: minted by the API's routes, checked by the preview host. */
  previews: PreviewAccess;
  /** Counts a sign-in attempt of a client address (429 past SIGN_IN_ATTEMPTS_PER_MINUTE). */
  signInLimit: ConsumeSignIn;
}
