import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { sendFile } from './send-file';
import type { Express, Request, Response } from 'express';
import type { ValidationIssue } from '@cwo/contracts';
import type { Principal } from '../auth/accounts';
import { requestOriginOf, type Authenticate } from '../auth/authenticate';
import type { AppDeps, AppServices } from '../deps';
import { PRINCIPAL_KEY } from './access-log';
import { HttpError, validationFailed } from './errors';
import { isJsonType } from './json-body';
import type { Reply } from './reply';
import { requestIdOf } from './request-id';
import type { PublicContext, RateLimitName, Route } from './route';
import { parseOr422 } from './validation';

// The only place that knows Express: turns route table entries into Express routes, checks who is
// calling, validates their input, applies rate limits, calls the handler, and sends its Reply.

/** What stands before the handlers: who the caller is, and the rate limits routes can name. */
export interface RouteGuards {
  authenticate: Authenticate;
  rateLimits: Record<RateLimitName, (principal: Principal) => Promise<void>>;
}

/** Segments before a trailing `*wildcard` in a pattern, to find the same part of the raw path. */
function segmentsBeforeWildcard(pattern: string): number | undefined {
  const star = pattern.indexOf('*');
  return star < 0 ? undefined : pattern.slice(0, star).split('/').length - 1;
}

/** Express 5 hands wildcards over as arrays of decoded segments. */
function flattenParams(params: Record<string, string | string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v.join('/') : v]));
}

/** As body-parser decides it: a Content-Length above zero or a chunked body. */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** A body the JSON parser left alone because it is declared as something else (a form, text). */
function requireJsonBody(req: Request): void {
  const type = req.headers['content-type'];
  if (!hasBody(req) || type === undefined || isJsonType(type)) return;
  const sent = type.split(';')[0]!.trim() || type;
  throw new HttpError(415, `Content-Type: application/json is expected, got ${sent}: send the body as JSON`);
}

/** The request, when its body is one of the media types the route takes as a stream. */
function uploadOf(route: Route, req: Request): Request | null {
  const type = req.headers['content-type'];
  if (!route.uploads || !type || !hasBody(req)) return null;
  return route.uploads.match(type.split(';')[0]!.trim().toLowerCase()) ? req : null;
}

/** Body and query together, so one 422 lists every problem. */
function validate(route: Route, req: Request): { body: unknown; query: unknown; upload: Request | null } {
  const upload = uploadOf(route, req);
  if (route.body && !upload) requireJsonBody(req);
  const issues: ValidationIssue[] = [];
  const parse = (schema: Route['body'], input: unknown, where: 'body' | 'query') => {
    if (!schema) return input;
    try {
      return parseOr422(schema, input, where);
    } catch (err) {
      if (err instanceof HttpError && Array.isArray(err.detail)) issues.push(...err.detail);
      else throw err;
    }
  };
  const query = parse(route.query, req.query, 'query');
  // body-parser leaves `{}` when there is no body at all: that is a missing body, not an empty one.
  const body = upload ? undefined : parse(route.body, hasBody(req) ? req.body : undefined, 'body');
  if (issues.length) throw validationFailed(issues);
  return { body, query, upload };
}

function abortSignalFor(res: Response, shutdown: AbortSignal | undefined): AbortSignal {
  const closed = new AbortController();
  res.once('close', () => closed.abort());
  return shutdown ? AbortSignal.any([closed.signal, shutdown]) : closed.signal;
}

async function send(req: Request, res: Response, reply: Reply, deps: AppDeps): Promise<void> {
  res.status(reply.status);
  if (reply.headers) res.set(reply.headers);
  if (reply.kind === 'json') {
    res.json(reply.body);
    return;
  }
  if (reply.kind === 'empty') {
    res.end();
    return;
  }
  if (reply.kind === 'file') {
    if (req.method === 'HEAD') {
      await reply.handle.close();
      res.end();
      return;
    }
    await sendFile(res, reply.handle, reply.length);
    return;
  }
  if (reply.kind === 'events') {
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.flushHeaders();
    req.socket.setNoDelay(true);
    reply.attach(res);
    await finished(res).catch((err: unknown) => warnUnlessGone(err, res, deps));
    return;
  }
  const body = reply.body instanceof Readable ? reply.body : Readable.from(reply.body, { objectMode: false });
  if (req.method === 'HEAD') {
    body.destroy();
    res.end();
    return;
  }
  res.flushHeaders();
  req.socket.setNoDelay(true);
  await pipeline(body, res).catch((err: unknown) => warnUnlessGone(err, res, deps));
}

/** The client going away mid-stream is normal; anything else is worth a line. */
function warnUnlessGone(err: unknown, res: Response, deps: AppDeps): void {
  if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
    deps.logger.warn('response stream failed', { request_id: requestIdOf(res), error: err });
  }
}

const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The Allow header of a path: its methods, HEAD with GET, and OPTIONS (answered by CORS). */
const allowHeader = (methods: Set<string>): string => {
  const all = new Set([...methods].map((m) => m.toUpperCase()));
  if (all.has('GET')) all.add('HEAD');
  all.add('OPTIONS');
  return METHOD_ORDER.filter((m) => all.has(m)).join(', ');
};

/**
 * Mounts the routes under `prefix`. After them, each known path answers other methods with 405
 * and an Allow header (an unknown path falls through to the 404 handler).
 *
 * For a route that needs a caller, the order is: authentication (401 before anything about the
 * request is revealed), validation (422), the route's rate limit (429; invalid requests are not
 * counted), then the handler.
 */
export function mountRoutes(
  app: Express,
  routes: Route[],
  prefix: string,
  deps: AppServices,
  guards: RouteGuards,
): void {
  const methodsByPath = new Map<string, Set<string>>();
  for (const route of routes) {
    const path = `${prefix}${route.path}`;
    const wildcardAt = segmentsBeforeWildcard(path);
    methodsByPath.set(path, (methodsByPath.get(path) ?? new Set()).add(route.method));
    app[route.method](path, async (req: Request, res: Response) => {
      const context = (): PublicContext => {
        const { body, query, upload } = validate(route, req);
        return {
          deps,
          params: flattenParams(req.params),
          // req.path is the path as sent (not decoded); a %2F inside a segment stays in its segment.
          rawWildcard: wildcardAt === undefined ? undefined : req.path.split('/').slice(wildcardAt).join('/'),
          query,
          body,
          headers: req.headers,
          connection: { ...requestOriginOf(req), ip: req.ip ?? '', secure: req.secure },
          signal: abortSignalFor(res, deps.shutdownSignal),
          upload,
        };
      };
      let reply: Reply;
      if (route.access === 'user') {
        const principal = await guards.authenticate(requestOriginOf(req));
        res.locals[PRINCIPAL_KEY] = principal;
        const ctx = context();
        if (route.rateLimit) await guards.rateLimits[route.rateLimit](principal);
        reply = await route.handler({ ...ctx, principal });
      } else {
        reply = await route.handler(context());
      }
      await send(req, res, reply, deps);
    });
  }
  for (const [path, methods] of methodsByPath) {
    app.all(path, (_req, _res, next) =>
      next(new HttpError(405, 'Method Not Allowed', { Allow: allowHeader(methods) })),
    );
  }
}
