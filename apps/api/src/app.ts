import express, { type Express } from 'express';
import swaggerUi from 'swagger-ui-express';
import { BULL_BOARD_PATH, bullBoardRouter } from './admin/bull-board';
import type { AppDeps } from './deps';
import { accessLog } from './http/access-log';
import { corsMiddleware } from './http/cors';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { mountRoutes } from './http/express-adapter';
import { requestId } from './http/request-id';
import { buildOpenApiDocument } from './openapi';
import { apiRoutes, rootRoutes } from './routes';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Logs Redis connection errors once per distinct message, not on every reconnect attempt (and
 * keeps an unhandled 'error' event from crashing the process).
 */
function watchRedisErrors({ queue, redis, logger }: Pick<AppDeps, 'queue' | 'redis' | 'logger'>): void {
  let last = '';
  const report = (source: string) => (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    logger.warn(`${source}: Redis connection problem`, { error: err.message });
  };
  queue.on('error', report('jobs queue'));
  redis.on('error', report('redis'));
  redis.on('ready', () => (last = ''));
}

/**
 * The HTTP API over the given services. Nothing is created here: main.ts (or a test) passes the
 * database, the queue, Redis, the configuration and the logger in, so tests run the real thing.
 */
export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  watchRedisErrors(deps);
  const app = express();
  app.disable('x-powered-by');

  app.use(requestId());
  app.use(accessLog(logger));
  app.use(corsMiddleware(config));
  // JSON bodies (also when the client sends no Content-Type, as FastAPI accepted); 1 MiB at most.
  app.use(
    express.json({
      limit: MAX_BODY_BYTES,
      type: (req) => !req.headers['content-type'] || /\bjson\b/i.test(String(req.headers['content-type'])),
    }),
  );

  mountRoutes(app, rootRoutes, '', deps);
  mountRoutes(app, apiRoutes, config.API_V1_STR, deps);

  const openApi = buildOpenApiDocument({ root: rootRoutes, api: apiRoutes }, config.API_V1_STR);
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  // serveFiles, not serve: the page is bound to this app's document (tests build several apps).
  const docsOptions = { customSiteTitle: 'Codex Workspace Orchestrator API' };
  app.use('/docs', swaggerUi.serveFiles(openApi, docsOptions), swaggerUi.setup(openApi, docsOptions));

  if (config.BULL_BOARD_ENABLED) {
    app.use(BULL_BOARD_PATH, bullBoardRouter(deps.queue));
    logger.warn(`Bull Board is enabled at ${BULL_BOARD_PATH} without authentication`);
  }

  app.use(notFoundHandler());
  app.use(errorHandler());
  return app;
}
