import fs from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import request from 'supertest';
import { launchChromium } from '../../test/browser';
import { startHarness, type Harness } from '../../test/harness';
import { createTenant, type Tenant } from '../../test/tenants';
import { workspaceOf } from '../workspace-dirs';

// In real Chromium: a page an agent wrote, opened as a preview, gets nothing of the person's
// session. It cannot read the app's cookies, call the API with the person's credentials, post a
// form to it with them, or navigate the window that embeds or opened it. And the site itself
// works: its script runs and its stylesheet applies (a screenshot is kept under .cache/).

const SCREENSHOTS = path.resolve(__dirname, '../../../../.cache/previews');

/** What the agent's page tries; it writes what it got into #out. */
const ATTACK_JS = `
(async () => {
  const app = document.documentElement.dataset.app;
  const out = {};
  try { out.cookie = document.cookie; } catch (e) { out.cookie = 'threw ' + e.name; }
  try { out.storage = String(window.localStorage.length); } catch (e) { out.storage = 'threw ' + e.name; }
  try {
    const r = await fetch(app + '/api/v1/projects', { credentials: 'include' });
    out.api = 'status ' + r.status + ' ' + (await r.text()).slice(0, 200);
  } catch (e) { out.api = 'threw ' + e.name; }
  try {
    const r = await fetch(app + '/api/v1/projects', { credentials: 'include', mode: 'no-cors' });
    out.apiNoCors = 'type ' + r.type + ' body ' + (await r.text()).length;
  } catch (e) { out.apiNoCors = 'threw ' + e.name; }
  out.origin = String(self.origin);
  document.getElementById('script-ran').textContent = 'the script ran';
  document.getElementById('out').textContent = JSON.stringify(out);
  if (location.hash === '#navigate-top') {
    try { window.top.location.href = app + '/hijacked-top'; out.top = 'no error'; } catch (e) { out.top = 'threw ' + e.name; }
    document.getElementById('out').textContent = JSON.stringify(out);
  }
  if (location.hash === '#navigate-opener') {
    out.hadOpener = String(window.opener !== null);
    try { window.opener.location.href = app + '/hijacked-opener'; out.opener = 'no error'; } catch (e) { out.opener = 'threw ' + e.name; }
    document.getElementById('out').textContent = JSON.stringify(out);
  }
})();
`;

// Evaluated in the page (strings: this file is compiled without the DOM's types).
const OUT_WRITTEN = "document.getElementById('out')?.textContent !== ''";
const TITLE_COLOR = "getComputedStyle(document.getElementById('title')).color";

interface Seen {
  host: string;
  url: string;
  method: string;
  cookie: string | undefined;
}

