import { isUtf8 } from 'node:buffer';
import express, { type RequestHandler } from 'express';

// How request bodies are read: JSON (also with no Content-Type at all, as older clients
// send it), at most 1 MiB after decompression, any JSON value (an array or a string is a 422 at
// `body` from the route's schema, not a parse error), and UTF-8 only, checked before decoding:
// a decoder would silently turn invalid bytes into U+FFFD.

export const MAX_BODY_BYTES = 1024 * 1024;

/** application/json, application/problem+json, …; a client that declares JSON gets it parsed. */
export const isJsonType = (contentType: string): boolean => /\bjson\b/i.test(contentType);

/** body-parser's error `type` for a body that is not UTF-8 (http/error-handler.ts explains it). */
export const NOT_UTF8 = 'entity.not.utf8';

export function jsonBody(): RequestHandler {
  return express.json({
    limit: MAX_BODY_BYTES,
    strict: false,
    type: (req) => !req.headers['content-type'] || isJsonType(String(req.headers['content-type'])),
    verify: (_req, _res, buf, encoding) => {
      if (encoding !== 'utf-8' && encoding !== 'utf8') return; // another declared charset: iconv decodes it
      if (!isUtf8(buf)) throw Object.assign(new Error('body is not UTF-8'), { type: NOT_UTF8 });
    },
  });
}
