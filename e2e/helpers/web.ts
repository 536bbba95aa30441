// The set-up every web e2e file shares: a stack of its own (the built API, and a runner unless the
// test plays it) and a headless Chromium, started before the file's tests and stopped after them;
// and a fresh page for each test, watched, and checked quiet after it (nothing from elsewhere,
// nothing refused by the CSP, no crash).
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import type { ApiClient } from './api-client';
import { expectQuietPage, launchChromium, watchPage } from './browser';
import { Stack, type SystemProcess } from './stack';

export interface WebStack {
  stack: Stack;
  api: ApiClient & { process: SystemProcess };
  /** Absent with `{ browser: false }`: a second stack that shares another's browser. */
  browser: Browser;
}

export interface WebStackOptions {
  /** The API's environment beyond the stack's own (AUTH_MODE, limits…). */
  api?: Record<string, string>;
  /** The runner's environment beyond FAST_RUNNER_ENV, or false for no runner. */
  runner?: Record<string, string> | false;
  browser?: boolean;
}

/** Started in the file's beforeAll, stopped in its afterAll; its fields are set once it runs. */
export function useWebStack(label: string, options: WebStackOptions = {}): WebStack {
  const web = {} as WebStack;
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
  beforeAll(async () => {
    web.stack = await Stack.create(label);
    web.api = await web.stack.startApi(options.api);
    if (options.runner !== false) await web.stack.startRunner('runner', options.runner);
    if (options.browser !== false) {
      chromium = await launchChromium();
      web.browser = chromium.browser;
    }
  });
  afterAll(async () => {
    await chromium?.close();
    await web.stack?.stop();
  });
  return web;
}

export interface TestPage {
  page: Page;
  watched: ReturnType<typeof watchPage>;
}

/**
 * A page per test, in a context of its own made with `options` (viewport, colour scheme…), or
 * from `open` (a context the file keeps, as a person's browser profile); closed after the test.
 */
export function usePagePerTest(
  web: WebStack,
  options: BrowserContextOptions | { open: () => Promise<Page> } = {},
): TestPage {
  const current = {} as TestPage;
  beforeEach(async () => {
    current.page = 'open' in options ? await options.open() : await web.browser.newPage(options);
    current.watched = watchPage(current.page, web.api.baseUrl);
  });
  afterEach(async () => {
    expectQuietPage(current.watched);
    await current.page.close();
  });
  return current;
}
