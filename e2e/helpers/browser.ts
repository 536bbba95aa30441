// A real headless Chromium for the web app's tests (test/chromium.js: Debian's package, the flags),
// driven by playwright-core, which downloads no browser of its own.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

// test/chromium.js is CommonJS, shared with the API's browser tests and the benchmarks.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { chromiumLaunchOptions } = require('../../test/chromium') as {
  chromiumLaunchOptions: () => { executablePath: string; headless: boolean; args: string[] };
};

/** Where each run keeps the screenshots of the views, to look at (ignored by git). */
export const SCREENSHOT_DIR = path.join(__dirname, '..', '..', '.cache', 'web-e2e');

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  // A fresh profile per launch is playwright's own (a temporary directory it removes).
  const browser = await chromium.launch(chromiumLaunchOptions());
  return {
    browser,
    close: () => browser.close(),
  };
}

/** What a page did that a person would not see but a test must: requests elsewhere, CSP refusals, errors. */
export function watchPage(page: Page, origin: string) {
  const foreignRequests: string[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) foreignRequests.push(url);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return { foreignRequests, consoleErrors, pageErrors };
}

/** The whole page, or one part of it (a locator: what it shows, scrolled into view). */
export async function screenshot(target: Page | Locator, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  if ('goto' in target) await target.screenshot({ path: file, fullPage: true });
  else await target.screenshot({ path: file });
  return file;
}

/** Nothing from another host (the app works offline), nothing refused by the CSP, no crash. */
export function expectQuietPage(watched: ReturnType<typeof watchPage>): void {
  expect(watched.foreignRequests).toEqual([]);
  expect(watched.consoleErrors.filter((m) => /Content.Security.Policy/i.test(m))).toEqual([]);
  expect(watched.pageErrors).toEqual([]);
}
