import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

// Real Chromium for the tests that need a browser's rules (origins, cookies, sandboxing):
// Debian's package, which scripts/install-chromium.sh installs (scripts/test.sh runs it). Missing, a test
// fails saying so, never skips.

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Chromium with a profile of its own, as a person's browser is (not an incognito-like context,
 * which blocks third-party cookies by default). Closing the context removes the profile.
 */
export async function launchChromium(): Promise<BrowserContext> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: run bash scripts/install-chromium.sh (it installs it)`,
    );
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    // Quiet on a closed network (notes: without these it opens many refused connections at start).
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
  // Chromium may still be writing the profile as it exits: retried, and a leftover is only a temp dir.
  context.on('close', () => {
    fs.promises.rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }).catch(() => undefined);
  });
  return context;
}
