import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';

export interface SupervisedRun {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The process (and everything it started) is killed after this long. */
  timeoutMs: number;
  /** Aborting kills the process the same way. */
  signal?: AbortSignal;
  onStdoutLine: (line: string) => void;
  onStderrLine: (line: string) => void;
  /** Called once the process is running, with its pid. */
  onSpawn?: (pid: number) => void;
  /** Time between SIGTERM (Codex cleans up its commands) and SIGKILL. */
  killGraceMs?: number;
}

export interface RunOutcome {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** Set when the process could not be started at all. */
  spawnError?: Error;
}

/** How long to wait for the output pipes to drain once the process has exited. */
const DRAIN_MS = 2000;

/**
 * Every process below `root`, read from /proc (Linux). Codex starts each command in a session of
 * its own, so killing its process group alone would leave the commands running.
 */
export function descendantsOf(root: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it exited meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * Runs a process with stdin closed (Codex waits for an open stdin to end), hands over its output
 * a line at a time, and guarantees it ends: on timeout or abort the process group and every
 * descendant get SIGTERM, then SIGKILL. Resolves when the process has exited; never rejects.
 */
export function runSupervised(run: SupervisedRun): Promise<RunOutcome> {
  const grace = run.killGraceMs ?? 2000;
  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    let stopping = false;
    let exited = false;

    const child = spawn(run.command, run.args, {
      cwd: run.cwd,
      env: run.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own, so a kill reaches what it started in the same group.
      detached: true,
    });

    // Everything the process started, collected when stopping begins: once it has exited, its
    // orphans can no longer be found through it.
    const tree = new Set<number>();
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (pid: number) => {
      descendantsOf(pid).forEach((p) => tree.add(p));
      signal(-pid, 'SIGKILL');
      tree.forEach((p) => signal(p, 'SIGKILL'));
    };
    const stop = () => {
      if (stopping || exited || child.pid === undefined) return;
      stopping = true;
      const pid = child.pid;
      descendantsOf(pid).forEach((p) => tree.add(p));
      signal(-pid, 'SIGTERM');
      tree.forEach((p) => signal(p, 'SIGTERM'));
      killTimer = setTimeout(() => kill(pid), grace);
    };

    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, run.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    if (run.signal?.aborted) onAbort();
    else run.signal?.addEventListener('abort', onAbort, { once: true });

    const streams = [child.stdout, child.stderr];
    const out = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
    const err = readline.createInterface({ input: child.stderr, crlfDelay: Infinity });
    out.on('line', run.onStdoutLine);
    err.on('line', run.onStderrLine);
    const drained = Promise.all([once(out, 'close'), once(err, 'close')]);

    let finished = false;
    const finish = (outcome: Omit<RunOutcome, 'timedOut' | 'aborted'>) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      // A leftover grandchild holding the pipes must not keep us waiting.
      const cutoff = setTimeout(() => streams.forEach((s) => s.destroy()), DRAIN_MS);
      void drained.then(() => {
        clearTimeout(cutoff);
        resolve({ ...outcome, timedOut, aborted });
      });
    };

    child.once('spawn', () => {
      if (child.pid !== undefined) run.onSpawn?.(child.pid);
      if (aborted) stop();
    });
    child.once('error', (error) => {
      exited = true;
      finish({ exitCode: null, exitSignal: null, spawnError: error });
    });
    child.once('exit', (code, sig) => {
      exited = true;
      // Commands Codex left behind in their own sessions go with it, now rather than after the grace.
      if (stopping && child.pid !== undefined) {
        clearTimeout(killTimer);
        kill(child.pid);
      }
      finish({ exitCode: code, exitSignal: sig });
    });
  });
}

function once(emitter: NodeJS.EventEmitter, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}
