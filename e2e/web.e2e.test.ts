// The web app in a real headless Chromium, against the built API (which serves it) and a runner,
// started as processes: what a person sees and does on the projects page.
import { screenshot } from './helpers/browser';
import { eventually, Stack } from './helpers/stack';
import { usePagePerTest, useWebStack } from './helpers/web';

const INSTRUCTION = 'Generate a minimal Python CLI that prints the first 10 Fibonacci numbers, with a test.';

describe('the web app, in Chromium, against the API and a runner', () => {
  const web = useWebStack('web', { runner: { DUMMY_WORKER_DELAY_MS: '1500' } });
  const tab = usePagePerTest(web, { viewport: { width: 1100, height: 800 } });

  it('serves the app at /: an empty list says so', async () => {
    const { api } = web;
    const { page } = tab;
    const res = await page.goto(`${api.baseUrl}/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['cache-control']).toBe('no-store');
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByText('No projects yet').waitFor();
    expect(await page.title()).toBe('Codex Workspace Orchestrator');
    await screenshot(page, 'projects-empty');
  });

  it("checks the instruction before sending it, in the API's words", async () => {
    const { api } = web;
    const { page } = tab;
    await page.goto(`${api.baseUrl}/`);
    const box = page.getByLabel('What should the agent build?');
    await box.fill('   abc   ');
    await page.getByRole('button', { name: 'Create project' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('String should have at least 5 characters');
    await box.fill('      ');
    await page.getByRole('button', { name: 'Create project' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('instruction must not be empty');
    expect((await api.get('/api/v1/projects')).body.total).toBe(0);
  });

  it('creates a project from the page and shows it go from queued to completed without a reload', async () => {
    const { api } = web;
    const { page } = tab;
    await page.goto(`${api.baseUrl}/`);
    await page.getByLabel('What should the agent build?').fill(`  ${INSTRUCTION}  `);
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('status').getByText('Project created').waitFor();

    const row = page.getByRole('listitem').filter({ hasText: INSTRUCTION });
    await row.waitFor();
    await row.getByText(/^(Queued|Running)$/).waitFor();
    await screenshot(page, 'projects-running');
    await row.getByText('Completed').waitFor({ timeout: 60_000 });
    await expect(row.textContent()).resolves.toMatch(/created (just now|\d+ seconds? ago)/);
    await screenshot(page, 'projects');

    const { items } = (await api.get('/api/v1/projects')).body;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ instruction: INSTRUCTION, status: 'completed' });
  });

  it('opens a project by its address (a client-side route) and says when one does not exist', async () => {
    const { api } = web;
    const { page } = tab;
    const { items } = (await api.get('/api/v1/projects')).body;
    const res = await page.goto(`${api.baseUrl}/projects/${items[0].id}`);
    expect(res?.status()).toBe(200);
    await page.getByRole('heading', { name: INSTRUCTION }).waitFor();
    await page.goto(`${api.baseUrl}/projects/4b7c8a1e-0000-4000-8000-000000000000`);
    await page.getByRole('heading', { name: 'Project not found' }).waitFor();
    await page.goto(`${api.baseUrl}/no/such/page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  });

  it('pages through the projects, newest first', async () => {
    const { api } = web;
    const { page } = tab;
    for (let i = 1; i <= 21; i++) {
      expect((await api.post('/api/v1/projects', { instruction: `Numbered project ${i}` })).status).toBe(202);
    }
    await page.goto(`${api.baseUrl}/`);
    await page.getByText('1–20 of 22 (page 1 of 2)').waitFor();
    const first = page.getByRole('listitem').first();
    await expect(first.textContent()).resolves.toContain('Numbered project 21');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('21–22 of 22 (page 2 of 2)').waitFor();
    expect(page.url()).toBe(`${api.baseUrl}/?page=2`);
    await expect(page.getByRole('listitem').last().textContent()).resolves.toContain(INSTRUCTION);
    // Back to the first page with the browser's own button.
    await page.goBack();
    await page.getByText('1–20 of 22 (page 1 of 2)').waitFor();
  });

  it("shows the API's 429 with when to try again", async () => {
    const { browser } = web;
    // A stack of its own: the limit is counted per user in Redis, and this file's user has made
    // many projects this minute already.
    const limitedStack = await Stack.create('web429');
    const limited = await limitedStack.startApi({ RATE_LIMIT_CREATE_PER_MINUTE: '1' });
    const limitedPage = await browser.newPage();
    try {
      await limitedPage.goto(`${limited.baseUrl}/`);
      const box = limitedPage.getByLabel('What should the agent build?');
      await box.fill('The first project of the minute');
      await limitedPage.getByRole('button', { name: 'Create project' }).click();
      await limitedPage.getByRole('status').getByText('Project created').waitFor();
      await box.fill('One project too many this minute');
      await limitedPage.getByRole('button', { name: 'Create project' }).click();
      const alert = limitedPage.getByRole('alert');
      await alert.waitFor();
      await expect(alert.textContent()).resolves.toMatch(
        /^The project was not created\. Too many requests\. Rate limit reached: at most 1 projects and jobs may be created per 60 s per user\. Try again in \d+ seconds? \(at \d\d:\d\d:\d\d\)\.$/,
      );
      await screenshot(limitedPage, 'projects-429');
    } finally {
      await limitedPage.close();
      await limitedStack.stop();
    }
  });

  it("shows the API's 503 when the queue is down: the project is saved and will run", async () => {
    const { api, stack, browser } = web;
    const queueless = await stack.startApi({ REDIS_URL: 'redis://127.0.0.1:1' });
    const queuelessPage = await browser.newPage();
    try {
      await queuelessPage.goto(`${queueless.baseUrl}/`);
      await queuelessPage.getByLabel('What should the agent build?').fill('Saved while the queue is down');
      await queuelessPage.getByRole('button', { name: 'Create project' }).click();
      const alert = queuelessPage.getByRole('alert');
      await alert.waitFor({ timeout: 30_000 });
      await expect(alert.textContent()).resolves.toMatch(
        /^The project was not created\. The service is unavailable right now\. The job queue is unavailable\. The job is saved and will run once the queue is back\. \(request [\w-]+\)$/,
      );
    } finally {
      await queuelessPage.close();
    }
    // The main API's runner takes it once its reconciler enqueues it.
    await eventually(
      'the project saved during the outage to complete',
      async () => {
        const { items } = (await api.get('/api/v1/projects?limit=1')).body;
        return items[0]?.instruction === 'Saved while the queue is down' && items[0].status === 'completed';
      },
      60_000,
    );
  });

  it('links to Swagger UI and to Bull Board from the top bar', async () => {
    const { api, browser } = web;
    // A page of its own, not watched: Bull Board's page asks two outside hosts (refused offline, harmless).
    const other = await browser.newPage();
    try {
      await other.goto(`${api.baseUrl}/`);
      const nav = other.getByRole('navigation', { name: 'API pages' });
      await nav.getByRole('link', { name: 'API docs' }).click();
      await other.getByRole('heading', { name: /Codex Workspace Orchestrator API/ }).waitFor();
      expect(new URL(other.url()).pathname).toBe('/docs/');
      await other.goBack();
      const [board] = await Promise.all([
        other.waitForResponse((r) => new URL(r.url()).pathname === '/admin/queues'),
        nav.getByRole('link', { name: 'Queues (admins)' }).click(),
      ]);
      expect(board.status()).toBe(200);
      await other.getByText('jobs', { exact: true }).first().waitFor();
      await screenshot(other, 'bull-board');
    } finally {
      await other.close();
    }
  });

  it('is usable 375 px wide', async () => {
    const { api } = web;
    const { page } = tab;
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(`${api.baseUrl}/`);
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    // A string: the e2e tests are typed for Node, without the DOM's names.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'projects-375px');
  });
});
