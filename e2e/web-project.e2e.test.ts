// The web app's project page in a real headless Chromium, against the built API and a runner
// started as processes: the jobs, the live log, asking for an edit, cancelling, errors, deleting.
import fs from 'node:fs';
import path from 'node:path';
import { screenshot } from './helpers/browser';
import { eventually } from './helpers/stack';
import { usePagePerTest, useWebStack } from './helpers/web';

const INSTRUCTION = 'Generate a minimal Python CLI that prints the first 10 Fibonacci numbers, with a test.';
/** Long enough for a person (and the test) to see a job run and to cancel one still queued. */
const AGENT_DELAY_MS = 3000;

describe('the project page, in Chromium, against the API and a runner', () => {
  const web = useWebStack('webproject', { runner: { DUMMY_WORKER_DELAY_MS: String(AGENT_DELAY_MS) } });
  const tab = usePagePerTest(web, { viewport: { width: 1280, height: 900 } });
  let projectId: string;

  it('shows the log of the running job as it is written, then the job completed', async () => {
    const { api } = web;
    const { page } = tab;
    await page.goto(`${api.baseUrl}/`);
    await page.getByLabel('What should the agent build?').fill(INSTRUCTION);
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('link', { name: 'open it' }).click();
    projectId = page.url().split('/projects/')[1]!.split('?')[0]!;

    await page.getByRole('heading', { name: INSTRUCTION }).waitFor();
    const log = page.getByRole('log', { name: 'Job log' });
    // While the agent waits, the runner's lines are already there, streamed.
    await log.getByText(`dummy executor: waiting ${AGENT_DELAY_MS} ms first`).waitFor({ timeout: 30_000 });
    const timeline = page.getByRole('list', { name: 'Jobs' });
    await timeline.getByText('Running', { exact: true }).waitFor();
    await page.getByText(/^Live · \d+ lines?$/).waitFor();
    await screenshot(page, 'project-running');

    await log.getByText('dummy executor: wrote .codex/result.json (success)').waitFor({ timeout: 60_000 });
    await page.getByText(/^Ended \(completed\) · \d+ lines$/).waitFor();
    await timeline.getByText('Completed', { exact: true }).waitFor();
    await timeline.getByText(/finished .* · took \d+(\.\d)? s$/).waitFor();
    const details = page.locator('.job-details');
    await details.getByText('Created').waitFor();
    await details.getByText('app.py', { exact: true }).waitFor();
    await details.getByText('Commit').waitFor();
    await screenshot(page, 'project');
  });

  it('queues an edit, says where it stands, and shows it completed with app.py modified', async () => {
    const { api } = web;
    const { page } = tab;
    await page.goto(`${api.baseUrl}/projects/${projectId}`);
    await page.getByLabel('Ask for the next change').fill('Append a comment line to app.py describing the change.');
    await page.getByRole('button', { name: 'Queue edit' }).click();
    // The new job is chosen at once: first queued (or already running), then completed.
    const timeline = page.getByRole('list', { name: 'Jobs' });
    const edit = timeline.getByRole('button', { name: /^2\. Edit/ });
    await edit.waitFor();
    expect(await edit.getAttribute('aria-current')).toBe('true');
    await page.waitForURL(/\?job=[0-9a-f-]{36}$/);
    await edit.getByText('Completed', { exact: true }).waitFor({ timeout: 60_000 });
    // The edit box said where the edit stood, and says how it ended.
    await page.locator('.edit-form').getByRole('status').getByText('Your edit ended: completed.').waitFor();
    const details = page.locator('.job-details');
    await details.getByText('Modified').waitFor();
    await details.getByText('app.py', { exact: true }).waitFor();
  });

  it("shows the edit's diff with the added line, unified and split", async () => {
    const { api } = web;
    const { page } = tab;
    const { body: jobs } = await api.get(`/api/v1/projects/${projectId}/jobs`);
    const edit = jobs.items[1];
    await page.goto(`${api.baseUrl}/projects/${projectId}?job=${edit.id}`);
    const diff = page.locator('.job-diff');
    await diff.getByText('app.py', { exact: true }).waitFor({ timeout: 30_000 });
    await diff.getByText('# Edit: Append a comment line to app.py describing the change.').waitFor();
    expect(await diff.locator('.diff-code-insert').count()).toBeGreaterThanOrEqual(1);
    expect(await diff.locator('.diff-code-delete').count()).toBe(0);
    await diff.getByRole('button', { name: 'Split' }).click();
    await diff.locator('table.diff-split').waitFor();
    expect(await diff.getByRole('button', { name: 'Split' }).getAttribute('aria-pressed')).toBe('true');
    await screenshot(page, 'project-diff');
  });

  it("browses the files: a highlighted app.py, a binary file to download, an agent's HTML shown as text", async () => {
    const { api, stack } = web;
    const { page } = tab;
    // What an agent might leave: a page with script in it, and bytes that are not text.
    const workspace = path.join(stack.workspaceRoot, projectId);
    fs.writeFileSync(
      path.join(workspace, 'index.html'),
      '<script>window.__ran = "script"</script><img src=x onerror="window.__ran = \'onerror\'">\n',
    );
    fs.writeFileSync(path.join(workspace, 'logo.bin'), Buffer.from([0, 1, 2, 3, 255, 254, 0, 9]));
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });

    await page.goto(`${api.baseUrl}/projects/${projectId}`);
    const tree = page.getByRole('tree', { name: 'Files' });
    await tree.getByRole('treeitem', { name: /^app\.py/ }).click();
    const code = page.getByLabel('Contents of app.py');
    await code.getByText('def fibonacci(n):').waitFor();
    // Highlighted: Shiki's tokens carry their colours.
    await code.locator('span[style*="color"]').first().waitFor();
    await page.waitForURL(/file=app.py/);
    // Folders open and close; .codex only on request.
    const tests = tree.getByRole('treeitem', { name: /^tests\// });
    expect(await tests.getAttribute('aria-expanded')).toBe('false');
    await tests.click();
    await tree.getByRole('treeitem', { name: /test_cli\.py/ }).waitFor();
    expect(await tests.getAttribute('aria-expanded')).toBe('true');
    expect(await tree.getByRole('treeitem', { name: /\.codex/ }).count()).toBe(0);
    await page.getByLabel('Show .codex (the runner’s files)').check();
    await tree.getByRole('treeitem', { name: /^\.codex\// }).waitFor();
    await screenshot(page, 'project-files');

    await tree.getByRole('treeitem', { name: /^index\.html/ }).click();
    const html = page.getByLabel('Contents of index.html');
    await html.getByText('<script>window.__ran = "script"</script>', { exact: false }).waitFor();
    await page.waitForTimeout(300);
    expect(await page.evaluate<unknown>('window.__ran')).toBeUndefined();
    expect(dialogs).toBe(0);
    expect(await page.locator('main img, main script').count()).toBe(0);

    await tree.getByRole('treeitem', { name: /^logo\.bin/ }).click();
    await page.getByText('This file is binary or too large to show here').waitFor();
    const download = page.getByRole('link', { name: 'Download (8 B)' });
    expect(await download.getAttribute('href')).toBe(`/api/v1/projects/${projectId}/files/logo.bin?raw=1`);
    const raw = await api.get(`/api/v1/projects/${projectId}/files/logo.bin?raw=1`);
    expect(raw.status).toBe(200);
  });

  it('cancels a queued job', async () => {
    const { api } = web;
    const { page } = tab;
    // Two edits at once: the second waits behind the first.
    const first = await api.post(`/api/v1/projects/${projectId}/jobs`, { job_type: 'edit', instruction: 'First edit' });
    const second = await api.post(`/api/v1/projects/${projectId}/jobs`, { job_type: 'edit', instruction: 'Second' });
    expect([first.status, second.status]).toEqual([202, 202]);
    await page.goto(`${api.baseUrl}/projects/${projectId}?job=${second.body.id}`);
    await page.getByText(/^Waiting for [1-9]\d* jobs? of this project/).waitFor();
    await screenshot(page, 'project-queued');
    await page.getByRole('button', { name: 'Cancel this job' }).click();
    const job = page.getByRole('list', { name: 'Jobs' }).getByRole('button', { name: /^4\. Edit/ });
    await job.getByText('Cancelled', { exact: true }).waitFor();
    await job.getByText('cancelled', { exact: true }).waitFor();
    await page.locator('.job-errors').getByText('The job was cancelled on request').waitFor();
    expect((await api.get(`/api/v1/projects/${projectId}/jobs/${second.body.id}`)).body).toMatchObject({
      status: 'cancelled',
      error_code: 'cancelled',
    });
    await api.waitForJob(projectId, first.body.id);
  });

  it('stops a running job', async () => {
    const { api } = web;
    const { page } = tab;
    // An edit before it: the page is open while the job waits, and it runs for AGENT_DELAY_MS.
    const before = await api.addJob(projectId, 'An edit that runs first');
    const job = await api.addJob(projectId, 'An edit stopped while it runs');
    await page.goto(`${api.baseUrl}/projects/${projectId}?job=${job.id}`);
    // Pressed the moment the job runs (the button's name says so).
    await page.getByRole('button', { name: 'Stop this job' }).click({ timeout: 30_000 });
    // (Its "Stopping…" may show for a moment only: the runner ends the job at once.)
    const entry = page.getByRole('list', { name: 'Jobs' }).getByRole('button', { name: /^6\. Edit/ });
    await entry.getByText('Cancelled', { exact: true }).waitFor({ timeout: 30_000 });
    expect((await api.job(projectId, job.id)).status).toBe('cancelled');
    expect((await api.job(projectId, before.id)).status).toBe('completed');
  });

  it("shows a failed job's error code, what it means, and its errors", async () => {
    const { api } = web;
    const { page } = tab;
    const created = await api.post('/api/v1/projects', { instruction: 'force_error: fail on purpose, please' });
    expect(created.status).toBe(202);
    await page.goto(`${api.baseUrl}/projects/${created.body.id}`);
    const errors = page.locator('.job-errors');
    await errors.waitFor({ timeout: 60_000 });
    await errors.getByText('forced_error', { exact: true }).first().waitFor();
    await errors.getByText('The instruction asked the dummy agent to fail').waitFor();
    await page.getByRole('list', { name: 'Jobs' }).getByText('Error', { exact: true }).waitFor();
    await screenshot(page, 'project-error');
  });

  it('deletes a project after a confirmation', async () => {
    const { api } = web;
    const { page } = tab;
    await page.goto(`${api.baseUrl}/projects/${projectId}`);
    await page.getByRole('button', { name: 'Delete project' }).click();
    await page.getByText('Delete this project? Its jobs are cancelled').waitFor();
    // "Keep it" changes nothing.
    await page.getByRole('button', { name: 'Keep it' }).click();
    expect((await api.get(`/api/v1/projects/${projectId}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete project' }).click();
    await page.getByRole('button', { name: 'Yes, delete it' }).click();
    await page.waitForURL(`${api.baseUrl}/`);
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await eventually(
      'the project to be gone',
      async () => (await api.get(`/api/v1/projects/${projectId}`)).status === 404,
    );
    expect(await page.getByRole('link', { name: INSTRUCTION }).count()).toBe(0);
  });
});
