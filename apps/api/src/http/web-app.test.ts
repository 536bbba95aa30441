import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { startHarness, type Harness } from '../../test/harness';
import { WEB_APP_CSP } from './web-app';

// The web app as the API serves it: a built app of a few files in a directory of the test's own.

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-Ab12Cd34.js"></script></head><body><div id="root"></div></body></html>';

describe('the web app at /', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-web-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), INDEX);
    fs.writeFileSync(path.join(dir, 'assets', 'index-Ab12Cd34.js'), 'console.log("app")');
    fs.writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    h = await startHarness({}, { webAppDir: dir });
  });
  afterAll(async () => {
    await h.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers / with index.html, never cached, with a strict Content-Security-Policy', async () => {
    const res = await request(h.app).get('/').set('Accept', 'text/html').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toBe(INDEX);
    expect(res.headers['cache-control']).toBe('no-store');
    // Its own policy, and the one frame it may show: a preview (the Preview tab).
    expect(res.headers['content-security-policy']).toBe(`${WEB_APP_CSP}; frame-src http://*.preview.localhost:*`);
    expect(WEB_APP_CSP).toContain("script-src 'self'");
    expect(WEB_APP_CSP).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers client-side routes with index.html, so a reload or a shared link opens the view', async () => {
    const res = await request(h.app)
      .get('/projects/4b7c8a1e-0000-4000-8000-000000000000')
      .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8')
      .expect(200);
    expect(res.text).toBe(INDEX);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('caches hashed assets for a year, and other files only with revalidation', async () => {
    const asset = await request(h.app).get('/assets/index-Ab12Cd34.js').expect(200);
    expect(asset.text).toBe('console.log("app")');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toMatch(/javascript/);
    const icon = await request(h.app).get('/favicon.svg').expect(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('sends its files gzipped to a browser that accepts it', async () => {
    const big = `console.log(${JSON.stringify('the app '.repeat(2000))})`;
    fs.writeFileSync(path.join(dir, 'assets', 'big-Ef56Gh78.js'), big);
    const res = await request(h.app).get('/assets/big-Ef56Gh78.js').set('Accept-Encoding', 'gzip').expect(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.text).toBe(big);
    const page = await request(h.app).get('/projects/x').set('Accept', 'text/html').set('Accept-Encoding', 'gzip');
    expect(page.text).toBe(INDEX);
    const plain = await request(h.app).get('/assets/big-Ef56Gh78.js').set('Accept-Encoding', 'identity').expect(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
  });

  it('keeps a missing asset a 404 rather than a page (an old hash after a deploy)', async () => {
    const res = await request(h.app).get('/assets/index-Old00000.js').set('Accept', '*/*').expect(404);
    expect(res.body).toMatchObject({ error: 'not_found', code: 404 });
    const image = await request(h.app).get('/missing.png').set('Accept', 'image/avif,image/webp').expect(404);
    expect(image.body.code).toBe(404);
  });

  it('leaves the API, the docs, the admin routes and the health checks untouched', async () => {
    const unknownApi = await request(h.app).get('/api/v1/no-such-route').set('Accept', 'text/html').expect(404);
    expect(unknownApi.headers['content-type']).toMatch(/json/);
    expect(unknownApi.body).toMatchObject({ error: 'not_found' });
    const list = await request(h.app).get('/api/v1/projects').set('Accept', 'text/html').expect(200);
    expect(list.body).toHaveProperty('items');
    const docs = await request(h.app).get('/docs/').set('Accept', 'text/html').expect(200);
    expect(docs.text).toContain('swagger-ui');
    expect(docs.headers['content-security-policy']).toBeUndefined();
    // Bull Board (on for a local AUTH_MODE=none API) answers its own page; other admin paths stay JSON 404s.
    const board = await request(h.app).get('/admin/queues').set('Accept', 'text/html').expect(200);
    expect(board.text).not.toBe(INDEX);
    const admin = await request(h.app).get('/admin/no-such-page').set('Accept', 'text/html').expect(404);
    expect(admin.headers['content-type']).toMatch(/json/);
    await request(h.app).get('/healthz').set('Accept', 'text/html').expect(200, { status: 'ok' });
    const ready = await request(h.app).get('/readyz').set('Accept', 'text/html');
    expect(ready.headers['content-type']).toMatch(/json/);
    const openapi = await request(h.app).get('/openapi.json').set('Accept', 'text/html').expect(200);
    expect(openapi.body).toHaveProperty('openapi');
  });

  it('does not answer other methods with the page', async () => {
    const res = await request(h.app).post('/projects/x').set('Accept', 'text/html').send({});
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/json/);
  });

  it('does not serve files outside its directory', async () => {
    const res = await request(h.app).get('/..%2f..%2fpackage.json').set('Accept', '*/*');
    expect(res.text).not.toContain('"name"');
  });
});
