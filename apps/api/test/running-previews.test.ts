import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { createLogger } from '@cwo/logger';
import { ENGINE, requireDockerApi } from '../../runner/test/docker-helpers';
import { PREVIEW_CSP, type previewUpgrade } from '../src/previews/preview-host';
import { PREVIEW_LABELS, previewFilter } from '../src/previews/preview-containers';
import { createRunningPreviews, type RunningPreviews } from '../src/previews/running-previews';
import { workspaceOf } from '../src/workspace-dirs';
import { startHarness, type Harness } from './harness';

// Running previews against the real container engine (DOCKER_HOST; scripts/test.sh runs this file
// on podman and again on the Docker Engine): a Node server written into a workspace answers
// through the preview origin, WebSocket upgrades included; a server that exits fails with its
// log; idle, deleted and changed projects stop or restart theirs; nothing is left running.

const SERVER_JS = `
const http = require('http');
const server = http.createServer((req, res) => {
  res.setHeader('Set-Cookie', 'planted=1; Domain=localhost; Path=/');
  res.setHeader('Content-Security-Policy', "default-src *");
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ from: 'server.js', path: req.url, user: process.getuid() }));
});
server.on('upgrade', (req, socket) => {
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n');
  socket.on('data', (d) => socket.write('echo:' + d));
});
server.listen(Number(process.env.PORT), () => console.log('listening on ' + process.env.PORT));
`;

// A server that, asked for /probe?targets=host:port,…, tries each (TCP, 1.5 s) and a DNS lookup of
// an outside name, and answers what got through: a preview's server trying to get out.
const PROBE_JS = `
const http = require('http');
const net = require('net');
const dns = require('dns');
const attempt = (target) => new Promise((resolve) => {
  const [host, port] = target.split(':');
  const s = net.connect({ host, port: Number(port) });
  s.setTimeout(1500);
  s.once('connect', () => { s.destroy(); resolve('connected'); });
  s.once('error', (e) => resolve(e.code || 'error'));
  s.once('timeout', () => { s.destroy(); resolve('timeout'); });
});
const lookup = () => new Promise((resolve) => {
  const r = new dns.promises.Resolver({ timeout: 1500, tries: 1 });
  r.resolve4('example.com').then((a) => resolve('resolved ' + a.join(',')), (e) => resolve(e.code || 'error'));
});
http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/probe') return res.end('probe');
  const targets = (url.searchParams.get('targets') || '').split(',').filter(Boolean);
  const out = {};
  await Promise.all(targets.map(async (t) => { out[t] = await attempt(t); }));
  out.dns = await lookup();
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(out));
}).listen(Number(process.env.PORT), () => console.log('probe listening'));
`;

const IMAGE = process.env.CODEX_WORKER_IMAGE || 'codex-worker:latest';

