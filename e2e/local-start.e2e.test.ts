// A local start with the defaults (AUTH_MODE=none): the API is reachable from this machine only,
// the queue board needs no setting, and a configuration that would open it to others is refused.
import net from 'node:net';
import os from 'node:os';
import { Stack } from './helpers/stack';

/** An IPv4 address of this machine that other machines could reach (not loopback). */
function outsideAddress(): string {
  const found = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  if (!found) throw new Error('This test needs a network interface with a non-loopback IPv4 address');
  return found.address;
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('a local start with AUTH_MODE=none', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.create('local');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('listens on 127.0.0.1 only, and serves Bull Board at /admin/queues with no further setting', async () => {
    const api = await stack.startApi({ NODE_ENV: 'development' });
    const port = Number(new URL(api.baseUrl).port);

    expect(await accepts('127.0.0.1', port)).toBe(true);
    expect(await accepts(outsideAddress(), port)).toBe(false);
    const board = await api.get('/admin/queues');
    expect(board.status).toBe(200);
    const lines = api.process.output().split('\n');
    expect(lines.some((l) => l.includes('API listening') && l.includes('127.0.0.1'))).toBe(true);
    expect(lines.filter((l) => l.includes('Bull Board'))).toEqual([
      expect.stringContaining('Bull Board is at /admin/queues (AUTH_MODE=none on 127.0.0.1: no login, as for the API)'),
    ]);
    await api.process.stop();
  });

  it('refuses to start on an address others reach (HOST=0.0.0.0), saying why and what to do', async () => {
    const proc = stack.launchApi({ HOST: '0.0.0.0', PORT: '0' });
    const { code } = await proc.exited;
    expect(code).toBe(1);
    expect(proc.output()).toContain(
      'The API does not start: HOST=0.0.0.0 is not a loopback address, and AUTH_MODE=none asks for no key',
    );
  });
});
