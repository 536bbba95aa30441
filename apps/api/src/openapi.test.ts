import request from 'supertest';
import { ERROR_CODES, ERROR_KINDS, WEBHOOK_EVENT_TYPES, type ErrorStatus } from '@cwo/contracts';
import { startHarness, type Harness } from '../test/harness';
import { createTenant } from '../test/tenants';
import { openApiPath } from './http/route';
import { apiRoutes, projectShortForms, rootRoutes } from './routes';

describe('OpenAPI document and docs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('lists every route of the table with its method, bodies and the ErrorResponse', async () => {
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body;
    expect(doc.openapi).toMatch(/^3\./);
    const expected = [
      ...rootRoutes.map((r) => [r.method, openApiPath(r.path)]),
      ...[...apiRoutes, ...projectShortForms].map((r) => [r.method, openApiPath(`/api/v1${r.path}`)]),
    ];
    for (const [method, path] of expected) expect(doc.paths[path!]?.[method!]).toBeDefined();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/projects',
        '/api/v1/projects/{projectId}/files/{path}',
        '/api/v1/{projectId}',
        '/api/v1/{projectId}/jobs',
        '/api/v1/{projectId}/files/{path}',
      ]),
    );
    const create = doc.paths['/api/v1/projects'].post;
    expect(create.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/ProjectCreate');
    expect(create.responses['202'].content['application/json'].schema.$ref).toBe('#/components/schemas/ProjectCreated');
    expect(create.responses['422'].content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponse');
    expect(doc.components.schemas.ErrorResponse.properties).toHaveProperty('correlation_id');
    expect(doc.paths['/api/v1/{projectId}/jobs'].post.deprecated).toBe(true);
    expect(doc.paths['/api/v1/{projectId}'].get.deprecated).toBe(true);
    expect(doc.paths['/api/v1/{projectId}'].delete.deprecated).toBe(true);
  });

  it('shows how jobs end and where they wait (the ErrorCode enum, QueuePosition), the webhook routes and payload', async () => {
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body;
    const schemas = doc.components.schemas;
    const nullableRef = (name: string) => ({ anyOf: [{ $ref: `#/components/schemas/${name}` }, { nullable: true }] });
    expect(schemas.ErrorCode).toMatchObject({ type: 'string', enum: ERROR_CODES });
    for (const code of ERROR_CODES) expect(schemas.ErrorCode.description).toContain(`\`${code}\``);
    expect(schemas.JobSummary.properties.error_code).toEqual(nullableRef('ErrorCode'));
    expect(schemas.WebhookJobData.properties.error_code).toEqual(nullableRef('ErrorCode'));
    const detail = schemas.JobDetail.allOf.find((part: { properties?: object }) => part.properties);
    expect(detail.properties.queue_position).toEqual(nullableRef('QueuePosition'));
    expect(schemas.QueuePosition.required.sort()).toEqual(['in_project', 'overall']);
    expect(Object.keys(schemas.WebhookJobData.properties)).toEqual(
      expect.arrayContaining(['error_code', 'usage', 'duration_seconds', 'diff_stats', 'errors', 'status']),
    );

    const routes = Object.entries<Record<string, unknown>>(doc.paths)
      .filter(([path]) => path.startsWith('/api/v1/webhooks'))
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(
      [
        'POST /api/v1/webhooks',
        'GET /api/v1/webhooks',
        'GET /api/v1/webhooks/{webhookId}',
        'DELETE /api/v1/webhooks/{webhookId}',
        'POST /api/v1/webhooks/{webhookId}/rotate-secret',
        'POST /api/v1/webhooks/{webhookId}/enable',
        'GET /api/v1/webhooks/{webhookId}/deliveries',
        'POST /api/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
      ].sort(),
    );
    expect(doc.paths['/api/v1/webhooks'].post.responses['201'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/WebhookWithSecret',
    );
    expect(schemas.WebhookEventType.enum).toEqual(WEBHOOK_EVENT_TYPES);
    expect(schemas.WebhookPayload.oneOf.map((o: any) => o.properties.type.enum[0])).toEqual(WEBHOOK_EVENT_TYPES);
  });

  it('gives each error status an example of its own, in the ErrorResponse shape', async () => {
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body;
    const seen = new Set<string>();
    for (const [path, operations] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(operations)) {
        for (const [status, response] of Object.entries<any>(op.responses)) {
          if (Number(status) < 400 || path === '/readyz') continue;
          const example = response.content['application/json'].example;
          expect([method, path, status, example?.code]).toEqual([method, path, status, Number(status)]);
          expect(example.error).toBe(ERROR_KINDS[Number(status) as ErrorStatus].error);
          seen.add(status);
        }
      }
    }
    // 401 and 403 too in AUTH_MODE=none: sign-in (POST /session) documents them in every mode.
    expect(seen).toEqual(new Set(['400', '401', '403', '404', '409', '413', '415', '422', '429', '500', '502', '503']));

    const create = doc.paths['/api/v1/projects'].post.responses;
    expect(create['422'].content['application/json'].example.detail).toEqual([
      { loc: ['body', 'instruction'], msg: 'Field required', type: 'missing' },
    ]);
    expect(create['415'].content['application/json'].example.detail).toMatch(/application\/json is expected/);
    const job = doc.paths['/api/v1/projects/{projectId}/jobs'].post.responses['422'];
    expect(job.content['application/json'].example.detail.map((i: { loc: string[] }) => i.loc)).toEqual([
      ['body', 'job_type'],
      ['body', 'instruction'],
    ]);
    const list = doc.paths['/api/v1/projects'].get.responses['422'];
    expect(list.content['application/json'].example.detail).toEqual([
      {
        loc: ['query', 'limit'],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        type: 'int_parsing',
      },
    ]);
    expect(doc.paths['/api/v1/projects'].get.responses['500'].content['application/json'].example).not.toHaveProperty(
      'detail',
    );
  });

  it('serves Swagger UI at /docs, with its assets (no CDN)', async () => {
    const page = await request(h.app).get('/docs/').expect(200);
    expect(page.text).toContain('swagger-ui');
    await request(h.app).get('/docs/swagger-ui-bundle.js').expect(200);
  });
});

