// The runner process: takes jobs from the queue and runs them (`pnpm start:runner`).
import { ConfigError, loadConfig, type Config } from '@cwo/config';
import { createDb, describeSchemaState, ensureSchema } from '@cwo/db';
import { connectionErrorLogger, createLogger, errorLine, logFormatFor } from '@cwo/logger';
import { createWebhookDispatcher } from '@cwo/webhooks';
import { createExecutor } from './executors';
import { createRunner } from './runner';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, format: logFormatFor(config.NODE_ENV), service: 'runner' });
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { error: reason }));

  // The API applies the migrations too; whichever starts first on a fresh database does it, under
  // Prisma's advisory lock, and the other finds the schema ready (no job runs against no tables).
  try {
    logger.info(describeSchemaState(await ensureSchema(config.DATABASE_URL)));
  } catch (err) {
    logger.error('the database schema could not be brought up to date; not starting', { error: err });
    process.exit(1);
  }

  const db = createDb(config.DATABASE_URL, {
    poolSize: config.RUNNER_CONCURRENCY + 4,
    applicationName: 'cwo-runner',
    onConnectionError: connectionErrorLogger(logger, 'postgres'),
  });
  let executor;
  try {
    executor = createExecutor(config, logger);
  } catch (err) {
    logger.error(`cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
  // The webhook dispatcher has connections of its own: a delivery never waits for one a job needs.
  const webhookDb = createDb(config.DATABASE_URL, {
    poolSize: 3,
    applicationName: 'cwo-runner-webhooks',
    onConnectionError: connectionErrorLogger(logger, 'postgres (webhooks)'),
  });
  const webhooks = createWebhookDispatcher({ db: webhookDb, config, logger });
  const runner = createRunner({ db, config, logger, executor, webhooks });

  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    shuttingDown = true;
    logger.info(`${signal}: shutting down (grace ${config.SHUTDOWN_GRACE_SECONDS} s)`);
    runner
      .stop()
      .then(() => Promise.all([db.$disconnect(), webhookDb.$disconnect()]))
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error('shutdown failed', { error: err });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  await runner.start();
}

main().catch((err) => {
  console.error(`runner failed to start: ${errorLine(err)}`);
  process.exit(1);
});
