// Signing in to the web app in a real headless Chromium, against the built API (AUTH_MODE=api_key)
// and a runner started as processes, with users and keys made by the admin CLI as an operator
// would: the sign-in page, a wrong key's message, the app once signed in (its writes and its live
// log through the session cookie), another tenant's project, signing out, and a cookie no script
// of the page can read.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext } from 'playwright-core';
import { screenshot } from './helpers/browser';
import { usePagePerTest, useWebStack } from './helpers/web';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..');
const INSTRUCTION = 'Generate a minimal Python CLI that prints the first 10 Fibonacci numbers, with a test.';

describe('signing in to the web app (AUTH_MODE=api_key), in Chromium', () => {
  const web = useWebStack('websignin', { api: { AUTH_MODE: 'api_key' }, runner: { DUMMY_WORKER_DELAY_MS: '1000' } });
  // One browser profile for the file: the session carries over from test to test, as for a person.
  let context: BrowserContext;
  const tab = usePagePerTest(web, { open: () => context.newPage() });
  let aliceKey: string;
  let bobsProject: string;

  /** `pnpm admin <args>` against the stack's database; the last line of its output. */
  async function admin(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'apps/api/dist/admin.js'), ...args], {
      cwd: ROOT,
      env: web.stack.baseEnv(),
    });
    return stdout.trim().split('\n').at(-1)!.trim();
  }

  beforeAll(async () => {
    const { api, browser } = web;
    await admin('create-user', 'alice');
    await admin('create-user', 'bob');
    aliceKey = await admin('create-key', 'alice');
    const bobKey = await admin('create-key', 'bob');
    const created = await api.request(
      'POST',
      '/api/v1/projects',
      { instruction: "Bob's own project" },
      {
        Authorization: `Bearer ${bobKey}`,
      },
    );
    expect(created.status).toBe(202);
    bobsProject = created.body.id;
    context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  });
  afterAll(async () => {
    await context?.close();
  });

  const keyField = () => tab.page.getByLabel('API key');

  it('shows the sign-in page, with a password field for the key; a wrong key is told in words', async () => {
    const { api } = web;
    const { page } = tab;
    await page.goto(`${api.baseUrl}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await keyField().getAttribute('type')).toBe('password');
    expect(await page.getByText(/No projects yet/).count()).toBe(0);
    await screenshot(page, 'sign-in');

    await keyField().fill(`cwo_AbCdEfGh_${'x'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Invalid API key (unknown or revoked).');
    await keyField().fill('my password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .getByText(/^That is not an API key of this service/)
      .waitFor();
    await screenshot(page, 'sign-in-wrong-key');
    expect(await context.cookies(api.baseUrl)).toEqual([]);
  });

  it('signs in with a key: the app, who is signed in, and a session cookie no script can read', async () => {
    const { api } = web;
    const { page } = tab;
    await page.goto(`${api.baseUrl}/`);
    await keyField().fill(aliceKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(/No projects yet/).waitFor();
    await page.getByText('Signed in as alice').waitFor();
    await screenshot(page, 'signed-in');

    const [cookie, ...others] = await context.cookies(api.baseUrl);
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({ name: 'cwo_session', httpOnly: true, sameSite: 'Strict', path: '/', secure: false });
    // Host-only: the browser keeps it for this host alone (a Domain attribute would make it ".127.0.0.1").
    expect(cookie!.domain).toBe('127.0.0.1');
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000 + 3600);
    // Neither the cookie nor the key is anywhere a script of the page reaches.
    const visible = await page.evaluate(
      `JSON.stringify([document.cookie, { ...localStorage }, { ...sessionStorage }])`,
    );
    expect(visible).toBe('["",{},{}]');
    // A reload keeps the session (the cookie), without asking for the key again.
    await page.reload();
    await page.getByText('Signed in as alice').waitFor();
  });

  it('works through the session: a project created from the page runs, its log streams live', async () => {
    const { api, stack } = web;
    const { page } = tab;
    await page.goto(`${api.baseUrl}/`);
    await page.getByLabel('What should the agent build?').fill(INSTRUCTION);
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('status').getByRole('link', { name: 'open it' }).click();
    await page.getByRole('heading', { name: INSTRUCTION }).waitFor();
    // The log comes over server-sent events (EventSource sends the cookie, same-origin).
    const log = page.getByRole('log', { name: 'Job log' });
    await log.getByText('dummy executor: wrote .codex/result.json (success)').waitFor({ timeout: 60_000 });
    const owners = await stack.db.project.findMany({ where: { instruction: INSTRUCTION }, include: { owner: true } });
    expect(owners.map((p) => p.owner.name)).toEqual(['alice']);
  });

  it("another tenant's project is not found", async () => {
    const { api } = web;
    const { page } = tab;
    const res = await page.goto(`${api.baseUrl}/projects/${bobsProject}`);
    expect(res?.status()).toBe(200);
    await page.getByRole('heading', { name: 'Project not found' }).waitFor();
    expect(await page.getByText("Bob's own project").count()).toBe(0);
    await screenshot(page, 'other-tenant-not-found');
  });

  it('signs out: the sign-in page again, and the old session is over on the server', async () => {
    const { api } = web;
    const { page } = tab;
    await page.goto(`${api.baseUrl}/`);
    const [before] = await context.cookies(api.baseUrl);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await context.cookies(api.baseUrl)).toEqual([]);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // The cookie as it was, sent again by someone who kept it: no longer good.
    const replayed = await api.get('/api/v1/session', { Cookie: `cwo_session=${before!.value}` });
    expect(replayed.status).toBe(401);
  });
});
