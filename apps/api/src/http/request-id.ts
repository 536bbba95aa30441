import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';

export const REQUEST_ID_HEADER = 'X-Request-Id';

// An incoming id is kept only if it is short and plain: it is echoed in headers and written to
// logs, so anything that could forge a log line or a header is replaced by a fresh one.
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives every request an id (the caller's, if sane, else a uuid), sent back in X-Request-Id. */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get(REQUEST_ID_HEADER);
    const id = incoming && SANE_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}

export const requestIdOf = (res: Response): string | undefined => res.locals.requestId as string | undefined;
