import type { RequestHandler } from 'express';
import type { Logger } from '@cwo/logger';
import type { Principal } from '../auth/accounts';
import { requestIdOf } from './request-id';

/** The error behind a 5xx, left by the error handler so the request's log line carries its stack. */
export const FAILURE_KEY = 'failure';
/** The authenticated caller (auth/accounts Principal), left by the route adapter. */
export const PRINCIPAL_KEY = 'principal';

/**
 * One line per request once it is over: method, path (never the query, the body or the headers,
 * which may carry secrets: the API key travels in Authorization), status, duration, request id,
 * and who called (user and key ids, never the key). 4xx at warn, 5xx at error with the stack.
 */
const callerOf = (p: Principal | undefined) =>
  p ? { user_id: p.userId, ...(p.keyId ? { key_id: p.keyId } : {}) } : {};

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
        ...callerOf(res.locals[PRINCIPAL_KEY] as Principal | undefined),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (res.statusCode >= 500)
        logger.error('request failed', { ...entry, error: res.locals[FAILURE_KEY] as unknown });
      else if (res.statusCode >= 400) logger.warn('request', entry);
      else logger.info('request', entry);
    });
    next();
  };
}