describe('a preview in Chromium (AUTH_MODE=api_key)', () => {
  let h: Harness;
  let server: http.Server;
  let port: number;
  let appOrigin: string;
  let context: BrowserContext;
  let alice: Tenant;
  let projectId: string;
  let previewUrl: string;
  const seen: Seen[] = [];
  const appPages = new Map<string, string>();
  const appRequests = () => seen.filter((s) => s.host === `localhost:${port}`);
  /** The app's real session token (from POST /session), and a script-readable probe cookie of the app origin. */
  let session: string;
  const READABLE = 'app-readable-value-that-must-not-leak';
  const leaked = (cookie: string | undefined) => (cookie ?? '').includes(session) || (cookie ?? '').includes(READABLE);

  beforeAll(async () => {
    // The port first: the preview origins name it.
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    appOrigin = `http://localhost:${port}`;
    h = await startHarness({
      AUTH_MODE: 'api_key',
      PREVIEW_BASE_URL: `http://{projectId}.preview.localhost:${port}`,
      ALLOW_ORIGINS: appOrigin,
      ALLOW_CREDENTIALS: 'true',
    });
    server.on('request', (req: http.IncomingMessage & { headers: IncomingHttpHeaders }, res) => {
      seen.push({
        host: req.headers.host ?? '',
        url: req.url ?? '',
        method: req.method ?? '',
        cookie: req.headers.cookie,
      });
      // Pages of the app's origin that embed or open the preview, as the web app does (served from
      // this machine: Chromium refuses a page it thinks public the right to load local ones).
      const page = req.headers.host === `localhost:${port}` ? appPages.get(req.url ?? '') : undefined;
      if (page !== undefined) res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
      else h.app(req, res);
    });
    alice = await createTenant(h.db, 'alice');
    const created = await request(h.app)
      .post('/api/v1/projects')
      .set(alice.auth)
      .send({ instruction: 'a snake game in the browser' })
      .expect(202);
    projectId = created.body.id;
    const ws = workspaceOf(h.config, projectId);
    fs.writeFileSync(
      path.join(ws, 'index.html'),
      `<!doctype html><html data-app="${appOrigin}"><head><title>Snake</title><link rel="stylesheet" href="/style.css"></head>` +
        '<body><h1 id="title">Snake</h1><p id="script-ran">no script</p><pre id="out"></pre>' +
        '<script src="/attack.js"></script></body></html>',
    );
    fs.writeFileSync(path.join(ws, 'style.css'), 'h1 { color: rgb(0, 128, 0); }');
    fs.writeFileSync(path.join(ws, 'attack.js'), ATTACK_JS);
    fs.writeFileSync(
      path.join(ws, 'csrf.html'),
      `<!doctype html><form id="f" method="post" action="${appOrigin}/api/v1/projects" enctype="text/plain">` +
        '<input name=\'{"instruction":"made by the preview", "x":"\' value=\'"}\'></form>' +
        '<script>document.getElementById("f").submit()</script>',
    );
    previewUrl = (await request(h.app).get(`/api/v1/projects/${projectId}/preview`).set(alice.auth).expect(200)).body
      .preview_url;

    context = await launchChromium();
    // The person signs in through the real route: the browser keeps the cookie exactly as the API
    // sets it (host-only, HttpOnly, SameSite=Strict). Beside it, a cookie readable by scripts, so
    // that a page that could read the app origin's cookies would see it.
    const signedIn = await context.request.post(`${appOrigin}/api/v1/session`, {
      data: { api_key: alice.key },
      headers: { Origin: appOrigin },
    });
    expect(signedIn.status()).toBe(200);
    const jar = await context.cookies(appOrigin);
    const cookie = jar.find((c) => c.name === 'cwo_session');
    expect(cookie).toMatchObject({ domain: 'localhost', path: '/', httpOnly: true, sameSite: 'Strict' });
    session = cookie!.value;
    await context.addCookies([
      { name: 'cwo_readable', value: READABLE, domain: 'localhost', path: '/', httpOnly: false, sameSite: 'Strict' },
    ]);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  it('the app origin holds the session cookie (the browser sends it there; its scripts cannot read it)', async () => {
    const page = await context.newPage();
    await page.goto(`${appOrigin}/healthz`);
    const readable = await page.evaluate<string>('document.cookie');
    expect(readable).toContain(READABLE);
    expect(readable).not.toContain(session);
    expect(appRequests().at(-1)?.cookie).toContain(session);
    // And the session works there: the API knows who is signed in.
    const me = await page.evaluate(`fetch('/api/v1/session').then((r) => r.json())`);
    expect(me).toMatchObject({ user: { id: alice.userId }, via: 'cookie' });
    await page.close();
  });

  it('renders the site: its script runs and its stylesheet applies, through the signed link', async () => {
    const page = await context.newPage();
    await page.goto(previewUrl);
    await page.waitForFunction(OUT_WRITTEN, undefined, { timeout: 10_000 });
    expect(await page.textContent('#script-ran')).toBe('the script ran');
    expect(await page.evaluate(TITLE_COLOR)).toBe('rgb(0, 128, 0)');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'static-preview.png') });
    // The session cookie is host-only: the browser sent it to none of the preview host's requests.
    const toPreview = seen.filter((s) => s.host !== `localhost:${port}`);
    expect(toPreview.length).toBeGreaterThan(0);
    for (const r of toPreview) expect(leaked(r.cookie)).toBe(false);
    await page.close();
  });

  it("a preview page cannot read the app's cookies, nor call the API with them", async () => {
    const before = appRequests().length;
    const page = await context.newPage();
    await page.goto(previewUrl);
    await page.waitForFunction(OUT_WRITTEN, undefined, { timeout: 10_000 });
    const out = JSON.parse((await page.textContent('#out'))!) as Record<string, string>;
    // An opaque origin: no cookie jar, no storage, and the API's CORS answers do not name it.
    expect(out.origin).toBe('null');
    expect(out.cookie).toMatch(/^threw SecurityError/);
    expect(out.storage).toMatch(/^threw SecurityError/);
    expect(out.api).toBe('threw TypeError');
    expect(out.apiNoCors).toBe('type opaque body 0');
    // And the requests that did reach the API carried no cookie of the app.
    const fromPreview = appRequests().slice(before);
    expect(fromPreview.length).toBeGreaterThan(0);
    for (const r of fromPreview) expect(leaked(r.cookie)).toBe(false);
    await page.close();
  });

  it('a form the preview posts to the API arrives without the app’s cookies', async () => {
    const before = appRequests().length;
    const page = await context.newPage();
    const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url().startsWith(appOrigin));
    await page.goto(`${new URL(previewUrl).origin}/csrf.html`);
    await posted;
    await page.waitForLoadState('load');
    const posts = appRequests()
      .slice(before)
      .filter((r) => r.method === 'POST');
    expect(posts.length).toBe(1);
    expect(leaked(posts[0]!.cookie)).toBe(false);
    await page.close();
  });

  it('embedded in an app page, a preview cannot navigate the top window', async () => {
    const page = await context.newPage();
    // A page of the app's origin that embeds the preview without any sandbox attribute of its own:
    // the preview's own Content-Security-Policy is what stops it.
    appPages.set(
      '/embed',
      `<!doctype html><title>app</title><iframe id="p" src="${previewUrl}#navigate-top"></iframe>`,
    );
    await page.goto(`${appOrigin}/embed`);
    const frame = await (await page.waitForSelector('#p')).contentFrame();
    await frame!.waitForFunction(`(document.getElementById('out')?.textContent ?? '').includes('"top"')`);
    const out = JSON.parse((await frame!.textContent('#out'))!) as Record<string, string>;
    expect(out.top).toMatch(/^threw /);
    await page.waitForTimeout(300);
    expect(page.url()).toBe(`${appOrigin}/embed`);
    expect(seen.some((s) => s.url.startsWith('/hijacked'))).toBe(false);
    // The embedded site still works.
    expect(await frame!.textContent('#script-ran')).toBe('the script ran');
    expect(await frame!.evaluate(TITLE_COLOR)).toBe('rgb(0, 128, 0)');
    await page.close();
  });

  it('opened from an app page, a preview cannot navigate the page that opened it', async () => {
    const page = await context.newPage();
    appPages.set('/opener', '<!doctype html><title>app</title>');
    await page.goto(`${appOrigin}/opener`);
    const popupOpened = page.waitForEvent('popup');
    await page.evaluate(`void window.open(${JSON.stringify(`${previewUrl}#navigate-opener`)})`);
    const popup = await popupOpened;
    await popup.waitForFunction(`(document.getElementById('out')?.textContent ?? '').includes('"opener"')`);
    const out = JSON.parse((await popup.textContent('#out'))!) as Record<string, string>;
    await page.waitForTimeout(300);
    expect(page.url()).toBe(`${appOrigin}/opener`);
    expect(seen.some((s) => s.url.startsWith('/hijacked-opener'))).toBe(false);
    expect(out.hadOpener).toBe('true');
    expect(out.opener).toBe('threw SecurityError');
    await popup.close();
    await page.close();
  });
});
