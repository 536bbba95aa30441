import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { ERROR_KINDS, ErrorResponse, WebhookPayload, z, type ErrorStatus } from '@cwo/contracts';
import { NOT_AN_ADMIN_KEY } from './auth/admin-access';
import { requireSameOrigin } from './auth/same-origin';
import { SESSION_COOKIE } from './auth/session-cookie';
import type { HttpError } from './http/errors';
import { openApiPath, pathParams, type Route } from './http/route';
import { toValidationIssues } from './http/validation';

// The OpenAPI document, generated from the route table and the contracts' zod schemas: the same
// schemas validate requests, type the handlers and document the API.

type OpenApiDocument = ReturnType<OpenApiGeneratorV3['generateDocument']>;

const PARAM_DOCS: Record<string, z.ZodType> = {
  projectId: z.string().openapi({ format: 'uuid', description: 'Project id' }),
  jobId: z.string().openapi({ format: 'uuid', description: 'Job id' }),
  webhookId: z.string().openapi({ format: 'uuid', description: 'Webhook endpoint id' }),
  deliveryId: z.string().openapi({ format: 'uuid', description: 'Delivery id' }),
  path: z.string().openapi({ description: 'Workspace-relative file path, e.g. `src/app.py` or `.codex/result.json`' }),
};

function paramsSchema(path: string): z.ZodObject | undefined {
  const names = pathParams(path);
  if (names.length === 0) return undefined;
  return z.object(Object.fromEntries(names.map((n) => [n, PARAM_DOCS[n] ?? z.string()])));
}

/** Errors the adapter adds to routes (authentication, rate limits), described once here. */
const ERROR_DOCS: Partial<Record<ErrorStatus, { description: string; headers?: Record<string, string> }>> = {
  401: {
    description: 'No API key or session, or a malformed, unknown or revoked key, or an ended session',
    headers: { 'WWW-Authenticate': 'How to authenticate: Bearer (Basic on the admin routes)' },
  },
  403: {
    description:
      'Cross-site request refused: a write made with the session cookie without an Origin (or Referer) of the ' +
      'API\u2019s own origin (bearer keys are not checked)',
  },
  429: {
    description: 'Too many requests: the creation rate limit or the active-job cap (the detail says which)',
    headers: { 'Retry-After': 'Seconds to wait before trying again' },
  },
};

const headersDoc = (headers: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' as const } }]),
  );

function responsesOf(route: Route, implicitErrors: ErrorStatus[]): RouteConfig['responses'] {
  const responses: RouteConfig['responses'] = {};
  for (const [status, doc] of Object.entries(route.doc.responses)) {
    if (!doc) continue;
    const content: Record<string, { schema: z.ZodType | { type: 'string'; format?: string } }> = {};
    if (doc.schema) content['application/json'] = { schema: doc.schema };
    for (const media of Object.keys(doc.media ?? {})) {
      content[media] = {
        schema: { type: 'string', ...(media === 'application/octet-stream' ? { format: 'binary' } : {}) },
      };
    }
    responses[status] = {
      description: [doc.description, ...Object.entries(doc.media ?? {}).map(([m, d]) => `${m}: ${d}`)].join('. '),
      ...(Object.keys(content).length ? { content } : {}),
      ...(doc.headers ? { headers: headersDoc(doc.headers) } : {}),
    };
  }
  for (const status of [...route.doc.errors, ...implicitErrors]) {
    responses[status] ??= errorResponse(status, undefined, route);
  }
  return responses;
}

/** The Origin check's own refusal, for a page of another site writing with the cookie. */
function crossSiteDetail(): string {
  try {
    requireSameOrigin({
      method: 'POST',
      headers: { origin: 'https://elsewhere.example' },
      ownOrigin: 'http://localhost:8000',
    });
  } catch (err) {
    return (err as HttpError).detail as string;
  }
  throw new Error('the Origin check let a cross-site write through');
}