describe(`running previews on ${ENGINE}`, () => {
  let h: Harness;
  let previews: RunningPreviews;
  let server: http.Server;
  let port: number;
  let projectId: string;
  const host = (id: string) => `${id}.preview.localhost:${port}`;

  const until = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const previewOf = async (id: string) => (await request(h.app).get(`/api/v1/projects/${id}/preview`).expect(200)).body;
  const settled = (id: string) =>
    until('the preview to settle', async () => {
      const p = await previewOf(id);
      return p.status === 'starting' ? undefined : p;
    });
  const newProject = async (files: Record<string, string>) => {
    const res = await request(h.app).post('/api/v1/projects').send({ instruction: 'a node server' }).expect(202);
    for (const [rel, text] of Object.entries(files))
      fs.writeFileSync(path.join(workspaceOf(h.config, res.body.id), rel), text);
    return res.body.id as string;
  };

  beforeAll(async () => {
    const docker = await requireDockerApi(IMAGE);
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    h = await startHarness({
      PREVIEW_BASE_URL: `http://{projectId}.preview.localhost:${port}`,
      PREVIEW_IDLE_SECONDS: '3',
      PREVIEW_START_SECONDS: '60',
      // Over the probe server's 3 s below.
      PREVIEW_PROXY_TIMEOUT_SECONDS: '5',
      CODEX_WORKER_IMAGE: IMAGE,
    });
    const logger = createLogger({ level: 'error', format: 'json', service: 'api' });
    previews = createRunningPreviews({ docker, redis: h.redis, db: h.db, config: h.config, logger });
    // The harness's app, rebuilt over the same services with running previews.
    const { createApp } = await import('../src/app');
    const app = createApp({
      db: h.db,
      queue: h.queue,
      redis: h.redis,
      config: h.config,
      logger,
      runningPreviews: previews,
    });
    h.app = app;
    server.on('request', app);
    server.on('upgrade', (req, socket: Socket, head) => {
      if (!(app.locals.previewUpgrade as ReturnType<typeof previewUpgrade>)(req, socket, head)) socket.destroy();
    });
    projectId = await newProject({ 'server.js': SERVER_JS, 'index.html': 'the static page' });
  }, 120_000);

  afterAll(async () => {
    await previews?.close();
    const docker = await requireDockerApi(IMAGE);
    const left = await docker.listContainers({ all: true, filters: previewFilter(h.config.QUEUE_PREFIX) });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    const networks = await docker.listNetworks({ filters: previewFilter(h.config.QUEUE_PREFIX) });
    await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove()));
    await new Promise((resolve) => server.close(resolve));
    await h.close();
    expect(left.map((c) => c.Labels[PREVIEW_LABELS.projectId])).toEqual([]);
    expect(networks.map((n) => n.Name)).toEqual([]);
  });

  const get = (id: string, p: string) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: p, headers: { host: host(id) } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        })
        .on('error', reject);
    });

  it('starts node server.js on port 3000 and proxies the preview origin to it', async () => {
    const started = await request(h.app)
      .post(`/api/v1/projects/${projectId}/preview`)
      .send({ command: 'node server.js', port: 3000 })
      .expect(202);
    expect(started.body).toMatchObject({ kind: 'server', status: 'starting', command: 'node server.js', port: 3000 });
    const running = await settled(projectId);
    expect(running).toMatchObject({ status: 'running', reason: null });
    expect(running.log).toContain('listening on 3000');
    const res = await get(projectId, '/some/path?q=1');
    expect(res.status).toBe(200);
    // Run as the worker's user, not root.
    expect(JSON.parse(res.body)).toEqual({ from: 'server.js', path: '/some/path?q=1', user: 1000 });
    // The preview's sandbox, not the server's policy; and no cookie of the server's.
    expect(res.headers['content-security-policy']).toBe(PREVIEW_CSP);
    expect(res.headers['set-cookie']).toBeUndefined();
  }, 120_000);

  it('proxies a WebSocket upgrade, both ways', async () => {
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        path: '/live',
        headers: { host: host(projectId), Connection: 'Upgrade', Upgrade: 'websocket' },
      });
      req.on('upgrade', (_res, socket) => {
        socket.once('data', (d: Buffer) => {
          resolve(d.toString());
          socket.destroy();
        });
        socket.write('ping');
      });
      req.on('error', reject);
      req.end();
    });
    expect(echoed).toBe('echo:ping');
  });

  it('reads the workspace read-only', async () => {
    const res = await request(h.app)
      .post(`/api/v1/projects/${projectId}/preview`)
      .send({ command: 'touch /workspace/x 2>&1; exit 1', port: 3000 })
      .expect(202);
    expect(res.body.status).toBe('starting');
    const failed = await settled(projectId);
    expect(failed.status).toBe('failed');
    expect(failed.log).toMatch(/Read-only file system/);
    expect(fs.existsSync(path.join(workspaceOf(h.config, projectId), 'x'))).toBe(false);
  }, 120_000);

  it('a server that exits fails with its exit code and log', async () => {
    await request(h.app)
      .post(`/api/v1/projects/${projectId}/preview`)
      .send({ command: 'echo about to fail; exit 3', port: 3000 })
      .expect(202);
    const failed = await settled(projectId);
    expect(failed).toMatchObject({ status: 'failed', reason: 'the server exited with code 3' });
    expect(failed.log).toContain('about to fail');
    // Without a server, the static preview answers again.
    expect((await get(projectId, '/')).body).toBe('the static page');
  }, 120_000);

  it('a server that listens on nothing: 503 in the error shape while it starts, then failed with the reason', async () => {
    // Its own previews and app with a short PREVIEW_START_SECONDS (the others get 60 s).
    const docker = await requireDockerApi(IMAGE);
    const logger = createLogger({ level: 'error', format: 'json', service: 'api' });
    const config = { ...h.config, PREVIEW_START_SECONDS: 4 };
    const quick = createRunningPreviews({ docker, redis: h.redis, db: h.db, config, logger });
    const { createApp } = await import('../src/app');
    const app = createApp({ db: h.db, queue: h.queue, redis: h.redis, config, logger, runningPreviews: quick });
    try {
      const silent = await newProject({ 'index.html': 'the static page' });
      const started = Date.now();
      await request(app)
        .post(`/api/v1/projects/${silent}/preview`)
        .send({ command: 'echo not listening anywhere; exec sleep 600', port: 3000 })
        .expect(202);
      // The origin answers at once, in the API's error shape, with when to try again.
      const asked = Date.now();
      const starting = await request(app).get('/').set('Host', host(silent)).expect(503);
      expect(Date.now() - asked).toBeLessThan(2000);
      expect(starting.headers['retry-after']).toBe('1');
      expect(starting.headers['content-security-policy']).toBe(PREVIEW_CSP);
      expect(starting.body).toMatchObject({
        code: 503,
        error: 'service_unavailable',
        detail: 'The preview server is starting',
      });
      const failed = await until('the preview to fail', async () => {
        const p = (await request(app).get(`/api/v1/projects/${silent}/preview`).expect(200)).body;
        return p.status === 'starting' ? undefined : p;
      });
      expect(failed).toMatchObject({ status: 'failed', reason: 'the server did not answer on port 3000 within 4 s' });
      expect(failed.log).toContain('not listening anywhere');
      expect(Date.now() - started).toBeLessThan(15_000);
      // Its container is gone, and the origin is the static preview again.
      const left = await docker.listContainers({
        all: true,
        filters: previewFilter(h.config.QUEUE_PREFIX, [`${PREVIEW_LABELS.projectId}=${silent}`]),
      });
      expect(left).toEqual([]);
      expect((await request(app).get('/').set('Host', host(silent)).expect(200)).text).toBe('the static page');
    } finally {
      await quick.close();
    }
  }, 120_000);

  it('a server that stops listening after it started: 502 in the error shape, saying so', async () => {
    // Answers the start's probe, then closes its listening socket and stays up.
    const once = `const s = require('http').createServer((q, r) => { r.end('once'); s.close(); });
s.listen(Number(process.env.PORT), () => console.log('listening once'));
setInterval(() => {}, 1000);`;
    const closing = await newProject({ 'once.js': once });
    await request(h.app).post(`/api/v1/projects/${closing}/preview`).send({ command: 'node once.js', port: 3000 });
    expect((await settled(closing)).status).toBe('running');
    const asked = Date.now();
    const res = await request(h.app).get('/').set('Host', host(closing)).expect(502);
    expect(Date.now() - asked).toBeLessThan(5000);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-security-policy']).toBe(PREVIEW_CSP);
    expect(res.body).toMatchObject({ code: 502, error: 'bad_gateway' });
    expect(res.body.detail).toMatch(
      new RegExp(
        `^The preview server did not answer \\(\\w+\\): it may have exited or stopped listening on port 3000; GET /api/v1/projects/${closing}/preview has its state and log$`,
      ),
    );
    await request(h.app).delete(`/api/v1/projects/${closing}/preview`).expect(204);
  }, 120_000);

  it('a server that never answers a request: 504 in the error shape after PREVIEW_PROXY_TIMEOUT_SECONDS; a started answer that pauses longer is not cut', async () => {
    // Answers the start's probe (/), never answers /hang, and streams /slow with a pause of 6 s
    // (over the 5 s timeout) between its parts.
    const slow = `require('http').createServer((q, r) => {
  if (q.url === '/hang') return;
  if (q.url === '/slow') { r.write('first '); return setTimeout(() => r.end('last'), 6000); }
  r.end('ok');
}).listen(Number(process.env.PORT), () => console.log('slow listening'));`;
    const hanging = await newProject({ 'slow.js': slow });
    await request(h.app).post(`/api/v1/projects/${hanging}/preview`).send({ command: 'node slow.js', port: 3000 });
    expect((await settled(hanging)).status).toBe('running');
    const asked = Date.now();
    // Without an answer timeout this request hangs until the client gives up (15 s).
    const res = await request(h.app).get('/hang').set('Host', host(hanging)).timeout(15_000).expect(504);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(4900);
    expect(Date.now() - asked).toBeLessThan(9000);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-security-policy']).toBe(PREVIEW_CSP);
    expect(res.body).toMatchObject({ code: 504, error: 'gateway_timeout' });
    expect(res.body.detail).toBe(
      `The preview server did not start its answer within 5 s (PREVIEW_PROXY_TIMEOUT_SECONDS); GET /api/v1/projects/${hanging}/preview has its state and log`,
    );
    const streamed = await get(hanging, '/slow');
    expect(streamed).toMatchObject({ status: 200, body: 'first last' });
    // The server is still up and answering.
    expect((await get(hanging, '/')).body).toBe('ok');
    await request(h.app).delete(`/api/v1/projects/${hanging}/preview`).expect(204);
  }, 120_000);

  it('a server that exits after it started: 502, then failed with its exit code at the next sweep', async () => {
    const quitter = await newProject({
      'quit.js': `require('http').createServer((q, r) => r.end('bye', () => process.exit(7))).listen(Number(process.env.PORT));`,
    });
    await request(h.app).post(`/api/v1/projects/${quitter}/preview`).send({ command: 'node quit.js', port: 3000 });
    expect((await settled(quitter)).status).toBe('running');
    expect((await request(h.app).get('/').set('Host', host(quitter)).expect(502)).body.code).toBe(502);
    // The engine may take a moment to see the exit.
    const failed = await until(
      'the sweep to see the exit',
      async () => {
        await previews.sweep();
        const p = await previewOf(quitter);
        return p.status === 'running' ? undefined : p;
      },
      10_000,
    );
    expect(failed).toMatchObject({
      status: 'failed',
      reason: 'the server exited with code 7 after it started',
    });
    const docker = await requireDockerApi(IMAGE);
    const left = await docker.listContainers({
      all: true,
      filters: previewFilter(h.config.QUEUE_PREFIX, [`${PREVIEW_LABELS.projectId}=${quitter}`]),
    });
    expect(left).toEqual([]);
  }, 120_000);

  it('stops after PREVIEW_IDLE_SECONDS without a request', async () => {
    await request(h.app).post(`/api/v1/projects/${projectId}/preview`).send({ command: 'node server.js', port: 3000 });
    expect((await settled(projectId)).status).toBe('running');
    await previews.sweep();
    expect((await previewOf(projectId)).status).toBe('running');
    await new Promise((r) => setTimeout(r, 3500));
    await previews.sweep();
    expect(await previewOf(projectId)).toMatchObject({ status: 'stopped', reason: 'idle for 3 s' });
  }, 120_000);

  it('restarts after a job changes the workspace', async () => {
    await request(h.app).post(`/api/v1/projects/${projectId}/preview`).send({ command: 'node server.js', port: 3000 });
    const first = await settled(projectId);
    expect(first.status).toBe('running');
    await h.db.job.updateMany({ where: { projectId }, data: { finishedAt: new Date(Date.now() + 1000) } });
    await get(projectId, '/');
    await previews.sweep();
    const again = await settled(projectId);
    expect(again.status).toBe('running');
    expect(Date.parse(again.started_at)).toBeGreaterThan(Date.parse(first.started_at));
  }, 120_000);

  it('its server reaches neither the host nor the outside, while the proxy reaches it', async () => {
    // A host service on every address (what a bridge container reaches unless sealed).
    const hostService = http.createServer((_req, res) => res.end('host service'));
    await new Promise<void>((resolve) => hostService.listen(0, '0.0.0.0', resolve));
    const servicePort = (hostService.address() as AddressInfo).port;
    try {
      const prober = await newProject({ 'probe.js': PROBE_JS });
      await request(h.app).post(`/api/v1/projects/${prober}/preview`).send({ command: 'node probe.js', port: 3000 });
      expect((await settled(prober)).status).toBe('running');
      const docker = await requireDockerApi(IMAGE);
      const [container] = await docker.listContainers({
        filters: previewFilter(h.config.QUEUE_PREFIX, [`${PREVIEW_LABELS.projectId}=${prober}`]),
      });
      const info = await docker.getContainer(container!.Id).inspect();
      const networks = Object.values(info.NetworkSettings.Networks);
      // Its own network, of its own bridge: no other project's server is on it.
      expect(networks).toHaveLength(1);
      const gateway = networks[0]!.Gateway;
      expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const hostAddresses = Object.values(os.networkInterfaces())
        .flat()
        .filter((a) => a && a.family === 'IPv4' && !a.internal && a.address !== gateway)
        .map((a) => a!.address);
      const targets = [
        `${gateway}:${servicePort}`,
        `${gateway}:5432`,
        ...hostAddresses.flatMap((a) => [`${a}:${servicePort}`, `${a}:5432`]),
        // Outside: a public address, and the host's default gateway.
        '1.1.1.1:80',
      ];
      const res = await get(prober, `/probe?targets=${targets.join(',')}`);
      expect(res.status).toBe(200);
      const results = JSON.parse(res.body) as Record<string, string>;
      expect(Object.keys(results)).toEqual(expect.arrayContaining([...targets, 'dns']));
      // Nothing answered: every connection failed or timed out, no name resolved.
      for (const [target, outcome] of Object.entries(results)) {
        expect(`${target}: ${outcome}`).not.toMatch(/: (connected|resolved)/);
      }
      // The host itself can still reach what it serves (the service is up, the test can fail).
      expect(await (await fetch(`http://127.0.0.1:${servicePort}/`)).text()).toBe('host service');
      await request(h.app).delete(`/api/v1/projects/${prober}/preview`).expect(204);
      const left = await docker.listNetworks({
        filters: previewFilter(h.config.QUEUE_PREFIX, [`${PREVIEW_LABELS.projectId}=${prober}`]),
      });
      expect(left).toEqual([]);
    } finally {
      await new Promise((resolve) => hostService.close(resolve));
    }
  }, 120_000);

  it('DELETE stops it; deleting the project stops it and removes its container', async () => {
    await request(h.app).delete(`/api/v1/projects/${projectId}/preview`).expect(204);
    expect(await previewOf(projectId)).toMatchObject({ status: 'stopped', reason: 'stopped by DELETE /preview' });
    const other = await newProject({ 'server.js': SERVER_JS });
    await request(h.app).post(`/api/v1/projects/${other}/preview`).send({ command: 'node server.js', port: 3000 });
    expect((await settled(other)).status).toBe('running');
    await request(h.app).delete(`/api/v1/projects/${other}`).expect(204);
    const docker = await requireDockerApi(IMAGE);
    const left = await docker.listContainers({
      all: true,
      filters: previewFilter(h.config.QUEUE_PREFIX, [`${PREVIEW_LABELS.projectId}=${other}`]),
    });
    expect(left).toEqual([]);
    expect((await get(other, '/')).status).toBe(404);
  }, 120_000);
});