describe('OpenAPI security', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      AUTH_MODE: 'api_key',
      BULL_BOARD_ENABLED: 'true',
      ADMIN_USER: 'operator',
      ADMIN_PASSWORD: 'long enough password',
    });
  });
  afterAll(() => h.close());

  it('documents the bearer scheme on every API operation, and none on the probes', async () => {
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body;
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const route of [...apiRoutes, ...projectShortForms]) {
      const op = doc.paths[openApiPath(`/api/v1${route.path}`)][route.method];
      expect([route.path, op.security]).toEqual([route.path, [{ bearerAuth: [] }, { sessionCookie: [] }]]);
      expect(op.responses['401'].content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponse');
    }
    for (const route of rootRoutes) expect(doc.paths[route.path][route.method].security).toBeUndefined();
  });

  it('documents the web app session: the cookie scheme, and sign-in and sign-out open to anyone', async () => {
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body;
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'cwo_session',
    });
    const session = doc.paths['/api/v1/session'];
    expect(session.post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/SessionCreate');
    expect(session.post.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/SessionInfo',
    );
    expect(Object.keys(session.post.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    expect([session.post.security, session.delete.security]).toEqual([undefined, undefined]);
    expect(session.get.security).toEqual([{ bearerAuth: [] }, { sessionCookie: [] }]);
    // What the cookie changes may be refused as cross-site.
    expect(doc.paths['/api/v1/projects'].post.responses['403']).toBeDefined();
    expect(doc.paths['/api/v1/projects'].get.responses['403']).toBeUndefined();
  });

  it('documents the 429 and its Retry-After on the creating operations only', async () => {
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body;
    expect(doc.paths['/api/v1/projects'].post.responses['429'].headers).toHaveProperty('Retry-After');
    expect(doc.paths['/api/v1/projects/{projectId}/jobs'].post.responses['429']).toBeDefined();
    expect(doc.paths['/api/v1/projects'].get.responses['429']).toBeUndefined();
  });

  it('documents Bull Board with basic auth or an admin key', async () => {
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body;
    expect(doc.components.securitySchemes.adminBasic).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(doc.paths['/admin/queues'].get.security).toEqual([{ adminBasic: [] }, { bearerAuth: [] }]);
  });

  it("gives the cookie's writes the 403 they really answer (cross-site), and Bull Board the admin-key one", async () => {
    const doc = (await request(h.app).get('/openapi.json').expect(200)).body;
    // What the API answers to a write made with the session cookie from another origin.
    const alice = await createTenant(h.db, 'openapi-403');
    const signIn = await request(h.app)
      .post('/api/v1/session')
      .set('Host', 'cwo.test')
      .set('Origin', 'http://cwo.test')
      .send({ api_key: alice.key });
    expect(signIn.status).toBe(200);
    const cookie = (signIn.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    const refused = await request(h.app)
      .post('/api/v1/projects')
      .set('Host', 'cwo.test')
      .set('Cookie', cookie)
      .set('Origin', 'https://elsewhere.example')
      .send({ instruction: 'A project from another site' });
    expect(refused.status).toBe(403);
    const answered = (refused.body.detail as string).replace(/https?:\/\/[^\s,;]+/g, '<origin>');

    const sessionProtected = [
      doc.paths['/api/v1/projects'].post,
      doc.paths['/api/v1/projects/{projectId}'].delete,
      doc.paths['/api/v1/projects/{projectId}/jobs'].post,
      doc.paths['/api/v1/session'].post,
      doc.paths['/api/v1/session'].delete,
    ];
    for (const op of sessionProtected) {
      const response = op.responses['403'];
      expect(response.description).toMatch(/cross-site/i);
      const example = response.content['application/json'].example;
      expect(example.detail.replace(/https?:\/\/[^\s,;]+/g, '<origin>')).toBe(answered);
    }
    const board = doc.paths['/admin/queues'].get.responses['403'];
    expect(board.content['application/json'].example.detail).toBe('This API key is not an admin key');
  });

  it('Swagger UI keeps what was entered under "Authorize" across reloads', async () => {
    const init = await request(h.app).get('/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toMatch(/"persistAuthorization":\s*true/);
  });

  it('AUTH_MODE=none documents no security: no key is needed', async () => {
    const none = await startHarness({ AUTH_MODE: 'none' });
    try {
      const doc = (await request(none.app).get('/openapi.json').expect(200)).body;
      expect(doc.components.securitySchemes).toBeUndefined();
      expect(doc.paths['/api/v1/projects'].get.security).toBeUndefined();
      expect(doc.paths['/api/v1/projects'].get.responses['401']).toBeUndefined();
    } finally {
      await none.close();
    }
  });
});
