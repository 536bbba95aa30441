import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { ERROR_KINDS, type ErrorResponse, type ErrorStatus } from '@cwo/contracts';
import { FAILURE_KEY } from './access-log';
import { isDatabaseUnavailable, isDependencyTimeout, isRedisUnavailable } from './dependency-errors';
import { HttpError } from './errors';
import { NOT_UTF8 } from './json-body';
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
  /** body-parser: the Content-Encoding or charset it does not support. */
  encoding?: string;
  charset?: string;
}

const isErrorStatus = (s: number): s is ErrorStatus => s in ERROR_KINDS;

/** A body that could not be read: body-parser's errors, in words a client can act on. */
function classifyBodyError(fw: FrameworkError, req: Request): Classified | undefined {
  switch (fw.type) {
    case 'entity.parse.failed':
      return { status: 400, detail: 'Malformed JSON body' };
    case 'entity.too.large':
      return { status: 413, detail: 'Request body is larger than 1 MiB' };
    case NOT_UTF8:
      return { status: 400, detail: 'Request body is not valid UTF-8: send JSON encoded as UTF-8' };
    case 'encoding.unsupported':
      return {
        status: 415,
        detail: `Content-Encoding "${fw.encoding}" is not supported: send the body uncompressed, or as gzip, deflate or br`,
      };
    case 'charset.unsupported':
      return { status: 415, detail: `Charset "${fw.charset}" is not supported: send JSON encoded as UTF-8` };
  }
  // The decompressor failed (zlib's own words would be "incorrect header check" and the like).
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (fw.status === 400 && encoding !== 'identity' && fw.type === undefined) {
    return {
      status: 400,
      detail: `Request body could not be decompressed: it is not valid ${encoding} data (Content-Encoding: ${encoding})`,
    };
  }
  return undefined;
}

function classify(err: unknown, req: Request): Classified {
  if (err instanceof HttpError) return { status: err.status, detail: err.detail, headers: err.headers };
  const fw = (err ?? {}) as FrameworkError;
  const body = classifyBodyError(fw, req);
  if (body) return body;
  // The router could not percent-decode a path parameter.
  if (err instanceof URIError) return { status: 400, detail: 'Invalid path' };
  if (typeof fw.status === 'number' && fw.status >= 400 && fw.status < 500 && fw.expose) {
    return { status: isErrorStatus(fw.status) ? fw.status : 400, detail: (err as Error).message };
  }
  if (isDatabaseUnavailable(err)) return { status: 503, detail: 'Database unavailable' };
  if (isRedisUnavailable(err)) return { status: 503, detail: 'Redis unavailable' };
  if (isDependencyTimeout(err)) return { status: 503, detail: 'A service the API depends on did not answer in time' };
  return { status: 500 }; // no detail: internals never reach the client
}

/** The ErrorResponse of docs/http-api.md, with the request id as correlation_id; absent fields are left out. */
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
  return (err, req, res, _next) => {
    const { status, detail, headers } = classify(err, req);
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
