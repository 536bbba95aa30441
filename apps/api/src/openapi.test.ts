import request from 'supertest';
import { startHarness, type Harness } from '../test/harness';
import { openApiPath } from './http/route';
import { apiRoutes, rootRoutes } from './routes';

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
      ...apiRoutes.map((r) => [r.method, openApiPath(`/api/v1${r.path}`)]),
    ];
    for (const [method, path] of expected) expect(doc.paths[path!]?.[method!]).toBeDefined();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/projects',
        '/api/v1/projects/{projectId}/files/{path}',
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
  });

  it('serves Swagger UI at /docs, with its assets (no CDN)', async () => {
    const page = await request(h.app).get('/docs/').expect(200);
    expect(page.text).toContain('swagger-ui');
    await request(h.app).get('/docs/swagger-ui-bundle.js').expect(200);
  });
});

describe('Bull Board', () => {
  it('is absent unless BULL_BOARD_ENABLED=true', async () => {
    const off = await startHarness();
    try {
      await request(off.app).get('/admin/queues').expect(404);
    } finally {
      await off.close();
    }
    const on = await startHarness({ BULL_BOARD_ENABLED: 'true' });
    try {
      const page = await request(on.app).get('/admin/queues').expect(200);
      expect(page.text.toLowerCase()).toContain('<html');
      const queues = await request(on.app).get('/admin/queues/api/queues').expect(200);
      expect(JSON.stringify(queues.body)).toContain('jobs');
    } finally {
      await on.close();
    }
  });
});