/** A detail each status really answers with (the handlers' and the error handler's own words). */
const EXAMPLE_DETAILS: Record<ErrorStatus, ErrorResponse['detail'] | undefined> = {
  400: 'Invalid path',
  401: 'Missing API key: send the header "Authorization: Bearer <key>"',
  // The route table's only 403 (Bull Board's admin-key refusal is documented with it).
  403: crossSiteDetail(),
  404: 'Project not found',
  405: 'Method Not Allowed',
  409: 'Job already finished (status completed)',
  413: 'Request body is larger than 1 MiB',
  415: 'Content-Type: application/json is expected, got text/plain: send the body as JSON',
  422: [{ loc: ['body', 'instruction'], msg: 'Field required', type: 'missing' }],
  429: 'Rate limit reached: at most 30 projects and jobs may be created per 60 s per API key',
  500: undefined,
  502: "The push failed: git push failed: fatal: Authentication failed for 'https://git.example.com/org/tool.git/'",
  503: 'Database unavailable',
  // Answered by preview origins only, which are not API routes.
  504: 'The preview server did not start its answer within 60 s (PREVIEW_PROXY_TIMEOUT_SECONDS)',
};

/** What the route's own validation answers for a typical mistake: a missing body field, a typo in the query. */
function validationExample(route: Route | undefined): ErrorResponse['detail'] {
  const run = (schema: z.ZodType, input: Record<string, unknown>, where: 'body' | 'query') => {
    const result = schema.safeParse(input);
    return result.success ? [] : toValidationIssues(result.error.issues, input, where);
  };
  const issues = [
    ...(route?.body ? run(route.body, {}, 'body') : []),
    ...(route?.query
      ? run(route.query, { [Object.keys((route.query as unknown as z.ZodObject).shape)[0] ?? 'x']: 'x' }, 'query')
      : []),
  ];
  return issues.length ? issues : EXAMPLE_DETAILS[422];
}

function errorExample(status: ErrorStatus, route?: Route, exampleDetail?: string): ErrorResponse {
  const detail = exampleDetail ?? (status === 422 ? validationExample(route) : EXAMPLE_DETAILS[status]);
  return {
    ...ERROR_KINDS[status],
    code: status,
    ...(detail !== undefined ? { detail } : {}),
    correlation_id: '6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f',
  };
}

function errorResponse(status: ErrorStatus, description?: string, route?: Route, exampleDetail?: string) {
  const extra = ERROR_DOCS[status];
  return {
    description: description ?? extra?.description ?? ERROR_KINDS[status].message,
    ...(extra?.headers ? { headers: headersDoc(extra.headers) } : {}),
    content: { 'application/json': { schema: ErrorResponse, example: errorExample(status, route, exampleDetail) } },
  };
}

export const BEARER_SCHEME = 'bearerAuth';
/** The web app's session (POST /session): any one of the two schemes authenticates. */
export const SESSION_SCHEME = 'sessionCookie';
export const ADMIN_BASIC_SCHEME = 'adminBasic';

export interface OpenApiOptions {
  /** api_key (the default): API routes document the bearer scheme and their 401. */
  authMode?: 'api_key' | 'none';
  /** Bull Board's path and how admins authenticate there, when it is mounted. */
  adminBoard?: { path: string; basic: boolean; keys: boolean };
}

function register(
  registry: OpenAPIRegistry,
  route: Route,
  prefix: string,
  implicitErrors: ErrorStatus[],
  keys: boolean,
): void {
  const path = `${prefix}${route.path}`;
  const params = paramsSchema(path);
  const secured = keys && route.access === 'user';
  const errors: ErrorStatus[] = [
    ...(secured ? [401 as const] : []),
    // Made with the session cookie from another origin (auth/same-origin.ts).
    ...(secured && route.method !== 'get' ? [403 as const] : []),
    ...(route.access === 'user' && route.rateLimit ? [429 as const] : []),
    // Any route with a body: not JSON (415), malformed or not UTF-8 (400), too large (413), invalid (422).
    ...(route.body ? [400 as const, 413 as const, 415 as const, 422 as const] : []),
    ...implicitErrors,
  ];
  registry.registerPath({
    method: route.method,
    path: openApiPath(path),
    summary: route.doc.summary,
    ...(route.doc.description ? { description: route.doc.description } : {}),
    tags: [route.doc.tag],
    ...(route.doc.deprecated ? { deprecated: true } : {}),
    ...(secured ? { security: [{ [BEARER_SCHEME]: [] }, { [SESSION_SCHEME]: [] }] } : {}),
    request: {
      ...(params ? { params } : {}),
      ...(route.query ? { query: route.query as z.ZodObject } : {}),
      ...(route.body
        ? {
            body: {
              required: true,
              content: {
                'application/json': { schema: route.body },
                ...Object.fromEntries(
                  Object.entries(route.uploads?.doc ?? {}).map(([media, schema]) => [
                    media,
                    { schema: schema as never },
                  ]),
                ),
              },
            },
          }
        : {}),
    },
    responses: responsesOf(route, errors),
  });
}

