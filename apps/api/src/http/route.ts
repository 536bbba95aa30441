import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { z } from 'zod';
import type { ErrorStatus } from '@cwo/contracts';
import type { Principal } from '../auth/accounts';
import type { RequestOrigin } from '../auth/same-origin';
import type { AppServices } from '../deps';
import type { Reply } from './reply';

// A route is data: method, path, the schemas its input must match, who may call it, the handler,
// and what the OpenAPI document says about it. The Express adapter and the OpenAPI generator both
// read it.

export type Method = 'get' | 'post' | 'patch' | 'delete';

/** What a public route's handler gets (the probes): no caller identity. */
export interface PublicContext<Body = unknown, Query = unknown> {
  deps: AppServices;
  /** Path parameters, percent-decoded (a wildcard's segments joined with "/"). */
  params: Record<string, string>;
  /** The wildcard part of the path exactly as sent, not decoded (file paths are checked raw). */
  rawWildcard: string | undefined;
  query: Query;
  body: Body;
  headers: IncomingHttpHeaders;
  /**
   * How the request reached this server: the client's address, whether it came over HTTPS, and
   * the server's own origin as the request named it (forwarded headers count only when
   * TRUST_PROXY trusts their sender).
   */
  connection: { ip: string; secure: boolean } & RequestOrigin;
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal;
  /**
   * A route with `uploads`: the request itself when its body is one of those media types (then
   * `body` is undefined and the handler reads the stream), else null.
   */
  upload: IncomingMessage | null;
}

/** What an authenticated route's handler gets: also who is calling (every query is scoped by it). */
export interface RequestContext<Body = unknown, Query = unknown> extends PublicContext<Body, Query> {
  principal: Principal;
}

export type Handler<Body = unknown, Query = unknown> = (ctx: RequestContext<Body, Query>) => Promise<Reply>;
export type PublicHandler<Body = unknown, Query = unknown> = (ctx: PublicContext<Body, Query>) => Promise<Reply>;

/** Named rate limits a route can be subject to (limits/creation-rate-limit.ts). */
export type RateLimitName = 'create';

export interface ResponseDoc {
  description: string;
  /** JSON body schema; omit for empty answers. */
  schema?: z.ZodType;
  /** Non-JSON answers (logs as text or SSE, raw files): media type -> description. */
  media?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  tag: string;
  responses: Partial<Record<number, ResponseDoc>>;
  /** Error statuses this route may answer with (ErrorResponse bodies). */
  errors: ErrorStatus[];
  /** Short forms (`/{id}/…`): kept for older clients, documented as deprecated aliases. */
  deprecated?: boolean;
}

interface RouteBase<Body, Query> {
  method: Method;
  /** Express 5 pattern: `:name` parameters, `*name` for a trailing wildcard. */
  path: string;
  body?: z.ZodType<Body>;
  query?: z.ZodType<Query>;
  /** Media types taken as a stream instead of JSON (`body` then validates JSON bodies only). */
  uploads?: {
    match: (mediaType: string) => boolean;
    /** Media type -> the OpenAPI schema of such a body (for the document). */
    doc: Record<string, Record<string, unknown>>;
  };
  doc: RouteDoc;
}

/** Needs an authenticated caller (AUTH_MODE=none: the implicit local user). */
export interface UserRoute<Body = unknown, Query = unknown> extends RouteBase<Body, Query> {
  access: 'user';
  handler: Handler<Body, Query>;
  /** Counted against this rate limit of the caller, after authentication and validation. */
  rateLimit?: RateLimitName;
}

/** Open to anyone (health probes). */
export interface PublicRoute<Body = unknown, Query = unknown> extends RouteBase<Body, Query> {
  access: 'public';
  handler: PublicHandler<Body, Query>;
}

export type Route = UserRoute | PublicRoute;

/**
 * An authenticated route (the default: a route is public only when declared with publicRoute).
 * Ties a handler's input types to the schemas that validate them.
 */
export function route<Body = unknown, Query = unknown>(r: Omit<UserRoute<Body, Query>, 'access'>): Route {
  return { ...r, access: 'user' } as unknown as Route;
}

/** A route anyone may call, without credentials. */
export function publicRoute<Body = unknown, Query = unknown>(r: Omit<PublicRoute<Body, Query>, 'access'>): Route {
  return { ...r, access: 'public' } as unknown as Route;
}

/** The same route under another path (the short forms), marked deprecated in the docs. */
export function alias(r: Route, path: string): Route {
  return { ...r, path, doc: { ...r.doc, deprecated: true, summary: `${r.doc.summary} (short form)` } };
}

/** `/projects/:projectId/files/*path` -> `/projects/{projectId}/files/{path}`. */
export function openApiPath(path: string): string {
  return path.replace(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** Names of the path parameters, in order; wildcards included. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}
