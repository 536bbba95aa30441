import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { jsonOf, listen, rawRequest } from '../../test/http';
import { apiRoutes } from '../routes';
import type { Route } from './route';

// What a client can send that is not a valid request: text Postgres cannot store, bodies that are
// not JSON or not an object, bodies that cannot be decompressed or decoded. Each is an answer in
// the standard error shape that says what to change, never a 500 and never a silent change.

const INSTRUCTION = 'Generate a minimal Python CLI that prints the first 10 Fibonacci numbers.';

describe('request bodies and queries', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof listen>>;
  let projectId: string;
  let jobId: string;
  beforeAll(async () => {
    h = await startHarness();
    server = await listen(h.app);
    const res = await request(h.app).post('/api/v1/projects').send({ instruction: INSTRUCTION }).expect(202);
    projectId = res.body.id;
    jobId = res.body.job.id;
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  /** Bytes exactly as given (supertest would serialise a Buffer sent as JSON). */
  const postRaw = (body: Buffer | string, headers: Record<string, string>) =>
    rawRequest(server.port, '/api/v1/projects', { method: 'POST', headers, body });

  const rows = async () => ({ projects: await h.db.project.count(), jobs: await h.db.job.count() });
  const pathOf = (route: Route) =>
    `/api/v1${route.path.replace(':projectId', projectId).replace(':jobId', jobId).replace('*path', 'app.py')}`;
  const send = (route: Route, path = pathOf(route)) =>
    route.method === 'post' ? request(h.app).post(path) : request(h.app)[route.method](path);

  describe('text Postgres cannot store', () => {
    const bodyRoutes = apiRoutes.filter((r) => r.body);
    const queryRoutes = apiRoutes.filter((r) => r.query);

    it('covers every route with a body or a query', () => {
      expect(bodyRoutes.map((r) => r.path)).toEqual(
        expect.arrayContaining(['/projects', '/projects/:projectId/jobs', '/:projectId/jobs']),
      );
      expect(queryRoutes.length).toBeGreaterThanOrEqual(3);
    });

    it.each([
      [
        'a NUL character',
        '"hello \\u0000 world"',
        'string_null_character',
        'String should not contain the NUL character (\\u0000)',
      ],
      [
        'a lone high surrogate',
        '"hello \\ud800 world"',
        'string_unicode',
        'Input should be valid Unicode text: it contains an unpaired surrogate (\\ud800)',
      ],
      [
        'a lone low surrogate',
        '"hello \\udc01 world"',
        'string_unicode',
        'Input should be valid Unicode text: it contains an unpaired surrogate (\\udc01)',
      ],
    ])('422 naming the field for %s in any body, and nothing is stored', async (_label, json, type, msg) => {
      const before = await rows();
      for (const route of bodyRoutes) {
        const res = await send(route)
          .set('Content-Type', 'application/json')
          .send(`{"job_type":"edit","instruction":${json}}`)
          .expect(422);
        // Routes whose body has no instruction (POST /webhooks, /push) also list the fields it
        // lacks, and, where the body is strict (/push), the keys it does not know; PATCH
        // /projects/{id}, that it names none of its fields.
        const lacking = (res.body.detail as Array<{ type: string; loc: string[] }>).slice(1);
        const nothingToChange = (issue: { type: string; loc: string[] }) =>
          route.method === 'patch' && issue.type === 'value_error' && issue.loc.join('.') === 'body';
        expect(
          lacking.every(
            (issue) => issue.type === 'missing' || issue.type === 'unrecognized_keys' || nothingToChange(issue),
          ),
        ).toBe(true);
        expect(res.body).toEqual({
          error: 'validation_error',
          message: 'Validation failed',
          code: 422,
          detail: [{ loc: ['body', 'instruction'], msg, type }, ...lacking],
          correlation_id: res.headers['x-request-id'],
        });
      }
      expect(await rows()).toEqual(before);
    });

    it('a well-formed pair of surrogates (an emoji) is text like any other', async () => {
      const res = await request(h.app)
        .post('/api/v1/projects')
        .set('Content-Type', 'application/json')
        .send('{"instruction":"a rocket \\ud83d\\ude80 CLI"}')
        .expect(202);
      expect(res.body.instruction).toBe('a rocket \u{1F680} CLI');
      const row = await h.db.project.findUniqueOrThrow({ where: { id: res.body.id } });
      expect(row.instruction).toBe('a rocket \u{1F680} CLI');
    });

    it('names the field wherever it is, listed with the other problems of the request', async () => {
      const res = await request(h.app)
        .post(`/api/v1/projects/${projectId}/jobs`)
        .set('Content-Type', 'application/json')
        .send('{"job_type":"rebuild","instruction":"ok","extra":{"notes":["fine","bad \\u0000"]}}')
        .expect(422);
      expect(res.body.detail).toEqual([
        {
          loc: ['body', 'extra', 'notes', 1],
          msg: 'String should not contain the NUL character (\\u0000)',
          type: 'string_null_character',
        },
        { loc: ['body', 'job_type'], msg: "Input should be 'initial_project' or 'edit'", type: 'enum' },
      ]);
    });

    it('422 naming the parameter for a NUL in any query parameter', async () => {
      for (const route of queryRoutes) {
        const names = Object.keys((route.query as unknown as { shape: Record<string, unknown> }).shape);
        for (const name of names) {
          const res = await send(route, `${pathOf(route)}?${name}=1%00`).expect(422);
          expect(res.body.detail).toEqual([
            {
              loc: ['query', name],
              msg: 'String should not contain the NUL character (\\u0000)',
              type: 'string_null_character',
            },
          ]);
        }
      }
    });

    it('a deeply nested body is checked without overflowing the stack', async () => {
      const depth = 200_000;
      const body = `{"instruction":"${'x'.repeat(10)}","deep":${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}}`;
      const res = await request(h.app).post('/api/v1/projects').set('Content-Type', 'application/json').send(body);
      // Rejected either way: what matters is a 4xx in the standard shape, not a 500.
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.code).toBe(res.status);
    });
  });

  describe('bodies that are not JSON objects', () => {
    it.each([
      ['text/plain', 'hello'],
      ['application/x-www-form-urlencoded', 'instruction=hello+world'], // what `curl -d` sends
      // (multipart/form-data is how an archive is uploaded to POST /projects: handlers/project-sources.test.ts)
    ])('415 for a %s body, saying that JSON is expected', async (type, body) => {
      const res = await request(h.app).post('/api/v1/projects').set('Content-Type', type).send(body).expect(415);
      expect(res.body).toEqual({
        error: 'unsupported_media_type',
        message: 'Unsupported media type',
        code: 415,
        detail: `Content-Type: application/json is expected, got ${type.split(';')[0]}: send the body as JSON`,
        correlation_id: res.headers['x-request-id'],
      });
    });

    it('a JSON body without a Content-Type is still read as JSON', async () => {
      const res = await postRaw(JSON.stringify({ instruction: INSTRUCTION }), {});
      expect(res.status).toBe(202);
    });

    it.each([['"a string"'], ['42'], ['null'], ['true'], ['[1, 2]']])(
      '422 at body for JSON that is not an object: %s',
      async (json) => {
        const res = await request(h.app)
          .post('/api/v1/projects')
          .set('Content-Type', 'application/json')
          .send(json)
          .expect(422);
        expect(res.body.detail).toEqual([
          {
            loc: ['body'],
            msg: 'Input should be a valid dictionary or object to extract fields from',
            type: 'model_attributes_type',
          },
        ]);
      },
    );
  });

  describe('bodies that cannot be read', () => {
    it('a gzip body is read; a broken one is a 400 that says so in words', async () => {
      const gzip = { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' };
      const good = gzipSync(JSON.stringify({ instruction: INSTRUCTION }));
      expect((await postRaw(good, gzip)).status).toBe(202);
      for (const broken of [Buffer.from('not gzip at all'), good.subarray(0, good.length - 12)]) {
        const res = await postRaw(broken, gzip);
        expect(res.status).toBe(400);
        expect(jsonOf(res)).toMatchObject({
          error: 'bad_request',
          detail: 'Request body could not be decompressed: it is not valid gzip data (Content-Encoding: gzip)',
        });
      }
    });

    it('415 for a Content-Encoding the API does not read', async () => {
      const res = await request(h.app)
        .post('/api/v1/projects')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'compress')
        .send('{}')
        .expect(415);
      expect(res.body.detail).toBe(
        'Content-Encoding "compress" is not supported: send the body uncompressed, or as gzip, deflate or br',
      );
    });

    it('400 for bytes that are not UTF-8, instead of replacing them with U+FFFD', async () => {
      const before = await rows();
      const body = Buffer.concat([Buffer.from('{"instruction":"caf'), Buffer.from([0xe9]), Buffer.from(' au lait"}')]);
      const res = await postRaw(body, { 'Content-Type': 'application/json' });
      expect(res.status).toBe(400);
      expect(jsonOf(res)).toMatchObject({ detail: 'Request body is not valid UTF-8: send JSON encoded as UTF-8' });
      expect(await rows()).toEqual(before);
    });
  });
});
