import { OpenAPIRegistry, OpenApiGeneratorV3, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { ERROR_KINDS, ErrorResponse, z, type ErrorStatus } from '@cwo/contracts';
import { openApiPath, pathParams, type Route } from './http/route';

// The OpenAPI document, generated from the route table and the contracts' zod schemas: the same
// schemas validate requests, type the handlers and document the API.

type OpenApiDocument = ReturnType<OpenApiGeneratorV3['generateDocument']>;

const PARAM_DOCS: Record<string, z.ZodType> = {
  projectId: z.string().openapi({ format: 'uuid', description: 'Project id' }),
  jobId: z.string().openapi({ format: 'uuid', description: 'Job id' }),
  path: z.string().openapi({ description: 'Workspace-relative file path, e.g. `src/app.py` or `.codex/result.json`' }),
};

function paramsSchema(path: string): z.ZodObject | undefined {
  const names = pathParams(path);
  if (names.length === 0) return undefined;
  return z.object(Object.fromEntries(names.map((n) => [n, PARAM_DOCS[n] ?? z.string()])));
}

function responsesOf(route: Route, implicitErrors: ErrorStatus[]): RouteConfig['responses'] {
  const responses: RouteConfig['responses'] = {};
  for (const [status, doc] of Object.entries(route.doc.responses)) {
    if (!doc) continue;
    const content: Record<string, { schema: z.ZodType | { type: 'string'; format?: string } }> = {};
    if (doc.schema) content['application/json'] = { schema: doc.schema };
    for (const media of Object.keys(doc.media ?? {})) {
      content[media] = { schema: { type: 'string', ...(media === 'application/octet-stream' ? { format: 'binary' } : {}) } };
    }
    responses[status] = {
      description: [doc.description, ...Object.entries(doc.media ?? {}).map(([m, d]) => `${m}: ${d}`)].join('. '),
      ...(Object.keys(content).length ? { content } : {}),
      ...(doc.headers
        ? { headers: Object.fromEntries(Object.entries(doc.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) }
        : {}),
    };
  }
  for (const status of [...route.doc.errors, ...implicitErrors]) {
    responses[status] ??= { description: ERROR_KINDS[status].message, content: { 'application/json': { schema: ErrorResponse } } };
  }
  return responses;
}

function register(registry: OpenAPIRegistry, route: Route, prefix: string, implicitErrors: ErrorStatus[]): void {
  const path = `${prefix}${route.path}`;
  const params = paramsSchema(path);
  registry.registerPath({
    method: route.method,
    path: openApiPath(path),
    summary: route.doc.summary,
    ...(route.doc.description ? { description: route.doc.description } : {}),
    tags: [route.doc.tag],
    ...(route.doc.deprecated ? { deprecated: true } : {}),
    request: {
      ...(params ? { params } : {}),
      ...(route.query ? { query: route.query as z.ZodObject } : {}),
      ...(route.body ? { body: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
    },
    responses: responsesOf(route, implicitErrors),
  });
}

export function buildOpenApiDocument(routes: { root: Route[]; api: Route[] }, apiPrefix: string): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.register('ErrorResponse', ErrorResponse);
  // Any route can fail unexpectedly (500); every API route needs Postgres (503 when it is down).
  for (const route of routes.root) register(registry, route, '', [500]);
  for (const route of routes.api) register(registry, route, apiPrefix, [500, 503]);
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
