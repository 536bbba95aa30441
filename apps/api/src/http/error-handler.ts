import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ERROR_KINDS, type ErrorResponse, type ErrorStatus } from '@cwo/contracts';
import { FAILURE_KEY } from './access-log';
import { isDatabaseUnavailable, isDependencyTimeout } from './dependency-errors';
import { HttpError } from './errors';
import { requestIdOf } from './request-id';

interface Classified {
  status: ErrorStatus;
  detail?: ErrorResponse['detail'];
  headers?: Record<string, string>;
}

/** body-parser's and the router's own errors carry `type` / `status`. */
interface FrameworkError {
  type?: string;
  status?: number;
  expose?: boolean;
}

const isErrorStatus = (s: number): s is ErrorStatus => s in ERROR_KINDS;

function classify(err: unknown): Classified {
  if (err instanceof HttpError) return { status: err.status, detail: err.detail, headers: err.headers };
  const fw = (err ?? {}) as FrameworkError;
  if (fw.type === 'entity.parse.failed') return { status: 400, detail: 'Malformed JSON body' };
  if (fw.type === 'entity.too.large') return { status: 413, detail: 'Request body is larger than 1 MiB' };
  // The router could not percent-decode a path parameter.
  if (err instanceof URIError) return { status: 400, detail: 'Invalid path' };
  if (typeof fw.status === 'number' && fw.status >= 400 && fw.status < 500 && fw.expose) {
    return { status: isErrorStatus(fw.status) ? fw.status : 400, detail: (err as Error).message };
  }
  if (isDatabaseUnavailable(err)) return { status: 503, detail: 'Database unavailable' };
  if (isDependencyTimeout(err)) return { status: 503, detail: 'A service the API depends on did not answer in time' };
  return { status: 500 }; // no detail: internals never reach the client
}

/** The seed's ErrorResponse, with the request id as correlation_id; absent fields are left out. */
export function errorBody(status: ErrorStatus, detail: Classified['detail'], correlationId?: string): ErrorResponse {
  return {
    ...ERROR_KINDS[status],
    code: status,
    ...(detail !== undefined ? { detail } : {}),
    ...(correlationId ? { correlation_id: correlationId } : {}),
  };
}

/** Every error, ours or the framework's, leaves as an ErrorResponse. */
export function errorHandler(): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const { status, detail, headers } = classify(err);
    if (status >= 500) res.locals[FAILURE_KEY] = err as unknown;
    if (res.headersSent) {
      // A stream failed half-way: the status line is gone, so cut the connection.
      res.destroy();
      return;
    }
    res.set(headers ?? {});
    res.status(status).json(errorBody(status, detail, requestIdOf(res)));
  };
}

/** Anything no route matched. */
export function notFoundHandler(): RequestHandler {
  return (_req, _res, next) => next(new HttpError(404, 'Not Found'));
}
