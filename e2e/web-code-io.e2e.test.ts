// Undo and Download in the web app, in a real headless Chromium against the built API and a runner
// started as processes: an edit is undone from its page (the revert's diff takes its line away),
// and the workspace comes down as an archive through the Download link.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { screenshot } from './helpers/browser';
import { usePagePerTest, useWebStack } from './helpers/web';

const EDIT = 'Add a --count flag to the CLI';

describe('Undo and Download on the project page, in Chromium', () => {
  const web = useWebStack('webcodeio');
  const tab = usePagePerTest(web, { viewport: { width: 1280, height: 900 }, acceptDownloads: true });

  it('undoes an edit: the revert is queued, runs, and its diff removes the line; the archive downloads', async () => {
    const { api } = web;
    const { page } = tab;
    const project = await api.createProject('Generate a minimal Python CLI that prints Fibonacci numbers.');
    await api.waitForJob(project.id, project.job.id, 60_000, 'completed');
    const edit = await api.addJob(project.id, EDIT);
    await api.waitForJob(project.id, edit.id, 60_000, 'completed');

    await page.goto(`${api.baseUrl}/projects/${project.id}?job=${edit.id}`);
    const timeline = page.getByRole('list', { name: 'Jobs' });
    await page.getByRole('button', { name: 'Undo this job' }).click();
    // The revert is selected once its POST answers; the timeline's polling may list it a moment
    // before that, not yet selected, so wait for the selection rather than read it at once.
    const undo = timeline.getByRole('button', { name: /^3\. Undo/ });
    await undo.and(page.locator('[aria-current="true"]')).waitFor({ timeout: 10_000 });
    await undo.getByText('Completed', { exact: true }).waitFor({ timeout: 60_000 });
    const diff = page.locator('.job-diff');
    await diff.getByText('app.py', { exact: true }).waitFor({ timeout: 30_000 });
    // The removed line is the edit's comment.
    const removed = diff.locator('.diff-code-delete').filter({ hasText: EDIT });
    await removed.first().waitFor();
    expect(await diff.locator('.diff-code-insert').count()).toBe(0);
    await screenshot(page, 'project-undo');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'tar.gz' }).click(),
    ]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-web-download-'));
    try {
      const file = path.join(dir, download.suggestedFilename());
      await download.saveAs(file);
      expect(download.suggestedFilename()).toBe(`${project.id}.tar.gz`);
      execFileSync('tar', ['-xzf', file, '-C', dir]);
      const app = fs.readFileSync(path.join(dir, project.id, 'app.py'), 'utf8');
      expect(app).not.toContain(EDIT);
      expect(fs.existsSync(path.join(dir, project.id, '.codex'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
