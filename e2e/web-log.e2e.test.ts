// The live log view in a real headless Chromium against the built API: a running job's log (lines
// appended to its file as the runner appends them) followed over SSE, and the connection lost
// mid-run (every connection between them cut): the view resumes with Last-Event-ID, no line lost
// or doubled.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { jobLogFile } from '@cwo/workspace';
import { screenshot } from './helpers/browser';
import { useWebStack } from './helpers/web';

const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `[agent] line ${from + i}\n`).join('');

/**
 * The network between the browser and the API, which the test can cut: a TCP relay whose
 * connections `cut()` drops at once (and refuses until `mend()`). Chromium's offline emulation
 * does not end a stream already open, so it cannot stand in for a lost connection.
 */
async function cuttableLink(targetPort: number) {
  const open = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.on('error', () => undefined);
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut() {
      cut = true;
      for (const socket of open) socket.destroy();
    },
    mend() {
      cut = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the live log view, in Chromium, against the API', () => {
  // No runner: the test plays it.
  const web = useWebStack('weblog', { runner: false });

  it('resumes after the connection drops mid-run with Last-Event-ID: no line lost, none twice', async () => {
    const { api, stack, browser } = web;
    // A running job, its log written as the runner writes it.
    const created = await api.post('/api/v1/projects', { instruction: 'A job whose log is followed live' });
    expect(created.status).toBe(202);
    const { id: projectId, workspace_path: workspace } = created.body;
    const jobId: string = created.body.job.id;
    await stack.db.$executeRawUnsafe(
      `UPDATE jobs SET status = 'in_progress', started_at = now() WHERE id = $1::uuid`,
      jobId,
    );
    const logFile = jobLogFile(workspace, jobId);
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.writeFileSync(logFile, lines(1, 200));

    const link = await cuttableLink(Number(new URL(api.baseUrl).port));
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const streams: { lastEventId: string | undefined }[] = [];
    page.on('request', (request) => {
      if (!request.url().includes(`/jobs/${jobId}/logs?follow=1`)) return;
      const entry: { lastEventId: string | undefined } = { lastEventId: undefined };
      streams.push(entry);
      void request.allHeaders().then((h) => (entry.lastEventId = h['last-event-id']));
    });
    try {
      await page.goto(`${link.url}/projects/${projectId}?job=${jobId}`);
      const status = page.getByRole('status').filter({ hasText: /lines?$/ });
      await status.getByText('Live · 200 lines').waitFor({ timeout: 30_000 });

      // The connection is lost; the job writes on meanwhile.
      link.cut();
      await status.getByText(/^Connection lost, reconnecting… · 200 lines$/).waitFor();
      fs.appendFileSync(logFile, lines(201, 400));
      await screenshot(page, 'log-reconnecting');
      link.mend();
      await status.getByText('Live · 400 lines').waitFor({ timeout: 30_000 });

      fs.appendFileSync(logFile, lines(401, 500));
      await stack.db.$executeRawUnsafe(
        `UPDATE jobs SET status = 'completed', finished_at = now() WHERE id = $1::uuid`,
        jobId,
      );
      await status.getByText('Ended (completed) · 500 lines').waitFor({ timeout: 30_000 });

      // The reconnection asked for what followed the 200 lines it had: their bytes, as the event id.
      const resumed = streams.filter((s) => s.lastEventId !== undefined);
      expect(resumed.length).toBeGreaterThanOrEqual(1);
      expect(resumed[0]!.lastEventId).toBe(String(Buffer.byteLength(lines(1, 200))));
      expect(streams[0]!.lastEventId).toBeUndefined();
      // Followed to the end: the last rows are the last lines, each in its place.
      const log = page.getByRole('log', { name: 'Job log' });
      const last = log.locator('[data-line="500"]');
      await last.waitFor();
      expect(await last.textContent()).toBe('[agent] line 500');
      expect(await log.locator('[data-line="501"]').count()).toBe(0);
      // Every row in the page (the view draws those in view) holds the line of its number.
      const rows = await log
        .locator('[data-line]')
        .evaluateAll((els: any[]) => els.map((el) => `${el.getAttribute('data-line')}: ${el.textContent}`));
      expect(rows.length).toBeGreaterThan(10);
      for (const row of rows) expect(row).toMatch(/^(\d+): \[agent\] line \1$/);
      await screenshot(page, 'log-resumed');
    } finally {
      await context.close();
      await link.close();
    }
  });
});
