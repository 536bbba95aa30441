// B7: the web app in headless Chromium against the built API, against the budgets:
// (a) the JavaScript and CSS the projects page loads, as transferred (gzipped), with the project
//     page's chunks loaded only on demand; and the project page's own, up to its tree, with the
//     file viewer, Shiki and the diff kept for later (what opening a file adds is printed too);
// (b) the file tree of a 20,000-file workspace (B4's builder) shown from navigation to its first
//     rows, and a 1,000-entry folder opened to its rows;
// (c) a job log receiving 50,000 lines live (appended to the job's log file as the runner does):
//     the longest main-thread task while they arrive (PerformanceObserver 'longtask').
// Each is run RUNS times in a fresh browser context (no cache); the median and the range print.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createBenchEnv, startApi, startProcess, stats, round, req, fromRoot } = require('./lib');
const { fillWorkspace } = require('./b4-files');
const { chromiumLaunchOptions } = require('../../test/chromium');

const RUNS = Number(process.env.BENCH_B7_RUNS || 3);
const FILES = 20_000;
const WIDE = 1_000;
const LOG_LINES = Number(process.env.BENCH_B7_LOG_LINES || 50_000);
const LOG_LINES_PER_S = Number(process.env.BENCH_B7_LINES_PER_S || 5_000);
const BUDGET = { bundle_kb: 150, tree_ms: 1000, long_task_ms: 200 };

const { chromium } = req('playwright-core');
const { Client } = req('pg');
const { jobLogFile } = require(fromRoot('packages/workspace/dist'));

// In every page before its own scripts: when the first tree row and the first log row appear,
// and every long task, in the page's own clock (performance.now(), 0 at navigation start).
const PAGE_PROBES = `
  window.__b7 = { longTasks: [], firstTreeRowAt: null };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__b7.longTasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  new MutationObserver(() => {
    if (window.__b7.firstTreeRowAt === null && document.querySelector('[role=treeitem]')) {
      window.__b7.firstTreeRowAt = performance.now();
    }
  }).observe(document, { childList: true, subtree: true });
`;

async function createProject(api, instruction) {
  const res = await fetch(`${api.base}/api/v1/projects`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instruction }),
  });
  if (res.status !== 202) throw new Error(`B7: POST /projects answered ${res.status}`);
  return res.json();
}

/** Every script and stylesheet the page fetches from now on, as transferred (gzipped body + headers). */
function collectAssets(page) {
  const loaded = [];
  page.on('requestfinished', (request) => {
    const type = request.resourceType();
    if (type !== 'script' && type !== 'stylesheet') return;
    loaded.push(
      request.sizes().then((s) => ({
        url: new URL(request.url()).pathname,
        type,
        bytes: s.responseBodySize + s.responseHeadersSize,
        body: s.responseBodySize,
      })),
    );
  });
  // What has come since the last call.
  let taken = 0;
  return async () => {
    const files = await Promise.all(loaded.slice(taken));
    taken = loaded.length;
    return files;
  };
}

const sumKb = (list) => round(list.reduce((n, f) => n + f.bytes, 0) / 1024, 1);
const describeAssets = (files) => files.map((f) => `${f.url} ${round(f.bytes / 1024, 1)} KB`);
// Chunk names are the build's (apps/web/vite.config.ts and the lazy imports' file names).
const PROJECT_CHUNKS = /\/assets\/(project)-/;
const VIEWER_CHUNKS = /\/assets\/(highlight|file-viewer|job-diff)-/;

/** (a) What the projects page transfers, by kind; and that the project page's chunks stay away. */
async function measureBundle(browser, api) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const taken = collectAssets(page);
  await page.goto(`${api.base}/`, { waitUntil: 'networkidle' });
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  const files = await taken();
  await context.close();
  return {
    kb: sumKb(files),
    js_kb: sumKb(files.filter((f) => f.type === 'script')),
    css_kb: sumKb(files.filter((f) => f.type === 'stylesheet')),
    files: describeAssets(files),
    // None may load on this page.
    on_demand_loaded: files.filter((f) => PROJECT_CHUNKS.test(f.url) || VIEWER_CHUNKS.test(f.url)).map((f) => f.url),
  };
}

