import fs from 'node:fs';
import request from 'supertest';
import { startHarness, type Harness } from '../test/harness';
import { apiRoutes } from './routes';

// GET and DELETE /api/v1/{id}: the project by id without /projects/. One path segment, so they
// must never take a fixed path of the API (/projects, /webhooks, ...) nor its 405s.

const INSTRUCTION = 'A Python CLI that prints the first 10 Fibonacci numbers';
const NOT_FOUND = { error: 'not_found', message: 'Not found', code: 404, detail: 'Project not found' };

describe('the short forms GET and DELETE /api/v1/{id}', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const create = async () =>
    (await request(h.app).post('/api/v1/projects').send({ instruction: INSTRUCTION }).expect(202)).body as {
      id: string;
      workspace_path: string;
      job: { id: string };
    };

  it('GET /{id} answers exactly as GET /projects/{id}', async () => {
    const { id, job } = await create();
    const short = await request(h.app).get(`/api/v1/${id}`).expect(200);
    const long = await request(h.app).get(`/api/v1/projects/${id}`).expect(200);
    expect(short.body).toEqual(long.body);
    expect(short.body.jobs.map((j: { id: string }) => j.id)).toEqual([job.id]);
  });

  it('DELETE /{id} deletes the project, its rows and its workspace; then it is 404 on both forms', async () => {
    const { id, workspace_path } = await create();
    await request(h.app).delete(`/api/v1/${id}`).expect(204);
    expect(await h.db.project.findUnique({ where: { id } })).toBeNull();
    expect(fs.existsSync(workspace_path)).toBe(false);
    for (const path of [`/api/v1/${id}`, `/api/v1/projects/${id}`]) {
      expect((await request(h.app).get(path).expect(404)).body).toMatchObject(NOT_FOUND);
    }
    expect((await request(h.app).delete(`/api/v1/${id}`).expect(404)).body).toMatchObject(NOT_FOUND);
  });

  it('404 "Project not found" in the standard shape for an unknown id and for one that is not a uuid', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '1']) {
      for (const method of ['get', 'delete'] as const) {
        const res = await request(h.app)[method](`/api/v1/${id}`).expect(404);
        expect(res.body).toMatchObject(NOT_FOUND);
        expect(res.body.correlation_id).toBe(res.headers['x-request-id']);
      }
    }
  });

  it('405 with its Allow header for another method on /{id}', async () => {
    const { id } = await create();
    for (const method of ['post', 'put', 'patch'] as const) {
      const res = await request(h.app)[method](`/api/v1/${id}`).send({}).expect(405);
      expect(res.body).toMatchObject({ error: 'method_not_allowed', code: 405 });
      expect(res.headers.allow).toBe('GET, HEAD, DELETE, OPTIONS');
    }
    await request(h.app).get(`/api/v1/${id}`).expect(200);
  });

  // Every one-segment fixed path of the route table (/projects, /webhooks, and any added later).
  const fixedPaths = [...new Set(apiRoutes.map((r) => r.path).filter((p) => /^\/[^/:*]+$/.test(p)))];

  it('the fixed paths are what this test walks: /projects and /webhooks at least', () => {
    expect(fixedPaths).toEqual(expect.arrayContaining(['/projects', '/webhooks']));
  });

  it.each(fixedPaths)('%s keeps its own methods and its 405s (never taken for a project id)', async (path) => {
    const own = new Set(apiRoutes.filter((r) => r.path === path).map((r) => r.method));
    for (const method of ['get', 'delete'] as const) {
      const res = await request(h.app)[method](`/api/v1${path}`);
      if (own.has(method)) {
        expect([method, res.status]).toEqual([method, 200]);
      } else {
        expect([method, res.status, res.body.error]).toEqual([method, 405, 'method_not_allowed']);
        expect(res.headers.allow).not.toMatch(/DELETE/);
      }
      expect(res.body.detail).not.toBe('Project not found');
    }
  });

  it('GET /projects still lists projects, and DELETE /projects is a 405 that deletes nothing', async () => {
    const { id } = await create();
    const list = await request(h.app).get('/api/v1/projects').expect(200);
    expect(list.body.items.map((p: { id: string }) => p.id)).toContain(id);
    const removal = await request(h.app).delete('/api/v1/projects').expect(405);
    expect(removal.headers.allow).toBe('GET, HEAD, POST, OPTIONS');
    await request(h.app).get(`/api/v1/${id}`).expect(200);
    const hooks = await request(h.app).get('/api/v1/webhooks').expect(200);
    expect(hooks.body).toHaveProperty('items');
    expect((await request(h.app).delete('/api/v1/webhooks').expect(405)).headers.allow).toBe(
      'GET, HEAD, POST, OPTIONS',
    );
  });
});
