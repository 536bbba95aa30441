// A real headless Chromium for the web app's tests: Debian's package (scripts/install-chromium.sh,
// which `pnpm test:e2e` runs), driven by playwright-core, which downloads no browser of its own.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Where each run keeps the screenshots of the views, to look at (ignored by git). */
export const SCREENSHOT_DIR = path.join(__dirname, '..', '..', '.cache', 'web-e2e');

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `The web app's browser tests need Chromium at ${CHROMIUM}: run \`bash scripts/install-chromium.sh\` ` +
        '(`pnpm test:e2e` does) or `apt-get install -y chromium`.',
    );
  }
  // A fresh profile per launch is playwright's own (a temporary directory it removes). Quiet on a closed network: without these it opens many refused connections at start.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
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

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Nothing from another host (the app works offline), nothing refused by the CSP, no crash. */
export function expectQuietPage(watched: ReturnType<typeof watchPage>): void {
  expect(watched.foreignRequests).toEqual([]);
  expect(watched.consoleErrors.filter((m) => /Content.Security.Policy/i.test(m))).toEqual([]);
  expect(watched.pageErrors).toEqual([]);
}
