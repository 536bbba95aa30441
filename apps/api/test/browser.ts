import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

// Real Chromium for the tests that need a browser's rules (origins, cookies, sandboxing), started
// as test/chromium.js says (Debian's package, the flags; shared with the e2e tests and benchmarks).
// Missing, a test fails saying so, never skips.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { chromiumLaunchOptions } = require('../../../test/chromium') as {
  chromiumLaunchOptions: () => { executablePath: string; headless: boolean; args: string[] };
};

/**
 * Chromium with a profile of its own, as a person's browser is (not an incognito-like context,
 * which blocks third-party cookies by default). Closing the context removes the profile.
 */
export async function launchChromium(): Promise<BrowserContext> {
  const options = chromiumLaunchOptions();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-chromium-'));
  const context = await chromium.launchPersistentContext(profile, options);
  // Chromium may still be writing the profile as it exits: retried, and a leftover is only a temp dir.
  context.on('close', () => {
    fs.promises.rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => undefined);
  });
  return context;
}
