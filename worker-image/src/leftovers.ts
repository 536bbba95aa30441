import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

// In its container the worker is process 1 of a PID namespace of its own: every other process
// there is the agent's or a check's (theirs to start, with setsid or nohup, out of any process
// group the worker kills). Before each check and before result.json is written, none of them may
// still run: one could change the workspace while a check looks at it, or put its own result.json
// in place of the worker's. As process 1, kill(-1) reaches exactly them. Anywhere else (the host
// executor, the tests) the worker is one process among the user's and stops nothing.

/** The pids of this namespace's processes other than this one that have not exited (zombies have). */
async function othersRunning(): Promise<number[]> {
  const pids = (await fs.readdir('/proc')).filter((name) => /^\d+$/.test(name) && name !== String(process.pid));
  const running: number[] = [];
  for (const pid of pids) {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    // "pid (comm) S …": the state follows the last ')' (a comm can hold one).
    if (stat && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') running.push(Number(pid));
  }
  return running;
}

/**
 * Kills every other process of the container and waits (up to 2 s) until none runs. Their zombies
 * stay until the container ends (node reaps only its own children): a few per job at most.
 */
export async function stopLeftovers(log: (line: string) => void): Promise<void> {
  if (process.pid !== 1) return;
  let running = await othersRunning();
  if (running.length === 0) return;
  const count = running.length;
  for (let waited = 0; running.length > 0 && waited < 2000; waited += 10) {
    try {
      process.kill(-1, 'SIGKILL');
    } catch {
      /* none left to signal */
    }
    await sleep(10);
    running = await othersRunning();
  }
  log(
    `worker: stopped ${count} process(es) left running by the agent or a check${running.length ? ` (${running.length} still there after 2 s)` : ''}`,
  );
}
