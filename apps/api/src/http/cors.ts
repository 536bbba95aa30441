import cors from 'cors';
import type { RequestHandler } from 'express';
import type { Config } from '@cwo/config';

/**
 * CORS exactly from the settings (docs/http-api.md, "CORS"): only listed origins get Access-Control-Allow-Origin
 * ("*" in the list allows any), with the listed methods and headers; credentials only when
 * ALLOW_CREDENTIALS (browsers then refuse "*"). Preflights are answered
 * here. The headers a client needs to read (request id, log offset and status) are exposed.
 */
export function corsMiddleware(
  config: Pick<Config, 'ALLOW_ORIGINS' | 'ALLOW_METHODS' | 'ALLOW_HEADERS' | 'ALLOW_CREDENTIALS'>,
): RequestHandler {
  return cors({
    origin: config.ALLOW_ORIGINS.includes('*') ? '*' : config.ALLOW_ORIGINS,
    methods: config.ALLOW_METHODS,
    allowedHeaders: config.ALLOW_HEADERS,
    credentials: config.ALLOW_CREDENTIALS,
    exposedHeaders: ['X-Request-Id', 'X-Log-Offset', 'X-Job-Status'],
    maxAge: 600,
  });
}
