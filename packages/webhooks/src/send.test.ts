import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { sendWebhook } from './send';
import { resolveTarget, type Lookup } from './target';

// One attempt against a real HTTP server on 127.0.0.1 (the private-host setting on, as it must be
// for a local receiver).

const rules = { allowHttp: true, allowPrivateHosts: true };

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function receiver(
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ port: number; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function started(answer: Parameters<typeof receiver>[0]) {
  const r = await receiver(answer);
  servers.push(r);
  return r;
}

const send = async (url: string, lookup?: Lookup, timeoutMs = 10_000) =>
  sendWebhook({
    target: await resolveTarget(url, rules, lookup ?? (() => Promise.reject(new Error('no lookup expected')))),
    headers: { 'content-type': 'application/json', 'webhook-id': 'evt' },
    body: '{"hello":"world"}',
    timeoutMs,
    maxResponseBytes: 1024,
  });

describe('sending one attempt', () => {
  it('POSTs the body with the headers and reads a 2xx as success', async () => {
    const r = await started((_req, res) => res.writeHead(204).end());
    const result = await send(`http://127.0.0.1:${r.port}/in?x=1`);
    expect(result).toMatchObject({ statusCode: 204, error: null, response: '' });
    expect(r.received).toEqual([
      expect.objectContaining({ method: 'POST', url: '/in?x=1', body: '{"hello":"world"}' }),
    ]);
    expect(r.received[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'webhook-id': 'evt' });
  });

  it('connects to the address resolved before, with the name as the Host header (no second lookup)', async () => {
    const r = await started((_req, res) => res.writeHead(200).end('ok'));
    let lookups = 0;
    // A name that exists only in this lookup: the request can only arrive through the pinned address.
    const lookup: Lookup = (hostname) => {
      lookups++;
      return Promise.resolve(hostname === 'receiver.example.test' ? [{ address: '127.0.0.1', family: 4 }] : []);
    };
    const result = await send(`http://receiver.example.test:${r.port}/hook`, lookup);
    expect(result).toMatchObject({ statusCode: 200, error: null, response: 'ok' });
    expect(r.received[0]!.headers.host).toBe(`receiver.example.test:${r.port}`);
    expect(lookups).toBe(1);
  });

  it('does not follow a redirect: the attempt fails with the status, the other server is never called', async () => {
    const elsewhere = await started((_req, res) => res.writeHead(200).end());
    const r = await started((_req, res) =>
      res.writeHead(307, { location: `http://127.0.0.1:${elsewhere.port}/stolen` }).end(),
    );
    const result = await send(`http://127.0.0.1:${r.port}/hook`);
    expect(result.statusCode).toBe(307);
    expect(result.error).toBe(
      `answered 307: redirects are not followed (to http://127.0.0.1:${elsewhere.port}/stolen)`,
    );
    expect(elsewhere.received).toEqual([]);
  });

  it('keeps at most 1 KB of the answer, and does not wait for the rest of a large one', async () => {
    const r = await started((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = 'x'.repeat(64 * 1024);
      // 64 MB, if it were all read.
      let left = 1024;
      const more = () => {
        while (left-- > 0) if (!res.write(chunk)) return void res.once('drain', more);
        res.end();
      };
      more();
    });
    const result = await send(`http://127.0.0.1:${r.port}/hook`);
    expect(result).toMatchObject({ statusCode: 500, error: 'answered 500' });
    expect(result.response).toBe('x'.repeat(1024));
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('gives up after the time limit when no answer comes', async () => {
    const r = await started(() => {
      /* never answers */
    });
    const result = await send(`http://127.0.0.1:${r.port}/hook`, undefined, 300);
    expect(result).toMatchObject({ statusCode: null, response: null, error: 'no answer within 0.3 s' });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
  });

  it('says why when nothing listens', async () => {
    const r = await started(() => undefined);
    const port = r.port;
    await r.close();
    servers.splice(0);
    const result = await send(`http://127.0.0.1:${port}/hook`);
    expect(result).toMatchObject({ statusCode: null, error: 'request failed: ECONNREFUSED' });
  });
});

describe('TLS server name', () => {
  // A TLS listener that records the server names clients send (SNI) and counts connections. The
  // handshake then fails on the self-signed certificate, which is what a real receiver's would do
  // without a trusted one; only the name matters here.
  async function tlsListener(): Promise<{
    port: number;
    names: string[];
    connections: () => number;
    close(): Promise<void>;
  }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-sni-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=receiver.example.test',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const context = {
      key: fs.readFileSync(path.join(dir, 'key.pem')),
      cert: fs.readFileSync(path.join(dir, 'cert.pem')),
    };
    fs.rmSync(dir, { recursive: true, force: true });
    const names: string[] = [];
    let connections = 0;
    const server = tls.createServer({
      ...context,
      SNICallback: (name, cb) => {
        names.push(name);
        cb(null, tls.createSecureContext(context));
      },
    });
    server.on('tlsClientError', () => undefined);
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const r = {
      port: (server.address() as AddressInfo).port,
      names,
      connections: () => connections,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
    servers.push(r);
    return r;
  }

  it('sends a name as SNI, and no SNI for an address literal (RFC 6066; Node warns otherwise)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const byName = await tlsListener();
      const lookup: Lookup = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
      expect((await send(`https://receiver.example.test:${byName.port}/hook`, lookup)).error).toMatch(/SELF_SIGNED/);
      expect(byName.names).toEqual(['receiver.example.test']);

      const byAddress = await tlsListener();
      expect((await send(`https://127.0.0.1:${byAddress.port}/hook`)).error).toMatch(/SELF_SIGNED/);
      expect(byAddress.connections()).toBe(1);
      expect(byAddress.names).toEqual([]);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => /servername|RFC 6066/i.test(w))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
