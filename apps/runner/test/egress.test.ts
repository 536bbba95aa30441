// WORKER_EGRESS=allowlist, for real: the codex agent (the real CLI in the worker container) on a
// sealed network whose only way out is its job's egress proxy, against the scripted model server
// on the host's own address. The agent completes its job through the proxy; a command it runs that
// tries another host gets 403 and is recorded as denied; its direct connections to the host, the
// network's gateway, another container and DNS all fail; nothing of the job is left afterwards.
// Runs on podman (pnpm test) and on the Docker Engine (pnpm test:docker-engine), with the host
// rules of scripts/container-runtime.sh in place.
import fs from 'node:fs';
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import Docker from 'dockerode';
import { JobDetail, type EgressRecord } from '@cwo/contracts';
import type { Config } from '@cwo/config';
import type { Db } from '@cwo/db';
import { toJobDetail } from '@cwo/jobs';
import { FAKE_KEY } from '../../../e2e/helpers/codex-project';
import { assistantMessage, execCommand, startModelServer, type ModelServer } from '../../../e2e/helpers/model-server';
import { createDockerExecutor } from '../src/executors/docker';
import { deploymentFilter } from '../src/executors/docker/options';
import { createRunner, type Runner } from '../src/runner';
import {
  clearPrefix,
  createProject,
  quietLogger,
  readJobLog,
  testConfig,
  testDb,
  testQueue,
  waitForJob,
} from '../src/__tests__/helpers';
import { ENGINE, ourContainers, requireDockerApi } from './docker-helpers';

jest.setTimeout(180_000);

/** This host's own non-loopback IPv4 address: where the proxy can reach a server on the host. */
function hostAddress(): string {
  const found = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal);
  if (!found) throw new Error('these tests need a non-loopback IPv4 address on the host (none found)');
  return found.address;
}

const listen = (server: net.Server, host: string) =>
  new Promise<number>((resolve) => server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port)));