/** Bull Board is a UI, not a route of the table; documented so that its authentication is. */
function registerAdminBoard(registry: OpenAPIRegistry, board: NonNullable<OpenApiOptions['adminBoard']>): void {
  registry.registerPath({
    method: 'get',
    path: board.path,
    summary: `Bull Board: the jobs queue, for operators (${board.basic || board.keys ? 'admins only' : 'no login: AUTH_MODE=none on a loopback address'})`,
    tags: ['admin'],
    security: [
      ...(board.basic ? [{ [ADMIN_BASIC_SCHEME]: [] }] : []),
      ...(board.keys ? [{ [BEARER_SCHEME]: [] }] : []),
    ],
    responses: {
      200: { description: 'The Bull Board page', content: { 'text/html': { schema: { type: 'string' } } } },
      ...(board.basic || board.keys
        ? {
            401: errorResponse(401, 'No admin credentials, or wrong ones'),
            403: errorResponse(403, 'An API key that is not an admin key', undefined, NOT_AN_ADMIN_KEY),
          }
        : {}),
    },
  });
}

export function buildOpenApiDocument(
  routes: { root: Route[]; api: Route[] },
  apiPrefix: string,
  options: OpenApiOptions = {},
): OpenApiDocument {
  const keys = (options.authMode ?? 'api_key') === 'api_key';
  const registry = new OpenAPIRegistry();
  registry.register('ErrorResponse', ErrorResponse);
  // What a webhook receiver gets (OpenAPI 3.0 has no place for webhooks of their own: a component).
  registry.register('WebhookPayload', WebhookPayload);
  if (keys || options.adminBoard?.keys) {
    registry.registerComponent('securitySchemes', BEARER_SCHEME, {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'cwo_<8 characters>_<43 characters>',
      description: 'An API key (`pnpm admin create-key <user>`), sent as `Authorization: Bearer <key>`.',
    });
  }
  if (keys) {
    registry.registerComponent('securitySchemes', SESSION_SCHEME, {
      type: 'apiKey',
      in: 'cookie',
      name: SESSION_COOKIE,
      description:
        'The web app\u2019s session, from POST /session (HttpOnly, SameSite=Strict). POST and DELETE requests made with ' +
        'it must carry an Origin (or Referer) of the API\u2019s own origin.',
    });
  }
  if (options.adminBoard?.basic) {
    registry.registerComponent('securitySchemes', ADMIN_BASIC_SCHEME, {
      type: 'http',
      scheme: 'basic',
      description: 'ADMIN_USER and ADMIN_PASSWORD, for the admin routes only.',
    });
  }
  // Any route can fail unexpectedly (500); every API route needs Postgres (503 when it is down).
  for (const route of routes.root) register(registry, route, '', [500], keys);
  for (const route of routes.api) register(registry, route, apiPrefix, [500, 503], keys);
  if (options.adminBoard) registerAdminBoard(registry, options.adminBoard);
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'Codex Workspace Orchestrator API',
      version: '1.0.0',
      description:
        'Send an instruction; an AI coding agent builds (and later edits) a project in its own workspace. ' +
        'Writes answer 202 at once: poll the job, or follow its log. Errors share one shape (ErrorResponse).',
    },
  });
}