/**
 * (a) The project page of a small project (its job not run, so no diff): what it loads up to its
 * tree, with the viewer, Shiki and the diff kept away; then what opening app.py adds.
 */
async function measureProjectPage(browser, api, projectId) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const taken = collectAssets(page);
  await page.goto(`${api.base}/projects/${projectId}`, { waitUntil: 'networkidle' });
  const tree = page.getByRole('tree', { name: 'Files' });
  await tree.getByRole('treeitem', { name: /^app\.py/ }).waitFor({ timeout: 30_000 });
  const first = await taken();
  await tree.getByRole('treeitem', { name: /^app\.py/ }).click();
  await page.getByLabel('Contents of app.py').locator('span[style*="color"]').first().waitFor({ timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  const opened = await taken();
  await context.close();
  return {
    kb: sumKb(first),
    files: describeAssets(first),
    on_demand_loaded: first.filter((f) => VIEWER_CHUNKS.test(f.url)).map((f) => f.url),
    file_opened_kb: sumKb(opened),
    file_opened_files: describeAssets(opened),
  };
}

/** (b) From navigation to the first tree rows; then a 1,000-entry folder opened to its rows. */
async function measureTree(browser, api, projectId) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(PAGE_PROBES);
  const page = await context.newPage();
  await page.goto(`${api.base}/projects/${projectId}`);
  const tree = page.getByRole('tree', { name: 'Files' });
  await tree.getByRole('treeitem').first().waitFor({ timeout: 30_000 });
  const shownMs = await page.evaluate('window.__b7.firstTreeRowAt');
  // Where the time went: the listing's request (start, answered, last byte), in the page's clock.
  const listing = await page.evaluate(`(() => {
    const e = performance.getEntriesByType('resource').find((r) => /\\/files(\\?|$)/.test(r.name));
    return e ? [e.startTime, e.responseStart, e.responseEnd].map(Math.round) : null;
  })()`);
  await tree.getByRole('treeitem', { name: /^wide\// }).click();
  const folder = tree.getByRole('treeitem', { name: /^d0\// }).and(page.locator('[aria-level="2"]'));
  await folder.waitFor();
  // Clicked and timed inside the page: from the click to the frame that shows the folder's rows.
  const expandMs = await folder.evaluate(
    /* global document, requestAnimationFrame */
    (el) =>
      new Promise((resolve) => {
        const t0 = performance.now();
        const shown = () => document.querySelector('[role=treeitem][aria-level="3"]');
        el.click();
        const check = () =>
          shown() ? requestAnimationFrame(() => resolve(performance.now() - t0)) : setTimeout(check, 0);
        check();
      }),
  );
  const rows = await tree.getByRole('treeitem').count();
  await context.close();
  const [asked, , answered] = listing ?? [NaN, NaN, NaN];
  return {
    shown_ms: round(shownMs, 0),
    expand_ms: round(expandMs, 0),
    rows_in_page: rows,
    // Navigation → the listing asked for (the page's code); the API's answer; the app's own work after.
    listing_asked_ms: asked,
    listing_answer_ms: answered - asked,
    app_after_listing_ms: round(shownMs - answered, 0),
  };
}

/** (c) The job log page while LOG_LINES lines are appended to the running job's log. */
async function measureLog(browser, api, pg) {
  const project = await createProject(api, 'benchmark web log');
  const jobId = project.job.id;
  await pg.query(`UPDATE jobs SET status = 'in_progress', started_at = now() WHERE id = $1`, [jobId]);
  const logFile = jobLogFile(project.workspace_path, jobId);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, '');

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(PAGE_PROBES);
  const page = await context.newPage();
  await page.goto(`${api.base}/projects/${project.id}?job=${jobId}`);
  await page.getByText(/^Live · 0 lines$/).waitFor({ timeout: 30_000 });
  const from = await page.evaluate('performance.now()');
  const seconds = LOG_LINES / LOG_LINES_PER_S;
  const writer = startProcess('b7-writer', 'e2e/bench/b6-log-writer.js', {
    ...process.env,
    LOG_FILE: logFile,
    LINES_PER_S: String(LOG_LINES_PER_S),
    SECONDS: String(seconds),
  });
  await writer.exited;
  await pg.query(`UPDATE jobs SET status = 'completed', finished_at = now() WHERE id = $1`, [jobId]);
  const ended = `Ended (completed) · ${LOG_LINES.toLocaleString('en')} lines`;
  await page.getByText(ended).waitFor({ timeout: 120_000 });
  const to = await page.evaluate('performance.now()');
  const tasks = (await page.evaluate('window.__b7.longTasks')).filter((t) => t.start >= from && t.start <= to);
  await context.close();
  return {
    longest_task_ms: round(Math.max(0, ...tasks.map((t) => t.ms)), 0),
    long_tasks: tasks.length,
    received_s: round((to - from) / 1000, 1),
    written_s: seconds,
  };
}

const spread = (values) => {
  const s = stats(values);
  return { median: round(s.median, 1), min: round(s.min, 1), max: round(s.max, 1) };
};

module.exports = async function b7() {
  const env = await createBenchEnv('b7');
  const pg = new Client({ connectionString: env.env.DATABASE_URL });
  await pg.connect();
  let api;
  let browser;
  try {
    api = await startApi(env.env);
    browser = await chromium.launch(chromiumLaunchOptions());

    const project = await createProject(api, 'benchmark web tree');
    // B4's shape (folders of 100 under src/) and one folder of 1,000: 20,000 files in all.
    fillWorkspace(project.workspace_path, FILES - WIDE);
    fillWorkspace(project.workspace_path, WIDE, { perDir: WIDE, under: 'wide' });

    // A small project for the project page's own bytes: a Python file to open, nothing run.
    const small = await createProject(api, 'benchmark web project page');
    fs.writeFileSync(path.join(small.workspace_path, 'app.py'), 'def fibonacci(n):\n    return n\n');
    fs.writeFileSync(path.join(small.workspace_path, 'README.md'), '# A small project\n');

    const bundles = [];
    const projectPages = [];
    const trees = [];
    const logs = [];
    for (let i = 0; i < RUNS; i++) {
      bundles.push(await measureBundle(browser, api));
      projectPages.push(await measureProjectPage(browser, api, small.id));
      trees.push(await measureTree(browser, api, project.id));
      logs.push(await measureLog(browser, api, pg));
    }
    const bundle = bundles[0];
    if (bundle.on_demand_loaded.length) {
      throw new Error(`B7: the projects page loaded chunks meant for later: ${bundle.on_demand_loaded.join(', ')}`);
    }
    const projectPage = projectPages[0];
    if (projectPage.on_demand_loaded.length) {
      throw new Error(
        `B7: the project page loaded the viewer or diff before a file was opened: ${projectPage.on_demand_loaded.join(', ')}`,
      );
    }
    const shown = spread(trees.map((t) => t.shown_ms));
    const expand = spread(trees.map((t) => t.expand_ms));
    const longest = spread(logs.map((l) => l.longest_task_ms));
    return {
      bundle_kb: bundle.kb,
      project_page_kb: projectPage.kb,
      file_opened_kb: projectPage.file_opened_kb,
      tree_shown_ms: shown,
      tree_expand_ms: expand,
      tree_listing_answer_ms: spread(trees.map((t) => t.listing_answer_ms)),
      tree_app_after_listing_ms: spread(trees.map((t) => t.app_after_listing_ms)),
      log_longest_task_ms: longest,
      met: {
        bundle: bundle.kb <= BUDGET.bundle_kb,
        tree: shown.max <= BUDGET.tree_ms && expand.max <= BUDGET.tree_ms,
        log: longest.max <= BUDGET.long_task_ms,
      },
      target: `bundle <= ${BUDGET.bundle_kb} KB gzipped, tree <= ${BUDGET.tree_ms} ms, no log task > ${BUDGET.long_task_ms} ms`,
      bundle,
      project_page: projectPage,
      trees,
      logs,
      load_1min: os.loadavg().map((l) => round(l, 1)),
      files: FILES,
      log_lines: LOG_LINES,
      log_lines_per_s: LOG_LINES_PER_S,
    };
  } finally {
    await browser?.close();
    await api?.stop();
    await pg.end();
    await env.dispose();
  }
};
