import express, { type Express } from 'express';
import swaggerUi from 'swagger-ui-express';
import { BULL_BOARD_PATH, bullBoardRouter } from './admin/bull-board';
import { adminBoardSetting } from './admin/board-setting';
import { requireAdmin } from './auth/admin-access';
import { createAuthenticator } from './auth/authenticate';
import type { AppDeps, AppServices } from './deps';
import { accessLog } from './http/access-log';
import { corsMiddleware } from './http/cors';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { mountRoutes, type RouteGuards } from './http/express-adapter';
import { jsonBody } from './http/json-body';
import { requestId } from './http/request-id';
import { DEFAULT_WEB_APP_DIR, mountWebApp } from './http/web-app';
import { previewFrameSource } from './previews/preview-origin';
import { createCreationRateLimit } from './limits/creation-rate-limit';
import { createSignInRateLimit } from './limits/sign-in-rate-limit';
import { createLogFollowers } from './logs/follow-log';
import { createPreviewAccess } from './previews/preview-access';
import { PREVIEW_CSP, previewHost, previewUpgrade } from './previews/preview-host';
import { createPreviewProxy } from './previews/preview-proxy';
import { pingRedis } from './redis-actions';
import { buildOpenApiDocument, type OpenApiOptions } from './openapi';
import { apiRoutes, projectShortForms, rootRoutes, sessionRoutes } from './routes';

export { MAX_BODY_BYTES } from './http/json-body';

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
 * Bull Board, as adminBoardSetting decides (open on a local AUTH_MODE=none API, else for admins);
 * start-up says in one line where it is, or why it is off and how to turn it on. Returns what the
 * OpenAPI document shows.
 */
function mountAdminBoard(
  app: Express,
  { config, logger, queue, redis }: AppDeps,
  guards: RouteGuards,
): OpenApiOptions['adminBoard'] {
  const setting = adminBoardSetting(config);
  if (!setting.on) {
    logger.info(setting.why);
    return undefined;
  }
  const board = bullBoardRouter(queue, () => pingRedis({ redis }));
  if (setting.access === 'open') {
    app.use(BULL_BOARD_PATH, board);
    logger.info(`Bull Board is at ${BULL_BOARD_PATH} (AUTH_MODE=none on ${config.apiHost}: no login, as for the API)`);
    return { path: BULL_BOARD_PATH, basic: false, keys: false };
  }
  app.use(BULL_BOARD_PATH, requireAdmin(config, guards.authenticate), board);
  const basic = config.ADMIN_USER !== undefined;
  const keys = config.AUTH_MODE === 'api_key';
  logger.info(`Bull Board is at ${BULL_BOARD_PATH}, for admins`, {
    admin_auth: [...(keys ? ['admin API key'] : []), ...(basic ? ['basic auth (ADMIN_USER)'] : [])].join(', '),
  });
  return { path: BULL_BOARD_PATH, basic, keys };
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
  // Whose X-Forwarded-* headers count: the client address (rate limits) and https (Secure cookies).
  app.set('trust proxy', config.TRUST_PROXY);
  // No ETags on API answers: they change with every job, and hashing a 20,000-file listing costs
  // more than it could save (static Swagger assets keep theirs).
  app.set('etag', false);

  const previews = createPreviewAccess(config, logger);
  app.use(requestId());
  app.use(accessLog(logger));
  // Preview hosts are other sites: answered before anything of the app's own (previews/preview-host.ts).
  const previewProxy = createPreviewProxy(logger, PREVIEW_CSP, config.PREVIEW_PROXY_TIMEOUT_SECONDS * 1000);
  app.use(previewHost(deps, previews, previewProxy));
  // The HTTP server hands WebSocket upgrades to this (main.ts; tests that need them).
  app.locals.previewUpgrade = previewUpgrade(deps, previews, previewProxy);
  app.use(corsMiddleware(config));
  app.use(jsonBody());

  const guards: RouteGuards = {
    authenticate: createAuthenticator(deps),
    rateLimits: { create: createCreationRateLimit(deps) },
  };
  const services: AppServices = {
    ...deps,
    logFollowers: createLogFollowers(),
    previews,
    signInLimit: createSignInRateLimit(deps),
  };
  mountRoutes(app, rootRoutes, '', services, guards);
  mountRoutes(app, apiRoutes, config.API_V1_STR, services, guards);
  mountRoutes(app, sessionRoutes, config.API_V1_STR, services, guards);

  const adminBoard = mountAdminBoard(app, deps, guards);
  const api = [...apiRoutes, ...sessionRoutes, ...projectShortForms];
  const openApi = buildOpenApiDocument({ root: rootRoutes, api }, config.API_V1_STR, {
    authMode: config.AUTH_MODE,
    adminBoard,
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  // serveFiles, not serve: the page is bound to this app's document (tests build several apps).
  // persistAuthorization: the key entered under "Authorize" survives a reload of the page.
  const docsOptions = {
    customSiteTitle: 'Codex Workspace Orchestrator API',
    swaggerOptions: { persistAuthorization: true },
  };
  app.use('/docs', swaggerUi.serveFiles(openApi, docsOptions), swaggerUi.setup(openApi, docsOptions));

  // Last of the API's paths: /{id} would otherwise take /projects, /webhooks and the like (routes.ts).
  mountRoutes(app, projectShortForms, config.API_V1_STR, services, guards);

  mountWebApp(app, {
    dir: deps.webAppDir ?? DEFAULT_WEB_APP_DIR,
    reservedPrefixes: [config.API_V1_STR, '/docs', '/admin', '/healthz', '/readyz', '/openapi.json'],
    logger,
    previewFrames: previewFrameSource(config.previewBaseUrl),
  });

  app.use(notFoundHandler());
  app.use(errorHandler());
  return app;
}
