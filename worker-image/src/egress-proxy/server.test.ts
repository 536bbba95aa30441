import type dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import { parseEgressAllow, type EgressProxyEvent } from '@cwo/contracts';
import { startEgressProxy, type RunningEgressProxy } from './server';
import { addressIn } from './main';

// The egress proxy on the host's loopback, against servers of the test's own: what it lets
// through, what it refuses, and what it reports of each attempt. Names are resolved by the proxy's
// own lookup (here a fixed table, as the container's resolver would), never by the client.

let echo: net.Server;
let web: http.Server;
let proxy: RunningEgressProxy;
let echoPort: number;
let webPort: number;
const events: EgressProxyEvent[] = [];
const lookups: string[] = [];

const listen = (server: net.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );

/** A resolver that knows two names, as the proxy container's would. */
const lookup = ((host: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
  lookups.push(host);
  const table: Record<string, string> = { 'echo.test': '127.0.0.1', 'web.test': '127.0.0.1' };
  const address = table[host];
  if (!address) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
  if (options.all) return callback(null, [{ address, family: 4 }]);
  return callback(null, address, 4);
}) as unknown as typeof dns.lookup;

beforeAll(async () => {
  echo = net.createServer((socket) => socket.pipe(socket));
  web = http.createServer((req, res) => {
    req.resume();
    res.end(`hello from ${req.url}`);
  });
  echoPort = await listen(echo);
  webPort = await listen(web);
  proxy = await startEgressProxy({
    allow: parseEgressAllow([`echo.test:${echoPort}`, `web.test:${webPort}`, `*.lost.test:${webPort}`]),
    host: '127.0.0.1',
    port: 0,
    emit: (event) => events.push(event),
    lookup,
  });
});

afterAll(async () => {
  await proxy?.close();
  echo?.close();
  web?.close();
});

/** Resolves with the close event of `host`, once the proxy reports it. */
async function closed(host: string): Promise<Extract<EgressProxyEvent, { type: 'close' }>> {
  for (let i = 0; i < 200; i++) {
    const found = events.find((e) => e.type === 'close' && e.host === host);
    if (found && found.type === 'close') return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no close event for ${host}: ${JSON.stringify(events)}`);
}

function connect(target: string): Promise<{ status: number; socket: net.Socket; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: target });
    req.once('connect', (res, socket, head) => {
      if (res.statusCode === 200) return resolve({ status: 200, socket, body: '' });
      // A refusal's body follows its headers on the socket.
      let body = head.toString();
      socket.on('data', (c: Buffer) => (body += c.toString()));
      socket.once('close', () => resolve({ status: res.statusCode ?? 0, socket, body }));
    });
    req.once('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: res.socket, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'GET', path: url, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('the egress proxy', () => {
  it('tunnels CONNECT to an allowed host:port, resolving the name itself, and reports bytes each way', async () => {
    const { status, socket } = await connect(`echo.test:${echoPort}`);
    expect(status).toBe(200);
    socket.write('ping over the tunnel');
    const echoed = await new Promise<string>((resolve) => socket.once('data', (b: Buffer) => resolve(b.toString())));
    expect(echoed).toBe('ping over the tunnel');
    socket.end();

    const event = await closed('echo.test');
    expect(event).toMatchObject({
      method: 'CONNECT',
      port: echoPort,
      allowed: true,
      status: 200,
      address: '127.0.0.1',
      bytes_sent: 'ping over the tunnel'.length,
      bytes_received: 'ping over the tunnel'.length,
      error: null,
    });
    expect(event.duration_ms).toBeGreaterThanOrEqual(0);
    expect(events).toContainEqual({ type: 'open', method: 'CONNECT', host: 'echo.test', port: echoPort });
  });

  it('refuses a host that is not on the allowlist with 403, without looking its name up', async () => {
    const { status, body } = await connect('elsewhere.example:443');
    expect(status).toBe(403);
    expect(body).toContain("elsewhere.example:443 is not on this job's allowlist (WORKER_EGRESS_ALLOW)");
    expect(await closed('elsewhere.example')).toMatchObject({
      method: 'CONNECT',
      port: 443,
      allowed: false,
      status: 403,
      address: null,
      bytes_sent: 0,
      bytes_received: 0,
    });
    expect(lookups).not.toContain('elsewhere.example');
    expect(events.some((e) => e.type === 'open' && e.host === 'elsewhere.example')).toBe(false);
  });

  it('refuses an allowed host on another port', async () => {
    const { status } = await connect(`echo.test:${echoPort + 1}`);
    expect(status).toBe(403);
  });

  it('forwards a plain HTTP request to an allowed host, and refuses one to another host', async () => {
    expect(await get(`http://web.test:${webPort}/v1/responses`)).toEqual({
      status: 200,
      body: 'hello from /v1/responses',
    });
    const event = await closed('web.test');
    expect(event).toMatchObject({ method: 'GET', allowed: true, status: 200, address: '127.0.0.1' });
    expect(event.bytes_received).toBeGreaterThan('hello from /v1/responses'.length);
    expect(event.bytes_sent).toBeGreaterThan(0);

    const denied = await get(`http://127.0.0.1:${webPort}/`);
    expect(denied.status).toBe(403);
    expect(await closed('127.0.0.1')).toMatchObject({ method: 'GET', allowed: false, status: 403 });
  });

  it('reports an allowed name that does not resolve as a failed connection with its cause', async () => {
    // proxy-chain closes the client's connection without an answer when its tunnel cannot connect.
    await expect(connect(`gone.lost.test:${webPort}`)).rejects.toThrow('socket hang up');
    expect(await closed('gone.lost.test')).toMatchObject({
      allowed: true,
      status: 502,
      error: 'lookup of gone.lost.test failed: ENOTFOUND',
    });
  });

  it('finds its own address in the sealed subnet, and no other', () => {
    const interfaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4' }],
      eth0: [{ address: '10.164.7.2', family: 'IPv4' }],
      eth1: [{ address: '10.164.9.3', family: 'IPv4' }],
    } as unknown as ReturnType<typeof import('node:os').networkInterfaces>;
    expect(addressIn('10.164.9.0/24', interfaces)).toBe('10.164.9.3');
    expect(addressIn('10.200.0.0/24', interfaces)).toBeUndefined();
  });
});
