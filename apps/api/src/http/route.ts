import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import type { ErrorStatus } from '@cwo/contracts';
import type { AppDeps } from '../deps';
import type { Reply } from './reply';

// A route is data: method, path, the schemas its input must match, the handler, and what the
// OpenAPI document says about it. The Express adapter and the OpenAPI generator both read it.

export type Method = 'get' | 'post' | 'delete';

export interface RequestContext<Body = unknown, Query = unknown> {
  deps: AppDeps;
  /** Path parameters, percent-decoded (a wildcard's segments joined with "/"). */
  params: Record<string, string>;
  /** The wildcard part of the path exactly as sent, not decoded (file paths are checked raw). */
  rawWildcard: string | undefined;
  query: Query;
  body: Body;
  headers: IncomingHttpHeaders;
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal;
}

export type Handler<Body = unknown, Query = unknown> = (ctx: RequestContext<Body, Query>) => Promise<Reply>;

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
  /** The seed's short forms: kept for its clients, documented as deprecated aliases. */
  deprecated?: boolean;
}

export interface Route<Body = unknown, Query = unknown> {
  method: Method;
  /** Express 5 pattern: `:name` parameters, `*name` for a trailing wildcard. */
  path: string;
  body?: z.ZodType<Body>;
  query?: z.ZodType<Query>;
  handler: Handler<Body, Query>;
  doc: RouteDoc;
}

/** Ties a handler's input types to the schemas that validate them. */
export function route<Body = unknown, Query = unknown>(r: Route<Body, Query>): Route {
  return r as unknown as Route;
}

/** The same route under another path (the seed's short forms), marked deprecated in the docs. */
export function alias(r: Route, path: string): Route {
  return { ...r, path, doc: { ...r.doc, deprecated: true, summary: `${r.doc.summary} (seed short form)` } };
}

/** `/projects/:projectId/files/*path` -> `/projects/{projectId}/files/{path}`. */
export function openApiPath(path: string): string {
  return path.replace(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** Names of the path parameters, in order; wildcards included. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}
