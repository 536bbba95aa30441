import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import { ErrorResponse } from '@cwo/contracts';
import { projectWorkspace } from '@cwo/workspace';
import { requestsFor, type FuzzRequest, type KnownIds, type OpenApiDocument } from '../test/fuzz-requests';
import { startHarness, type Harness } from '../test/harness';
import { listen } from '../test/http';

// Bad input at scale: thousands of requests generated from the OpenAPI document (wrong types,
// huge and empty values, odd unicode, NUL, malformed JSON, wrong content types and methods,
// random path segments and query strings). None may get a 5xx or take the process down, and
// every error is in the standard shape. FUZZ_RUNS raises the count (default 2,000).

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
/** A streamed answer (SSE, a raw file) counts once its head has arrived. */
const STREAM_WAIT_MS = 300;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function send(port: number, req: FuzzRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: '127.0.0.1',
        port,
        path: req.path,
        method: req.method,
        headers: { ...req.headers, ...(req.body ? { 'content-length': String(req.body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        const streaming = /event-stream|octet-stream/.test(String(res.headers['content-type']));
        const cut = streaming ? setTimeout(() => res.destroy(), STREAM_WAIT_MS) : undefined;
        res.on('data', (c: Buffer) => chunks.push(c));
        const done = () => {
          clearTimeout(cut);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    outgoing.setTimeout(15_000, () => outgoing.destroy(new Error(`no answer within 15 s: ${req.method} ${req.path}`)));
    // A server that refuses a huge body may close before it was all sent: its answer still counts.
    outgoing.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? undefined : reject(err)));
    outgoing.end(req.body);
  });
}

describe('fuzzing every route', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof listen>>;
  let doc: OpenApiDocument;
  let known: KnownIds;

  beforeAll(async () => {
    h = await startHarness();
    server = await listen(h.app);
    doc = (await request(h.app).get('/openapi.json').expect(200)).body as OpenApiDocument;
    const created = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'fuzz target project' })
      .expect(202);
    // Files as a finished job leaves them, so that reads reach real files (a link out included).
    const workspace = projectWorkspace(h.config.workspaceRoot, created.body.id);
    fs.mkdirSync(path.join(workspace, 'src'), { recursive: true });
    fs.writeFileSync(path.join(workspace, 'app.py'), 'print("hi")\n');
    fs.writeFileSync(path.join(workspace, 'src', 'data.bin'), Buffer.from([0, 1, 2, 255]));
    fs.symlinkSync('/etc/passwd', path.join(workspace, 'escape'));
    const doomed = await request(h.app)
      .post('/api/v1/projects')
      .send({ instruction: 'fuzz project to delete' })
      .expect(202);
    known = {
      doomedProjectId: doomed.body.id,
      projectId: created.body.id,
      jobId: created.body.job.id,
      filePaths: ['app.py', 'src/data.bin', 'escape', 'missing.txt', '.codex', 'src'],
    };
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it(`${RUNS} generated requests: no 5xx, every error in the standard shape, the app still up`, async () => {
    const seen = { requests: 0, byStatus: new Map<number, number>(), serverErrors: [] as string[] };
    await fc.assert(
      fc.asyncProperty(requestsFor(doc, known), async (req) => {
        const res = await send(server.port, req);
        seen.requests++;
        seen.byStatus.set(res.status, (seen.byStatus.get(res.status) ?? 0) + 1);
        const what = `${req.method} ${req.path.slice(0, 200)} -> ${res.status}`;
        if (res.status >= 500) {
          seen.serverErrors.push(what);
          throw new Error(`${what}: ${res.body.toString('utf8').slice(0, 300)}`);
        }
        if (res.status >= 400 && req.method !== 'HEAD') {
          expect({ what, type: res.headers['content-type'] }).toEqual({
            what,
            type: expect.stringMatching(/^application\/json/),
          });
          const body = ErrorResponse.safeParse(JSON.parse(res.body.toString('utf8')));
          expect({ what, shape: body.success }).toEqual({ what, shape: true });
          expect(body.data!.code).toBe(res.status);
          expect(body.data!.correlation_id).toBe(res.headers['x-request-id']);
        }
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: 240_000, markInterruptAsFailure: false },
    );
    const statuses = [...seen.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
    console.log(
      `fuzz: ${seen.requests} requests, 5xx: ${seen.serverErrors.length} (by status: ${statuses.join(', ')})`,
    );
    expect(seen.requests).toBeGreaterThanOrEqual(Math.min(RUNS, 1000));
    await request(h.app).get('/healthz').expect(200);
    await request(h.app).get(`/api/v1/projects/${known.projectId}`).expect(200);
  }, 300_000);
});