function tcpFromHost(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (r: string) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(3000, () => done('timeout'));
    socket.once('connect', () => done('connected'));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/** What the agent runs: each direct way out, and one request through the proxy to a host not allowed. */
function probeScript(targets: {
  host: string;
  modelPort: number;
  gatewayPort: number;
  bystander: string;
  bystanderPort: number;
}) {
  return `cat > /tmp/probe.js <<'EOF'
const net = require('net'), dns = require('dns'), http = require('http'), fs = require('fs');
const tcp = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port });
  const done = (r) => { s.destroy(); resolve(r); };
  s.setTimeout(2500, () => done('timeout'));
  s.once('connect', () => done('connected'));
  s.once('error', (e) => done(e.code));
});
const viaProxy = (target) => new Promise((resolve) => {
  const p = new URL(process.env.HTTPS_PROXY);
  const req = http.request({ host: p.hostname, port: p.port, method: 'CONNECT', path: target });
  req.once('connect', (res, s) => { s.destroy(); resolve('status ' + res.statusCode); });
  req.once('error', (e) => resolve(e.code));
  req.setTimeout(5000, () => { req.destroy(); resolve('timeout'); });
  req.end();
});
const lookup = (name) => new Promise((resolve) => {
  const t = setTimeout(() => resolve('timeout'), 4000);
  dns.lookup(name, (e, a) => { clearTimeout(t); resolve(e ? e.code : 'resolved ' + a); });
});
// The default route's gateway, if the engine gave the network one (Docker does; podman's sealed
// network has no host address at all).
const route = fs.readFileSync('/proc/net/route', 'utf8').split('\\n').map((l) => l.trim().split(/\\s+/)).find((f) => f[1] === '00000000');
const gateway = route ? Buffer.from(route[2], 'hex').reverse().join('.') : null;
const viaGateway = (port) => (gateway ? tcp(gateway, port) : Promise.resolve('no gateway'));
Promise.all(Object.entries({
  'through the proxy to elsewhere.example:443': viaProxy('elsewhere.example:443'),
  'direct to the host': tcp('${targets.host}', ${targets.modelPort}),
  'direct to the gateway': viaGateway(${targets.gatewayPort}),
  'direct to the gateway, DNS': viaGateway(53),
  'direct to another container': tcp('${targets.bystander}', ${targets.bystanderPort}),
  'name lookup of deb.debian.org': lookup('deb.debian.org'),
}).map(async ([what, p]) => 'probe: ' + what + ': ' + (await p))).then((lines) => console.log(lines.join('\\n')));
EOF
node /tmp/probe.js`;
}

describe(`the agent's network held to an allowlist (docker executor on ${ENGINE})`, () => {
  let db: Db;
  let docker: Docker;
  let server: ModelServer;
  let config: Config;
  let runner: Runner;
  let queue: ReturnType<typeof testQueue>;
  let gatewayListener: net.Server;
  let bystander: Docker.Container | undefined;
  const host = hostAddress();

  beforeAll(async () => {
    db = testDb();
    docker = await requireDockerApi(testConfig().CODEX_WORKER_IMAGE);
    // A listener on every address of the host: it would answer on the sealed network's gateway
    // if the host rules did not drop that traffic.
    gatewayListener = net.createServer((s) => s.end('host\n'));
    const gatewayPort = await listen(gatewayListener, '0.0.0.0');
    // Another container, on the normal network the proxies use, listening.
    const egressNetwork = testConfig().WORKER_EGRESS_NETWORK;
    bystander = await docker.createContainer({
      Image: testConfig().CODEX_WORKER_IMAGE,
      Entrypoint: ['node', '-e', "require('net').createServer((s) => s.end('bystander\\n')).listen(8080)"],
      Labels: { 'cwo.test': 'egress-bystander' },
      HostConfig: { NetworkMode: egressNetwork },
    });
    await bystander.start();
    const info = await bystander.inspect();
    const bystanderIp = info.NetworkSettings.Networks[egressNetwork]?.IPAddress;
    if (!bystanderIp) throw new Error(`the bystander container got no address on ${egressNetwork}`);

    server = await startModelServer({ host, behaviour: { kind: 'script', turns: [] } });
    server.setBehaviour({
      kind: 'script',
      turns: [
        [
          execCommand(
            probeScript({ host, modelPort: server.port, gatewayPort, bystander: bystanderIp, bystanderPort: 8080 }),
          ),
          assistantMessage('Probed the network.'),
        ],
      ],
    });
    // The control: the bystander answers whoever may reach it (once its node has started).
    let answer = '';
    for (let i = 0; i < 50 && answer !== 'connected'; i++) {
      answer = await tcpFromHost(bystanderIp, 8080);
      if (answer !== 'connected') await new Promise((r) => setTimeout(r, 200));
    }
    expect(answer).toBe('connected');

    config = testConfig({
      USE_DUMMY_WORKER: 'false',
      WORKER_EXECUTOR: 'docker',
      WORKER_AGENT: 'codex',
      // WORKER_EGRESS and WORKER_EGRESS_ALLOW unset: allowlist, of the model endpoint only, is the default.
      CODEX_BASE_URL: server.urlFor(host),
      JOB_TIMEOUT_SECONDS: '120',
    });
    const env = {
      ...process.env,
      OPENAI_API_KEY: FAKE_KEY,
      CODEX_BASE_URL: server.urlFor(host),
      CODEX_MODEL: 'gpt-5.5',
      CODEX_SANDBOX: 'danger-full-access',
      CODEX_TIMEOUT_SECONDS: '100',
    };
    const logger = quietLogger();
    runner = createRunner({ db, config, logger, executor: createDockerExecutor({ config, logger, env }) });
    await runner.start();
    queue = testQueue(config);
  });

  afterAll(async () => {
    await runner?.stop(0);
    await queue?.close();
    if (config) await clearPrefix(config);
    await bystander?.remove({ force: true }).catch(() => undefined);
    gatewayListener?.close();
    await server?.stop();
    await db?.$disconnect();
  });

  it('completes a codex job through the proxy, records every connection, and lets nothing else out', async () => {
    expect(config.workerEgress).toBe('allowlist');
    expect(config.workerEgressAllow).toEqual([`${host}:${server.port}`]);
    // The host itself can resolve the name the worker will try (so a failure there is the seal).
    expect((await dns.lookup('deb.debian.org')).address).toBeTruthy();

    const { projectId, jobId } = await createProject(db, config, 'Probe the network');
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId, 150_000);
    const log = await readJobLog(config, projectId, jobId);

    expect({ status: job.status, errors: job.errors }).toEqual({ status: 'completed', errors: [] });
    expect(job.summary).toBe('Probed the network.');
    expect(log).toMatch(
      /docker: container \w{12} \(codex-worker:latest; network cwo-job-\S+ \(sealed: out only through its egress proxy\)/,
    );

    // What the agent's command saw, as Codex passed it back to the model.
    const outputs = server.modelRequests
      .flatMap((r: { input: Array<{ type: string; output?: unknown }> }) => r.input)
      .filter((i) => i.type === 'function_call_output')
      .map((i) => JSON.stringify(i.output));
    const probe = (what: string) => {
      const m = new RegExp(`probe: ${what}: ([A-Za-z0-9 .]+)`).exec(outputs.join('\n'));
      if (!m) throw new Error(`no probe line for "${what}" in ${outputs.join('\n')}`);
      return m[1];
    };
    expect(probe('through the proxy to elsewhere.example:443')).toBe('status 403');
    for (const direct of [
      'direct to the host',
      'direct to the gateway',
      'direct to the gateway, DNS',
      'direct to another container',
    ]) {
      expect([direct, probe(direct)]).toEqual([
        direct,
        expect.stringMatching(/^(timeout|ENETUNREACH|EHOSTUNREACH|no gateway)$/),
      ]);
    }
    expect(probe('name lookup of deb.debian.org')).not.toMatch(/^resolved/);

    // The egress record: the model requests allowed, the other host denied; on the job and in its detail.
    const egress = job.egress as EgressRecord;
    const model = egress.connections.filter((c) => c.host === host && c.port === server.port);
    expect(model.length).toBeGreaterThan(0);
    for (const c of model) {
      expect(c).toMatchObject({ allowed: true, method: 'POST', status: 200, address: host, error: null });
      expect(c.bytes_sent).toBeGreaterThan(1000); // Codex's request carries its tools and the instruction
      expect(c.bytes_received).toBeGreaterThan(100);
    }
    const denied = egress.connections.filter((c) => !c.allowed);
    expect(denied).toEqual([
      expect.objectContaining({
        host: 'elsewhere.example',
        port: 443,
        method: 'CONNECT',
        status: 403,
        address: null,
        bytes_sent: 0,
        bytes_received: 0,
      }),
    ]);
    expect(egress).toMatchObject({
      mode: 'allowlist',
      allow: [`${host}:${server.port}`],
      attempted: egress.connections.length,
      allowed: model.length,
      denied: 1,
      truncated: false,
    });
    const detail = JobDetail.parse(toJobDetail(job));
    expect(detail.egress).toEqual(egress);

    // In the job log as it happened, and summarised.
    expect(log).toContain(
      'egress: DENIED CONNECT elsewhere.example:443: not on the allowlist (WORKER_EGRESS_ALLOW); the agent got 403',
    );
    expect(log).toMatch(
      new RegExp(
        `egress: POST ${host.replace(/\./g, '\\.')}:${server.port} \\(${host.replace(/\./g, '\\.')}\\) closed \\(status 200\\)`,
      ),
    );
    expect(log).toMatch(/egress: \d+ connections \(\d+ allowed, 1 denied: elsewhere\.example:443\)/);
    expect(log).not.toContain(FAKE_KEY);

    // Nothing of the job is left: no worker, no proxy, no network.
    expect(await ourContainers(docker, config.QUEUE_PREFIX)).toEqual([]);
    expect(await docker.listNetworks({ filters: deploymentFilter(config.QUEUE_PREFIX) })).toEqual([]);
    expect(fs.existsSync(config.workspaceRoot)).toBe(true);
  });
});
