import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogFollowers, type FollowSource, type TailOptions } from './follow-log';
import { fakeRunner } from './__tests__/fake-runner';

// Followers writing to real HTTP responses (chunked, keep-alive), read by real HTTP clients.

/** An SSE server as the API's adapter sends one (headers flushed, then the follower), counting socket writes. */
async function sseServer(options: Partial<TailOptions>, source: FollowSource) {
  const followers = createLogFollowers(options);
  const counts = { socketWrites: 0 };
  const server = http.createServer((req, res) => {
    if (req.url === '/plain') return res.end('plain');
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.flushHeaders();
    const socket = res.socket!;
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = (...args: unknown[]) => {
      counts.socketWrites++;
      return write(...args);
    };
    followers.follow('job', source, 0, res, new AbortController().signal);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, port, counts };
}

function get(port: number, path: string, agent: http.Agent): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => http.get({ port, path, agent }, resolve).on('error', reject));
}

async function body(res: http.IncomingMessage): Promise<string> {
  let all = '';
  for await (const chunk of res) all += String(chunk);
  return all;
}

const logOf = (events: string): string =>
  [...events.matchAll(/^id: \d+\nevent: log\n((?:data: .*\n)+)\n/gm)]
    .map((m) => m[1]!.replace(/^data: /gm, ''))
    .join('');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lines = (from: number, n: number, pad = 0) =>
  Array.from({ length: n }, (_, i) => `line ${from + i}${' .'.repeat(pad)}\n`).join('');

describe('log events on an HTTP response', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('writes each live event to the socket once, as one chunk, and the connection stays usable after the end', async () => {
    const { state, source, write } = fakeRunner();
    const { server, port, counts } = await sseServer(
      { pollMs: 60_000, statusEveryMs: 5, minReadIntervalMs: 0 },
      source,
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    close = () => {
      agent.destroy();
      server.close();
    };
    const res = await get(port, '/follow', agent);
    const connection = res.socket;
    const received = body(res);
    await sleep(20);
    const before = counts.socketWrites;
    for (let i = 0; i < 20; i++) {
      write(lines(i, 1));
      await sleep(3);
    }
    await sleep(20);
    const live = counts.socketWrites - before;
    state.status = 'completed';
    const all = await received;
    expect(logOf(all)).toBe(lines(0, 20));
    expect(all.endsWith('event: end\ndata: {"status":"completed"}\n\n')).toBe(true);
    // One write per event (ServerResponse.write makes four of each: size, CRLF, bytes, CRLF).
    expect(live).toBeGreaterThan(0);
    expect(live).toBeLessThanOrEqual(20);
    // The chunked body ended properly: the same connection answers the next request.
    const again = await get(port, '/plain', agent);
    expect(again.socket).toBe(connection);
    expect(await body(again)).toBe('plain');
  });

  it('a client that stops reading leaves the live events, catches up from the log once it reads again, missing nothing', async () => {
    const { state, source, write } = fakeRunner();
    const { server, port } = await sseServer(
      { pollMs: 60_000, statusEveryMs: 5, minReadIntervalMs: 0, maxQueuedBytes: 16 * 1024 },
      source,
    );
    const agent = new http.Agent({ keepAlive: false });
    close = () => {
      agent.destroy();
      server.close();
    };
    const fast = get(port, '/follow', agent).then(body);
    const slow = await get(port, '/follow', agent);
    slow.pause();
    await sleep(20);
    const opensBefore = state.opens; // the tail's one open: it opens again only after pollMs
    // Far more than the kernel's socket buffers hold for a client that reads nothing.
    const text = lines(0, 8000, 1000);
    for (let i = 0; i < 20; i++) {
      write(text.slice((i * text.length) / 20, ((i + 1) * text.length) / 20));
      await sleep(5);
    }
    state.status = 'completed';
    expect(logOf(await fast)).toBe(text);
    slow.resume();
    const slowAll = await body(slow);
    expect(logOf(slowAll)).toBe(text);
    expect(slowAll.endsWith('event: end\ndata: {"status":"completed"}\n\n')).toBe(true);
    // What it missed came from the log (the follower's own reads), not from events kept for it.
    expect(state.opens).toBeGreaterThan(opensBefore);
  }, 20_000);
});
