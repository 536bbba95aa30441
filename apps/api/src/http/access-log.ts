import type { RequestHandler } from 'express';
import type { Logger } from '@cwo/logger';
import { requestIdOf } from './request-id';

/** The error behind a 5xx, left by the error handler so the request's log line carries its stack. */
export const FAILURE_KEY = 'failure';

/**
 * One line per request once it is over: method, path (never the query or the body, which may
 * carry secrets), status, duration and request id. 4xx at warn, 5xx at error with the stack.
 */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const entry = {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
        request_id: requestIdOf(res),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (res.statusCode >= 500) logger.error('request failed', { ...entry, error: res.locals[FAILURE_KEY] });
      else if (res.statusCode >= 400) logger.warn('request', entry);
      else logger.info('request', entry);
    });
    next();
  };
}
