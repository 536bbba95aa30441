// `pnpm dev`'s web half: Vite's dev server (apps/web, `vite`) against a running API, in a real
// headless Chromium. The page comes from Vite (sources transformed on the fly, hot reload) and its
// data from the API, through the proxy in apps/web/vite.config.ts on PORT.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { screenshot } from './helpers/browser';
import { eventually, freePort } from './helpers/stack';
import { useWebStack } from './helpers/web';

const WEB_DIR = path.join(__dirname, '..', 'apps', 'web');

describe('pnpm dev: the Vite dev server against the API', () => {
  const web = useWebStack('webdev', { runner: false });
  let vite: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (vite && vite.exitCode === null) {
      const exited = new Promise((resolve) => vite!.once('exit', resolve));
      vite.kill('SIGTERM');
      await exited;
    }
  });

  it('serves the app from its sources and talks to the API through its proxy', async () => {
    const { api, browser } = web;
    const created = await api.post('/api/v1/projects', { instruction: 'A project seen through the dev server' });
    expect(created.status).toBe(202);

    const port = await freePort();
    // As `pnpm dev` starts it (apps/web's `dev` script is `vite`), on a port of the test's own.
    vite = spawn(
      process.execPath,
      [path.join(WEB_DIR, 'node_modules', 'vite', 'bin', 'vite.js'), '--port', String(port), '--strictPort'],
      { cwd: WEB_DIR, env: { ...process.env, PORT: new URL(api.baseUrl).port }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    vite.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    vite.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const base = `http://localhost:${port}`;
    await eventually(
      'the Vite dev server to answer',
      async () => {
        if (vite!.exitCode !== null) throw new Error(`vite exited (${vite!.exitCode}):\n${output}`);
        return (await fetch(`${base}/`).catch(() => null))?.status === 200;
      },
      60_000,
    );

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    try {
      await page.goto(`${base}/`);
      // The sources themselves, not the build: Vite's client and the app's own modules.
      const html = await (await fetch(`${base}/`)).text();
      expect(html).toContain('/@vite/client');
      expect(html).toContain('/src/main.tsx');
      // The list came from the API, through the proxy.
      await page.getByRole('link', { name: 'A project seen through the dev server' }).waitFor({ timeout: 60_000 });
      await screenshot(page, 'dev-server-projects');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
