import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
