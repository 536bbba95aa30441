import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/**
 * Waits until a test server started as `child` accepts connections on `host`:`port` (127.0.0.1
 * unless given); kills it and throws `reason()` when it exits first or is not up within 10 s.
 */
export async function waitForPort(
  port: number,
  child: ChildProcess,
  reason: () => string,
  host = '127.0.0.1',
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, host, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(reason());
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
