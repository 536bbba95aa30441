export { createApp, MAX_BODY_BYTES } from './app';
export type { AppDeps } from './deps';
export { createApiQueue, createApiRedis } from './redis-clients';
export { buildOpenApiDocument } from './openapi';
export { apiRoutes, rootRoutes } from './routes';
