import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import request from 'supertest';
import { jobLogFile } from '@cwo/workspace';
import { startHarness, type Harness } from '../../test/harness';
import { listen } from '../../test/http';

/** Reads an SSE response until `done` says so (or the server closes it); returns the raw text. */
function readEvents(
  port: number,
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<{ text: string; status: number; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ text, status: res.statusCode ?? 0, type: String(res.headers['content-type']) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** The log bytes a client rebuilds from the events it got (what `data:` lines carry). */
function logOf(events: string): string {
  return [...events.matchAll(/^id: \d+\nevent: log\n((?:data: .*\n)+)\n/gm)]
    .map((m) => m[1]!.replace(/^data: /gm, ''))
    .join('');
}

const ids = (events: string): number[] => [...events.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

describe('job logs API', () => {
  let h: Harness;
  let port: number;
  let closeServer: () => Promise<void>;

  beforeAll(async () => {
    h = await startHarness();
    ({ port, close: closeServer } = await listen(h.app));
  });
  afterAll(async () => {
    await closeServer();
    await h.close();
  });

  async function newJob() {
    const res = await request(h.app).post('/api/v1/projects').send({ instruction: 'logs under test' }).expect(202);
    const logFile = jobLogFile(res.body.workspace_path, res.body.job.id);
    return {
      projectId: res.body.id as string,
      jobId: res.body.job.id as string,
      logFile,
      url: `/api/v1/projects/${res.body.id}/jobs/${res.body.job.id}/logs`,
    };
  }
  /** What the runner does: append to the job's log file. */
  const appendLog = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, text);
  };
  const setStatus = (jobId: string, status: 'in_progress' | 'completed' | 'error') =>
    h.db.job.update({ where: { id: jobId }, data: { status, errorCode: status === 'error' ? 'agent_error' : null } });

  it('a queued job without a log yet has an empty log at offset 0 (not 404)', async () => {
    const { url } = await newJob();
    const res = await request(h.app).get(url).expect(200);
    expect(res.text).toBe('');
    expect(res.headers['x-log-offset']).toBe('0');
    expect(res.headers['x-job-status']).toBe('queued');
  });

  it('answers under the short form /api/v1/{id}/jobs/{jobId}/logs too, and a cancel there too', async () => {
    const { projectId, jobId, logFile } = await newJob();
    appendLog(logFile, 'short form\n');
    const short = await request(h.app).get(`/api/v1/${projectId}/jobs/${jobId}/logs`).expect(200);
    expect(short.text).toBe('short form\n');
    expect(short.headers['x-log-offset']).toBe('11');
    const cancelled = await request(h.app).post(`/api/v1/${projectId}/jobs/${jobId}/cancel`).expect(200);
    expect(cancelled.body.status).toBe('cancelled');
    await request(h.app).post(`/api/v1/${projectId}/jobs/${jobId}/cancel`).expect(409);
  });

  it('returns the bytes from an offset to the current end, with the next offset', async () => {
    const { url, logFile, jobId } = await newJob();
    await setStatus(jobId, 'in_progress');
    appendLog(logFile, 'line one\nline two\n');
    const all = await request(h.app).get(url).expect(200);
    expect(all.text).toBe('line one\nline two\n');
    expect(all.headers['content-type']).toMatch(/^text\/plain/);
    expect(all.headers['x-log-offset']).toBe('18');
    expect(all.headers['x-job-status']).toBe('in_progress');

    appendLog(logFile, 'line three\n');
    const next = await request(h.app).get(`${url}?offset=18`).expect(200);
    expect(next.text).toBe('line three\n');
    expect(next.headers['x-log-offset']).toBe('29');

    const atEnd = await request(h.app).get(`${url}?offset=29`).expect(200);
    expect(atEnd.text).toBe('');
    expect(atEnd.headers['x-log-offset']).toBe('29');

    await request(h.app).get(`${url}?offset=-1`).expect(422);
  });

  it('follow=1 streams the log as it grows, then `end` with the final status', async () => {
    const { url, logFile, jobId } = await newJob();
    await setStatus(jobId, 'in_progress');
    appendLog(logFile, 'step 1\n');
    const streamed = readEvents(port, `${url}?follow=1`);
    await new Promise((r) => setTimeout(r, 300));
    appendLog(logFile, 'step 2\nstep 3\n');
    await new Promise((r) => setTimeout(r, 300));
    appendLog(logFile, 'done\n');
    await setStatus(jobId, 'completed');
    const { text, status, type } = await streamed;
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/event-stream/);
    const body = text.replace(/^: keep-alive\n\n/gm, '');
    expect(body.startsWith('retry: 1000\n\n')).toBe(true);
    // Every line arrives once, in order, each as its own data: line, ids are byte offsets.
    const data = [...body.matchAll(/^data: (.*)$/gm)].map((m) => m[1]);
    expect(data).toEqual(['step 1', 'step 2', 'step 3', 'done', '{"status":"completed"}']);
    const ids = [...body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids[0]).toBe(7);
    expect(ids[ids.length - 1]).toBe(26);
    expect(body.endsWith('event: end\ndata: {"status":"completed"}\n\n')).toBe(true);
  });

  it('ends the stream on the server when the client disconnects', async () => {
    const { url, logFile, jobId } = await newJob();
    await setStatus(jobId, 'in_progress');
    appendLog(logFile, 'working\n');
    h.logs.length = 0;
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `${url}?follow=1` }, (res) => {
        res.once('data', () => {
          req.destroy(); // the user closed the tab
          resolve();
        });
      });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    });
    // The server notices and ends the request (logged as aborted); follow-log.test.ts shows the
    // poll loop stops with it.
    const deadline = Date.now() + 5000;
    while (!h.logs.some((l) => l.message === 'request' && l.aborted === true) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(h.logs.find((l) => l.message === 'request' && l.path === url)).toMatchObject({ status: 200, aborted: true });
  });

  it('a client connecting after the end gets the whole log, then end', async () => {
    const { url, logFile, jobId } = await newJob();
    appendLog(logFile, 'a\nb\n');
    await setStatus(jobId, 'error');
    const { text } = await readEvents(port, `${url}?follow=1`);
    expect(text).toBe('retry: 1000\n\nid: 4\nevent: log\ndata: a\ndata: b\n\nevent: end\ndata: {"status":"error"}\n\n');
  });

  it('resumes from Last-Event-ID (over the offset query)', async () => {
    const { url, logFile, jobId } = await newJob();
    appendLog(logFile, 'first\nsecond\n');
    await setStatus(jobId, 'completed');
    const { text } = await readEvents(port, `${url}?follow=1&offset=0`, { 'Last-Event-ID': '6' });
    expect(text).toBe(
      'retry: 1000\n\nid: 13\nevent: log\ndata: second\n\nevent: end\ndata: {"status":"completed"}\n\n',
    );
  });

  it('many clients following one running job each get every line once, in order; one that reconnects with Last-Event-ID misses nothing', async () => {
    const { url, logFile, jobId } = await newJob();
    await setStatus(jobId, 'in_progress');
    const line = (i: number) => `line ${i} of the job\n`;
    const written: string[] = [];
    const write = (from: number, n: number) => {
      const text = Array.from({ length: n }, (_, i) => line(from + i)).join('');
      written.push(text);
      appendLog(logFile, text);
    };
    write(0, 5);
    const followers = Array.from({ length: 10 }, () => readEvents(port, `${url}?follow=1`));

    // One more client reads until it has some events, then its connection drops.
    let firstVisit = '';
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `${url}?follow=1` }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          firstVisit += c;
          if (/^id: \d+$/m.test(firstVisit)) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    });
    firstVisit = firstVisit.slice(0, firstVisit.lastIndexOf('\n\n') + 2); // whole events only
    const lastId = ids(firstVisit).pop()!;
    for (let i = 1; i <= 4; i++) {
      write(i * 5, 5);
      await new Promise((r) => setTimeout(r, 50));
    }
    const secondVisit = readEvents(port, `${url}?follow=1`, { 'Last-Event-ID': String(lastId) });
    write(25, 5);
    await setStatus(jobId, 'completed');

    const whole = written.join('');
    for (const { text } of await Promise.all(followers)) {
      expect(logOf(text)).toBe(whole);
      expect(text.endsWith('event: end\ndata: {"status":"completed"}\n\n')).toBe(true);
    }
    const resumed = (await secondVisit).text;
    expect(logOf(firstVisit) + logOf(resumed)).toBe(whole);
    expect(resumed.endsWith('event: end\ndata: {"status":"completed"}\n\n')).toBe(true);
  });

  it('404 for an unknown job', async () => {
    const { projectId } = await newJob();
    const res = await request(h.app)
      .get(`/api/v1/projects/${projectId}/jobs/00000000-0000-4000-8000-000000000000/logs`)
      .expect(404);
    expect(res.body.detail).toBe('Job not found');
  });

  it('refuses a log replaced by a symlink out of the workspace', async () => {
    const { url, logFile } = await newJob();
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.symlinkSync('/etc/passwd', logFile);
    const res = await request(h.app).get(url).expect(400);
    expect(res.body.detail).toBe('Invalid path');
    const followed = await request(h.app).get(`${url}?follow=1`).expect(400);
    expect(followed.body.detail).toBe('Invalid path');
  });
});
