import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { createLogger } from '@cwo/logger';
import { createRunningPreviews, type RunningPreviews } from '../src/previews/running-previews';
import { startHarness, type Harness, type LogLine } from './harness';

// What the API says about running previews while it runs housekeeping, as an operator reads it:
// no container engine (nothing at DOCKER_HOST's socket, as on a machine without one) is one info
// line saying previews wait for an engine, not a warning; an engine that appears is said once; an
// engine that answers with an error is a warning. The engine here is an HTTP server on the socket
// path that answers the two listings housekeeping asks for, or fails them.

describe('preview housekeeping, told in the API log', () => {
  let h: Harness;
  let previews: RunningPreviews | undefined;
  let engine: http.Server | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-housekeeping-'));
  const socketPath = path.join(dir, 'docker.sock');
  const lines: LogLine[] = [];

  beforeAll(async () => {
    h = await startHarness();
    // The API's Redis client queues nothing while it connects: housekeeping starts once it is up.
    while (h.redis.status !== 'ready') await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(async () => {
    await previews?.close();
    await new Promise((resolve) => (engine ? engine.close(resolve) : resolve(undefined)));
    fs.rmSync(dir, { recursive: true, force: true });
    await h.close();
  });

  const previewLines = () =>
    lines
      .filter((l) => /preview|container engine/i.test(l.message))
      .map((l) => `${l.level} ${l.message}${typeof l.error === 'string' ? ` (${l.error})` : ''}`);
  const waitFor = async (pattern: RegExp) => {
    const deadline = Date.now() + 10_000;
    while (!previewLines().some((l) => pattern.test(l))) {
      if (Date.now() > deadline) throw new Error(`no log line ${pattern}; saw ${JSON.stringify(previewLines())}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('no engine: one info line; an engine reached: one more; an engine failing: a warning', async () => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
    });
    const logger = createLogger({ level: 'info', format: 'json', service: 'api', stream });
    previews = createRunningPreviews({
      docker: new Docker({ socketPath }),
      redis: h.redis,
      db: h.db,
      config: h.config,
      logger,
      sweepMs: 30,
    });
    previews.start_housekeeping();

    await waitFor(/previews are unavailable/);
    await new Promise((r) => setTimeout(r, 300));
    expect(previewLines()).toEqual([
      expect.stringMatching(
        new RegExp(
          `^info running previews are unavailable until a container engine is reachable at unix://${socketPath}`,
        ),
      ),
    ]);

    let failing = false;
    engine = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      if (failing) {
        res.statusCode = 500;
        return res.end(JSON.stringify({ message: 'storage driver is broken' }));
      }
      res.end(/^\/(v[\d.]+\/)?(containers|networks)/.test(req.url ?? '') ? '[]' : '{}');
    });
    await new Promise<void>((resolve) => engine!.listen(socketPath, resolve));
    await waitFor(/^info a container engine is reachable/);
    failing = true;
    await waitFor(/^warn preview housekeeping failed/);
    await new Promise((r) => setTimeout(r, 300));
    expect(previewLines()).toEqual([
      expect.stringMatching(/^info running previews are unavailable until a container engine is reachable/),
      expect.stringMatching(/^info a container engine is reachable: running previews are available/),
      expect.stringMatching(/^warn preview housekeeping failed \(.*storage driver is broken/),
    ]);
  });
});
