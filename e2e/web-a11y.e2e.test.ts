// The web app's accessibility in a real headless Chromium, against the built API and a runner:
// axe-core on every view, 375 px wide and at desktop width, in light and in dark; and a person
// who uses only the keyboard creating a project, opening a file and reading a diff.
import axe from 'axe-core';
import type { Locator, Page } from 'playwright-core';
import { expectQuietPage, screenshot, watchPage } from './helpers/browser';
import { usePagePerTest, useWebStack } from './helpers/web';

const INSTRUCTION = 'Generate a minimal Python CLI that prints the first 10 Fibonacci numbers, with a test.';
const EDIT = 'Append a comment line to app.py describing the change.';

const LAYOUTS = [
  { name: 'phone', viewport: { width: 375, height: 740 } },
  { name: 'desktop', viewport: { width: 1280, height: 900 } },
] as const;
const SCHEMES = ['light', 'dark'] as const;

/** What axe reports that a person would be stopped by (its "serious" and "critical"), in words. */
async function seriousViolations(page: Page): Promise<string[]> {
  // axe-core itself, run in the page (what @axe-core/playwright does, without its Node 22 engine
  // requirement: its install warns on Node 20). page.evaluate is not subject to the app's CSP.
  await page.evaluate(axe.source);
  const { violations }: axe.AxeResults = await page.evaluate(
    // `any`: the e2e tests are typed for Node, without the DOM's names.
    // Not into frames: the Preview tab's frame is the agent's page (another origin), not the app.
    (values) =>
      (globalThis as any).axe.run((globalThis as any).document, { runOnly: { type: 'tag', values }, iframes: false }),
    ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

async function isFocused(locator: Locator): Promise<boolean> {
  // `any`: the e2e tests are typed for Node, without the DOM's names.
  return locator.evaluate((el: any) => el === el.ownerDocument.activeElement);
}

/**
 * Tab until `target` has the focus, as a person would; every stop on the way must show where the
 * focus is (an outline or a box shadow). Fails when the target is not reached in `max` stops.
 */
async function tabTo(page: Page, target: Locator, max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    // The page itself (past the last stop, Tab leaves the page's elements) is no stop to show.
    const shown = await page.evaluate<{ what: string; visible: boolean }>(`(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return { what: 'the page', visible: true };
      const style = getComputedStyle(el);
      return {
        what: el.outerHTML.slice(0, 120),
        visible: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none',
      };
    })()`);
    expect(`${shown.what}: ${shown.visible ? 'focus shown' : 'no visible focus'}`).toMatch(/focus shown$/);
    if (await isFocused(target)) return;
  }
  throw new Error(`${String(target)} was not reached in ${max} presses of Tab`);
}

/** axe on the view as it is now, usable at this width; its screenshot kept under .cache/ to look at. */
async function check(page: Page, name: string): Promise<void> {
  await screenshot(page, `a11y-${name}`);
  expect(await seriousViolations(page)).toEqual([]);
  // Usable at this width: nothing wider than the window.
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  expect(overflow).toBeLessThanOrEqual(0);
}

describe('the web app is accessible: axe on every view, and the keyboard alone', () => {
  const web = useWebStack('weba11y', { runner: { DUMMY_WORKER_DELAY_MS: '200' } });
  // The sign-in page needs AUTH_MODE=api_key: a stack of its own, seen in the same browser.
  const keyed = useWebStack('weba11ykey', { api: { AUTH_MODE: 'api_key' }, runner: false, browser: false });
  let projectId: string;
  let editJobId: string;
  let failedId: string;

  beforeAll(async () => {
    const { api } = web;
    const project = await api.createProject(INSTRUCTION);
    projectId = project.id;
    await api.waitForJob(projectId, project.job.id);
    const edit = await api.addJob(projectId, EDIT);
    editJobId = edit.id;
    await api.waitForJob(projectId, editJobId);
    const failed = await api.createProject('force_error: fail on purpose, please');
    failedId = failed.id;
    await api.waitForJob(failedId, failed.job.id, 60_000, 'error');
  });

  for (const layout of LAYOUTS) {
    for (const scheme of SCHEMES) {
      const label = `${layout.name}-${scheme}`;
      const options = { viewport: layout.viewport, colorScheme: scheme };

      describe(`${layout.name} (${layout.viewport.width} px), ${scheme}, signed out`, () => {
        const tab = usePagePerTest(keyed, { open: () => web.browser.newPage(options) });

        it('the sign-in page, and its message for a wrong key', async () => {
          const { page } = tab;
          await page.goto(`${keyed.api.baseUrl}/`);
          const key = page.getByLabel('API key');
          await key.waitFor();
          await check(page, `sign-in-${label}`);
          await key.fill('my password');
          await page.getByRole('button', { name: 'Sign in' }).click();
          await page
            .getByRole('alert')
            .getByText(/^That is not an API key of this service/)
            .waitFor();
          await check(page, `sign-in-wrong-key-${label}`);
        });
      });

      describe(`${layout.name} (${layout.viewport.width} px), ${scheme}`, () => {
        const tab = usePagePerTest(web, options);

        it('the projects list, and the new-project box showing a validation error', async () => {
          const { api } = web;
          const { page } = tab;
          await page.goto(`${api.baseUrl}/`);
          await page.getByRole('link', { name: INSTRUCTION }).waitFor();
          await check(page, `projects-${label}`);
          await page.getByLabel('What should the agent build?').fill('abc');
          await page.getByRole('button', { name: 'Create project' }).click();
          await page.getByRole('alert').waitFor();
          await check(page, `new-project-invalid-${label}`);
        });

        it('a project with its log', async () => {
          const { api } = web;
          const { page } = tab;
          await page.goto(`${api.baseUrl}/projects/${projectId}`);
          await page.getByText(/^Ended \(completed\) · \d+ lines$/).waitFor();
          await check(page, `project-log-${label}`);
        });

        it('the file tree and a file in the viewer', async () => {
          const { api } = web;
          const { page } = tab;
          await page.goto(`${api.baseUrl}/projects/${projectId}?file=app.py`);
          await page.getByLabel('Contents of app.py').locator('span[style*="color"]').first().waitFor();
          await page
            .getByRole('tree', { name: 'Files' })
            .getByRole('treeitem', { name: /^tests\// })
            .click();
          await check(page, `files-${label}`);
        });

        it('a diff, unified and split', async () => {
          const { api } = web;
          const { page } = tab;
          await page.goto(`${api.baseUrl}/projects/${projectId}?job=${editJobId}`);
          const diff = page.locator('.job-diff');
          await diff.locator('.diff-code-insert').first().waitFor();
          await check(page, `diff-unified-${label}`);
          await diff.getByRole('button', { name: 'Split' }).click();
          await diff.locator('table.diff-split').waitFor();
          await check(page, `diff-split-${label}`);
        });

        it('a failed project', async () => {
          const { api } = web;
          const { page } = tab;
          await page.goto(`${api.baseUrl}/projects/${failedId}`);
          await page.locator('.job-errors').getByText('forced_error', { exact: true }).first().waitFor();
          await check(page, `project-failed-${label}`);
        });

        it('the Preview tab', async () => {
          const { api } = web;
          const { page, watched } = tab;
          await page.goto(`${api.baseUrl}/projects/${projectId}?tab=preview`);
          const frame = page.getByTitle('Preview of the project');
          await frame.waitFor();
          await page.getByRole('button', { name: 'Start server' }).waitFor();
          await check(page, `preview-${label}`);
          // The frame's requests go to the preview's origin, the one other site the page may reach.
          const previewOrigin = new URL((await frame.getAttribute('src'))!).origin;
          expect(watched.foreignRequests.filter((u) => !u.startsWith(`${previewOrigin}/`))).toEqual([]);
          watched.foreignRequests.length = 0;
        });

        it('the delete confirmation', async () => {
          const { api } = web;
          const { page } = tab;
          await page.goto(`${api.baseUrl}/projects/${failedId}`);
          await page.getByRole('button', { name: 'Delete project' }).click();
          await page.getByRole('button', { name: 'Yes, delete it' }).waitFor();
          await check(page, `delete-confirm-${label}`);
        });
      });
    }
  }

  it('with the keyboard only: creates a project, opens a file from the tree, reads the diff split', async () => {
    const { api, browser } = web;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watched = watchPage(page, api.baseUrl);
    try {
      await page.goto(`${api.baseUrl}/`);
      const box = page.getByLabel('What should the agent build?');
      await box.waitFor();
      await tabTo(page, box);
      await page.keyboard.type('A keyboard-made project: a Python CLI printing Fibonacci numbers.');
      await tabTo(page, page.getByRole('button', { name: 'Create project' }));
      await page.keyboard.press('Enter');
      const openIt = page.getByRole('link', { name: 'open it' });
      await openIt.waitFor();
      await tabTo(page, openIt);
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/projects\/[0-9a-f-]{36}/);
      await page.getByText(/^Ended \(completed\) · \d+ lines$/).waitFor({ timeout: 60_000 });

      // The tree is one tab stop; arrows move in it, → opens a folder, Enter opens a file.
      const tree = page.getByRole('tree', { name: 'Files' });
      await tree.getByRole('treeitem').first().waitFor({ timeout: 30_000 });
      await tabTo(page, tree);
      const activeName = async () => {
        const id = await tree.getAttribute('aria-activedescendant');
        return (await page.locator(`[id="${id}"]`).textContent())?.trim();
      };
      expect(await activeName()).toMatch(/^▸ tests\//);
      await page.keyboard.press('ArrowRight');
      await tree
        .getByRole('treeitem', { name: /^tests\// })
        .and(page.locator('[aria-expanded="true"]'))
        .waitFor();
      await page.keyboard.press('ArrowDown');
      expect(await activeName()).toMatch(/test_cli\.py/);
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      await tree
        .getByRole('treeitem', { name: /^tests\// })
        .and(page.locator('[aria-expanded="false"]'))
        .waitFor();
      await page.keyboard.press('ArrowDown');
      expect(await activeName()).toMatch(/app\.py/);
      await page.keyboard.press('Enter');
      await page.getByLabel('Contents of app.py').getByText('def fibonacci(n):').waitFor();
      expect(await isFocused(tree)).toBe(true);

      // The diff: its layout switch, and the diff itself scrolled with the keyboard.
      const split = page.locator('.job-diff').getByRole('button', { name: 'Split' });
      await tabTo(page, split);
      await page.keyboard.press('Enter');
      await page.locator('.job-diff table.diff-split').first().waitFor();
      expect(await split.getAttribute('aria-pressed')).toBe('true');
      await page.locator('.job-diff').getByText('def fibonacci(n):').first().waitFor();
      await screenshot(page, 'keyboard-diff-split');
      expectQuietPage(watched);
    } finally {
      await page.close();
    }
  });
});
