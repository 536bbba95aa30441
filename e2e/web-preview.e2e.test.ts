// The project page's Preview tab in a real headless Chromium, against the built API and a runner:
// the agent's site rendered in the sandboxed frame, from the preview's own origin.
import fs from 'node:fs';
import path from 'node:path';
import { screenshot, watchPage } from './helpers/browser';
import { eventually } from './helpers/stack';
import { useWebStack } from './helpers/web';

// The site, as an agent asked for a browser game would write it (the dummy agent writes a Python
// CLI, so the test adds it to the workspace after the job): a page, its script and its stylesheet.
const SITE = {
  'index.html':
    '<!doctype html><html><head><title>Snake</title><link rel="stylesheet" href="/style.css"></head>' +
    '<body><h1>Snake by the agent</h1><p id="state">script not run</p><script src="/game.js"></script></body></html>',
  'style.css': 'h1 { color: rgb(0, 128, 0); }',
  'game.js':
    "document.getElementById('state').textContent = 'script ran; cookies ' + (() => { try { return document.cookie; } catch { return 'refused'; } })();",
};
const VIEWPORT = { width: 1280, height: 1000 };

describe('the Preview tab, in Chromium, against the API and a runner', () => {
  const web = useWebStack('webpreview');

  it("renders the agent's index.html in the sandboxed frame, from the preview origin", async () => {
    const { api, stack, browser } = web;
    const project = await api.createProject('Build me a snake game in the browser');
    await eventually(
      'the first job to complete',
      async () => (await api.job(project.id, project.job.id)).status === 'completed',
      60_000,
    );
    const workspace = path.join(stack.workspaceRoot, project.id);
    for (const [name, text] of Object.entries(SITE)) fs.writeFileSync(path.join(workspace, name), text);

    const page = await browser.newPage({ viewport: VIEWPORT });
    const watched = watchPage(page, api.baseUrl);
    await page.goto(`${api.baseUrl}/projects/${project.id}`);
    await page.getByRole('tab', { name: 'Preview' }).click();
    await page.waitForURL(/\?tab=preview$/);

    const frameElement = page.getByTitle('Preview of the project');
    expect(await frameElement.getAttribute('sandbox')).toBe('allow-scripts allow-forms allow-popups allow-modals');
    const previewOrigin = new URL((await frameElement.getAttribute('src'))!).origin;
    expect(previewOrigin).toMatch(new RegExp(`^http://${project.id}\\.preview\\.localhost:\\d+$`));
    const frame = page.frameLocator('iframe[title="Preview of the project"]');
    await frame.getByRole('heading', { name: 'Snake by the agent' }).waitFor({ timeout: 20_000 });
    // Its script ran (in an opaque origin: no cookies to read) and its stylesheet applied.
    await frame.getByText('script ran; cookies refused').waitFor();
    // A string: evaluated in the frame's document (this file is typed for Node, not the DOM).
    const previewFrame = page.frames().find((f) => f.url().startsWith(`${previewOrigin}/`))!;
    const colour = await previewFrame.evaluate<string>("getComputedStyle(document.querySelector('h1')).color");
    expect(colour).toBe('rgb(0, 128, 0)');
    const open = page.getByRole('link', { name: 'Open in a new tab' });
    expect(await open.getAttribute('href')).toBe(`${previewOrigin}/`);
    expect(await open.getAttribute('target')).toBe('_blank');
    // The tabs themselves, not the page: Chromium leaves a cross-site frame outside the viewport
    // blank in a full-page capture, and an element's capture scrolls it into view first.
    await screenshot(page.locator('.project-tabs'), 'project-preview');

    // The only other site the page loaded is the preview; nothing refused, nothing crashed.
    expect(watched.foreignRequests.filter((u) => !u.startsWith(`${previewOrigin}/`))).toEqual([]);
    expect(watched.foreignRequests.length).toBeGreaterThanOrEqual(3);
    expect(watched.consoleErrors).toEqual([]);
    expect(watched.pageErrors).toEqual([]);
    await page.close();
  });
});
