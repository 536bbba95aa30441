import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { apiListenProblem, ConfigError, loadConfig, type Config } from '@cwo/config';
import { describeSchemaState, ensureSchema, type Db } from '@cwo/db';
import { createLogger, errorLine, logFormatFor, type Logger } from '@cwo/logger';
import Docker from 'dockerode';
import { createApp } from './app';
import type { previewUpgrade } from './previews/preview-host';
import { createRunningPreviews } from './previews/running-previews';

type PreviewUpgrade = ReturnType<typeof previewUpgrade>;
import { createApiDb } from './db-client';
import { countActiveKeys } from './auth/accounts';
import { createApiQueue, createApiRedis } from './redis-clients';

// The API process: configuration, migrations, services, HTTP; and a clean stop on SIGTERM/SIGINT.

/** How long in-flight requests get to finish on shutdown before their connections are cut. */
const DRAIN_MS = 10_000;

function configOrExit(): Config {
  try {
    const config = loadConfig(process.env);
    const problem = apiListenProblem(config);
    if (problem) {
      console.error(`The API does not start: ${problem}`);
      process.exit(1);
    }
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

function listening(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Says at start-up how callers authenticate, and what to do when nobody can yet. */
async function reportAuthentication(config: Config, db: Db, logger: Logger): Promise<void> {
  if (config.AUTH_MODE === 'none') {
    const note = 'AUTH_MODE=none: API keys are not checked; every request acts as the one local user';
    if (config.NODE_ENV === 'production') logger.warn(`${note}. Set AUTH_MODE=api_key where others can reach the API.`);
    else logger.info(note);
    return;
  }
  const keys = await countActiveKeys(db).catch(() => undefined);
  if (keys === 0) {
    logger.warn(
      'AUTH_MODE=api_key and no API key exists yet: every API request answers 401 until one does. ' +
        'Create one: pnpm admin create-user <name>, then pnpm admin create-key <name> (in compose: ' +
        'docker compose exec api node apps/api/dist/admin.js …)',
    );
  }
}

async function main(): Promise<void> {
  const config = configOrExit();
  const logger: Logger = createLogger({
    level: config.LOG_LEVEL,
    format: logFormatFor(config.NODE_ENV),
    service: 'api',
  });

  try {
    logger.info(describeSchemaState(await ensureSchema(config.DATABASE_URL)));
  } catch (err) {
    logger.error('the database schema could not be brought up to date; not starting', { error: err });
    process.exit(1);
  }

  const db = createApiDb(config, logger);
  const queue = createApiQueue(config);
  const redis = createApiRedis(config);
  const shutdown = new AbortController();
  // Preview servers run on the Docker host DOCKER_HOST names (dockerode reads it; its default socket otherwise).
  const runningPreviews = createRunningPreviews({ docker: new Docker(), redis, db, config, logger });
  runningPreviews.start_housekeeping();
  const app = createApp({ db, queue, redis, config, logger, shutdownSignal: shutdown.signal, runningPreviews });

  const server = app.listen(config.PORT, config.apiHost);
  // WebSocket upgrades: only previews' (their dev servers' live reload); the API has none.
  server.on('upgrade', (req, socket, head) => {
    if (!(app.locals.previewUpgrade as PreviewUpgrade)(req, socket as Socket, head)) socket.destroy();
  });
  // Idle keep-alive connections live longer than the usual proxy/load-balancer idle timeout (60 s),
  // so the proxy, not Node (5 s by default), closes them: otherwise a request sent on a connection
  // Node is closing fails with "other side closed".
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await listening(server);
  logger.info('API listening', {
    host: config.apiHost,
    port: config.PORT,
    api_prefix: config.API_V1_STR,
    docs: '/docs',
    auth_mode: config.AUTH_MODE,
  });
  await reportAuthentication(config, db, logger);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    shutdown.abort(); // ends log streams; their clients reconnect elsewhere with Last-Event-ID
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
    await closed;
    clearTimeout(cut);
    await runningPreviews.close();
    await Promise.allSettled([queue.close(), redis.quit(), db.$disconnect()]);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

// Before the logger exists (or should it fail): one line, the error's message and code only.
process.on('unhandledRejection', (reason) => {
  console.error(`unhandled rejection: ${errorLine(reason)}`);
});

main().catch((err) => {
  console.error(`API failed to start: ${errorLine(err)}`);
  process.exit(1);
});
