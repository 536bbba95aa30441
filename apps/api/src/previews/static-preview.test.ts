import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { createTenant, type Tenant } from '../../test/tenants';
import { workspaceOf } from '../workspace-dirs';
import { PREVIEW_CSP } from './preview-host';
import { signedLabel } from './preview-label';

// Static previews: a workspace served as a site on a host of its own, under the workspace's file
// policy, and in api_key mode only through a signed link (then its cookie).

const SECRET = 'a-preview-secret-of-the-tests-0123456789';
const BASE = 'http://{projectId}.preview.localhost:8000';
const hostOf = (projectId: string) => `${projectId}.preview.localhost:8000`;

async function createProject(h: Harness, auth: Record<string, string> = {}): Promise<string> {
  const res = await request(h.app)
    .post('/api/v1/projects')
    .set(auth)
    .send({ instruction: 'a snake game in the browser' });
  expect(res.status).toBe(202);
  return res.body.id as string;
}

function write(h: Harness, projectId: string, files: Record<string, string | Buffer>): string {
  const ws = workspaceOf(h.config, projectId);
  for (const [rel, contents] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    fs.writeFileSync(path.join(ws, rel), contents);
  }
  return ws;
}

describe('a static preview (AUTH_MODE=none)', () => {
  let h: Harness;
  let projectId: string;
  let ws: string;
  const get = (p: string) => request(h.app).get(p).set('Host', hostOf(projectId));

  beforeAll(async () => {
    h = await startHarness({ PREVIEW_BASE_URL: BASE });
    projectId = await createProject(h);
    ws = write(h, projectId, {
      'index.html': '<!doctype html><title>Snake</title><link rel="stylesheet" href="style.css">',
      'style.css': 'body { color: green }',
      'game.js': 'console.log("snake")',
      'docs/index.html': '<p>docs</p>',
      'data.bin': Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      'latin1.dat': Buffer.from('caf\xe9', 'latin1'),
      'long.py': `${'x'.repeat(8191)}é and more`,
      'notes.md': '# notes',
    });
    fs.mkdirSync(path.join(ws, '.codex'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.codex', 'request.json'), '{"instruction":"secret"}');
    fs.symlinkSync('/etc/passwd', path.join(ws, 'passwd'));
    fs.symlinkSync('.codex', path.join(ws, 'codex-link'));
  });
  afterAll(() => h.close());

  it('answers a request for a running preview with 409 when the API has no container engine (not a 503 to retry)', async () => {
    const res = await request(h.app)
      .post(`/api/v1/projects/${projectId}/preview`)
      .send({ command: 'node server.js', port: 3000 });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'conflict', code: 409, detail: expect.stringContaining('DOCKER_HOST') });
  });

  it('serves index.html at / with its type and the sandbox policy', async () => {
    const res = await get('/').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('<title>Snake</title>');
    expect(res.headers['content-security-policy']).toBe(PREVIEW_CSP);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // Nothing of the app's: no CORS answer for the app's origins.
    const cors = await get('/').set('Origin', 'http://localhost:3000').expect(200);
    expect(cors.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('gives each file its content type', async () => {
    expect((await get('/style.css').expect(200)).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get('/game.js').expect(200)).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get('/notes.md').expect(200)).headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect((await get('/data.bin').expect(200)).headers['content-type']).toBe('application/octet-stream');
    // No registered type: text when its start is UTF-8 (a character cut by the sample is no matter).
    expect((await get('/latin1.dat').expect(200)).headers['content-type']).toBe('application/octet-stream');
    expect((await get('/long.py').expect(200)).headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('serves a directory’s index.html, and sends a directory without its slash to it', async () => {
    expect((await get('/docs/').expect(200)).text).toBe('<p>docs</p>');
    const res = await get('/docs?x=1').expect(301);
    expect(res.headers.location).toBe('/docs/?x=1');
  });

  it('answers byte ranges, and 416 for one past the end', async () => {
    const res = await get('/data.bin').set('Range', 'bytes=2-4').buffer(true).expect(206);
    expect([...(res.body as Buffer)]).toEqual([2, 3, 4]);
    expect(res.headers['content-range']).toBe('bytes 2-4/10');
    expect(res.headers['content-length']).toBe('3');
    const tail = await get('/data.bin').set('Range', 'bytes=-2').buffer(true).expect(206);
    expect([...(tail.body as Buffer)]).toEqual([8, 9]);
    const past = await get('/data.bin').set('Range', 'bytes=20-30').expect(416);
    expect(past.headers['content-range']).toBe('bytes */10');
    // A range for another version of the file (If-Range) gets the whole of this one.
    const stale = await get('/data.bin').set('Range', 'bytes=2-4').set('If-Range', 'W/"old"').buffer(true).expect(200);
    expect((stale.body as Buffer).length).toBe(10);
  });

  it('answers 304 to a client whose copy is current', async () => {
    const first = await get('/style.css').expect(200);
    await get('/style.css').set('If-None-Match', first.headers.etag!).expect(304);
  });

  it('never serves .codex/, also not through a link to it', async () => {
    for (const p of [
      '/.codex/request.json',
      '/.codex/',
      '/.codex',
      '/%2Ecodex/request.json',
      '/codex-link/request.json',
    ]) {
      const res = await get(p);
      expect([p, res.status]).toEqual([p, 404]);
      expect(res.text).not.toContain('secret');
    }
  });

  it('refuses traversal and links out of the workspace with a 404', async () => {
    for (const p of [
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/%252e%252e/etc/passwd',
      '/passwd',
      '/missing.html',
    ]) {
      const res = await get(p);
      expect([p, res.status]).toEqual([p, 404]);
      expect(res.body).toMatchObject({ error: 'not_found', code: 404 });
      expect(res.text).not.toContain('root:');
    }
  });

  it('answers only GET and HEAD', async () => {
    const head = await request(h.app).head('/style.css').set('Host', hostOf(projectId)).expect(200);
    expect(head.headers['content-length']).toBe(String('body { color: green }'.length));
    const post = await request(h.app).post('/').set('Host', hostOf(projectId)).expect(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('is 404 for a project that does not exist, and leaves the app alone on its own host', async () => {
    await request(h.app).get('/').set('Host', hostOf('00000000-0000-4000-8000-00000000beef')).expect(404);
    // The app's own routes on the preview host are the preview's paths, not the API.
    await get('/api/v1/projects').expect(404);
    await request(h.app).get('/healthz').expect(200);
  });

  it('is named in the project detail and by GET /projects/{id}/preview', async () => {
    const detail = await request(h.app).get(`/api/v1/projects/${projectId}`).expect(200);
    expect(detail.body.preview_url).toBe(`http://${hostOf(projectId)}/`);
    const preview = await request(h.app).get(`/api/v1/projects/${projectId}/preview`).expect(200);
    expect(preview.body).toMatchObject({
      kind: 'static',
      preview_url: `http://${hostOf(projectId)}/`,
      expires_at: null,
    });
  });
});

describe('a static preview of a workspace without index.html', () => {
  let h: Harness;
  let projectId: string;
  const get = (p: string) => request(h.app).get(p).set('Host', hostOf(projectId));
  const linksOf = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);

  beforeAll(async () => {
    h = await startHarness({ PREVIEW_BASE_URL: BASE });
    projectId = await createProject(h);
    const ws = write(h, projectId, {
      'app.py': 'print("fib")\n',
      'README.md': '# A Fibonacci CLI',
      'src/<b>&lib.py': 'x = 1',
      'src/deep/mod.py': 'y = 2',
      'many/.keep': '',
    });
    for (let i = 0; i < 1004; i++) fs.writeFileSync(path.join(ws, 'many', `f${String(i).padStart(4, '0')}.txt`), '');
    fs.mkdirSync(path.join(ws, '.codex'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.codex', 'request.json'), '{"instruction":"secret"}');
    fs.symlinkSync('/etc/passwd', path.join(ws, 'passwd'));
    fs.symlinkSync('.codex', path.join(ws, 'codex-link'));
    fs.symlinkSync('src', path.join(ws, 'src-link'));
  });
  afterAll(() => h.close());

  it('lists the root as a page of links: directories first, what a link points at, nothing of .codex or outside', async () => {
    const res = await get('/').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(PREVIEW_CSP);
    expect(res.text).toContain('<title>Index of /</title>');
    expect(linksOf(res.text)).toEqual(['./many/', './src/', './src-link/', './README.md', './app.py']);
    expect(res.text).not.toContain('secret');
    expect(res.text).not.toContain('passwd');
    expect(res.text).not.toContain('codex');
  });

  it('escapes names, and its links lead to the files and back up', async () => {
    const res = await get('/src/').expect(200);
    expect(res.text).toContain('&lt;b&gt;&amp;lib.py');
    expect(res.text).not.toContain('<b>&');
    expect(linksOf(res.text)).toEqual(['../', './deep/', './%3Cb%3E%26lib.py']);
    // A source file of no registered type opens as text, not as a download.
    const file = await get('/src/%3Cb%3E%26lib.py').expect(200);
    expect(file.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(file.text).toBe('x = 1');
    expect(linksOf((await get('/src-link/deep/').expect(200)).text)).toEqual(['../', './mod.py']);
  });

  it('sends a directory named without its slash to it', async () => {
    expect((await get('/src?x=1').expect(301)).headers.location).toBe('/src/?x=1');
  });

  it('lists at most 1,000 entries of a directory and says how many more there are', async () => {
    const res = await get('/many/').expect(200);
    expect(linksOf(res.text)).toHaveLength(1 + 1000);
    expect(res.text).toContain('and 5 more entries, not listed');
  });

  it('answers HEAD with the page’s headers, and 404 for .codex/, links out and files named as directories', async () => {
    const head = await request(h.app).head('/').set('Host', hostOf(projectId)).expect(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    for (const p of ['/.codex/', '/codex-link/', '/codex-link', '/passwd/', '/app.py/', '/missing/']) {
      const res = await get(p);
      expect([p, res.status]).toEqual([p, 404]);
      expect(res.text).not.toContain('secret');
    }
  });
});

describe('a static preview (AUTH_MODE=api_key)', () => {
  let h: Harness;
  let alice: Tenant;
  let bob: Tenant;
  let aliceProject: string;
  let bobProject: string;
  const now = () => Math.floor(Date.now() / 1000);
  const signedHost = (projectId: string, expires: number, secret = SECRET) =>
    `${signedLabel(secret, projectId, expires)}.preview.localhost:8000`;

  beforeAll(async () => {
    h = await startHarness({ AUTH_MODE: 'api_key', PREVIEW_BASE_URL: BASE, PREVIEW_SECRET: SECRET });
    alice = await createTenant(h.db, 'alice');
    bob = await createTenant(h.db, 'bob');
    aliceProject = await createProject(h, alice.auth);
    bobProject = await createProject(h, bob.auth);
    write(h, aliceProject, { 'index.html': '<p>alice</p>' });
    write(h, bobProject, { 'index.html': '<p>bob</p>' });
  });
  afterAll(() => h.close());

  const linkOf = async (who: Tenant, projectId: string) => {
    const res = await request(h.app).get(`/api/v1/projects/${projectId}/preview`).set(who.auth).expect(200);
    return new URL(res.body.preview_url as string);
  };

  it('is not reachable at the project id’s own host: only through a signed link', async () => {
    await request(h.app).get('/').set('Host', hostOf(aliceProject)).expect(404);
  });

  it('opens through the signed link, whose host is a label of at most 63 characters', async () => {
    const link = await linkOf(alice, aliceProject);
    const label = link.hostname.split('.')[0]!;
    expect(label.length).toBeLessThanOrEqual(63);
    expect(label).toMatch(new RegExp(`^${aliceProject.replaceAll('-', '')}-`));
    expect(link.pathname).toBe('/');
    const page = await request(h.app).get('/').set('Host', link.host).expect(200);
    expect(page.text).toBe('<p>alice</p>');
    // Host names are case-insensitive.
    await request(h.app).get('/').set('Host', link.host.toUpperCase()).expect(200);
    expect((await request(h.app).get(`/api/v1/projects/${aliceProject}`).set(alice.auth)).body.preview_url).toMatch(
      /^http:\/\/[0-9a-f]{32}-[0-9a-z]{26}\.preview\.localhost:8000\/$/,
    );
  });

  it('is 404 for another tenant, and a link opens only the project it was made for', async () => {
    await request(h.app).get(`/api/v1/projects/${aliceProject}/preview`).set(bob.auth).expect(404);
    const bobs = await linkOf(bob, bobProject);
    const [hexId, rest] = bobs.hostname.split('.')[0]!.split('-') as [string, string];
    expect(hexId).toBe(bobProject.replaceAll('-', ''));
    // Bob's signature with alice's project id: not a link to alice's project.
    const grafted = `${aliceProject.replaceAll('-', '')}-${rest}.preview.localhost:8000`;
    await request(h.app).get('/').set('Host', grafted).expect(404);
  });

  it('is 404 once expired, or signed with another key', async () => {
    await request(h.app)
      .get('/')
      .set('Host', signedHost(aliceProject, now() + 60))
      .expect(200);
    await request(h.app)
      .get('/')
      .set('Host', signedHost(aliceProject, now() - 1))
      .expect(404);
    const otherKey = 'another-secret-of-at-least-32-characters';
    await request(h.app)
      .get('/')
      .set('Host', signedHost(aliceProject, now() + 60, otherKey))
      .expect(404);
  });

  it('says when the link expires, PREVIEW_LINK_SECONDS from now', async () => {
    const res = await request(h.app).get(`/api/v1/projects/${aliceProject}/preview`).set(alice.auth).expect(200);
    const left = Date.parse(res.body.expires_at as string) - Date.now();
    expect(left).toBeGreaterThan(3590_000);
    expect(left).toBeLessThanOrEqual(3600_000);
  });

  it('stops opening once the project is deleted', async () => {
    const projectId = await createProject(h, alice.auth);
    write(h, projectId, { 'index.html': 'x' });
    const link = await linkOf(alice, projectId);
    await request(h.app).get('/').set('Host', link.host).expect(200);
    await request(h.app).delete(`/api/v1/projects/${projectId}`).set(alice.auth).expect(204);
    await request(h.app).get('/').set('Host', link.host).expect(404);
  });
});
