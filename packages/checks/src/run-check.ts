import { spawn } from 'node:child_process';
import { CHECK_DEFAULT_TIMEOUT_SECONDS, type CheckResult, type CheckSpec } from '@cwo/contracts';
import { OutputTail } from './output-tail';

export interface CheckContext {
  /** The workspace: every check runs there. */
  cwd: string;
  /** The check's whole environment (checkEnvironment). */
  env: NodeJS.ProcessEnv;
  /** Receives the check's output a line at a time, as it comes. */
  log: (line: string) => void;
  /** Aborting stops the check (cancel, the job's time limit, shutdown). */
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL when a check is stopped. */
  killGraceMs?: number;
  /**
   * Called before each check: stops whatever the agent or an earlier check left running, where
   * the sandbox allows it (the worker as its container's first process), so that a check sees the
   * workspace as they left it, not as something still running changes it.
   */
  settle?: () => Promise<void>;
}

/** Longest log line passed on in one piece (as the runner's own line splitter). */
const MAX_LINE_CHARS = 16 * 1024;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Runs one check: `sh -c <run>` in the workspace, in a process group of its own, stdin closed,
 * under its time limit. Its output streams into the log as lines and its last
 * CHECK_OUTPUT_MAX_BYTES are kept. Whatever it started is killed when it ends, so no check leaves
 * anything running in the sandbox.
 */
export function runCheck(check: CheckSpec, ctx: CheckContext): Promise<CheckResult> {
  const limitSeconds = check.timeout_seconds ?? CHECK_DEFAULT_TIMEOUT_SECONDS;
  const graceMs = ctx.killGraceMs ?? 2000;
  const tail = new OutputTail();
  const started = Date.now();
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  const emit = (line: string) => {
    const clean = line.endsWith('\r') ? line.slice(0, -1) : line;
    for (let i = 0; i < clean.length || i === 0; i += MAX_LINE_CHARS)
      ctx.log(`check ${check.name}: ${clean.slice(i, i + MAX_LINE_CHARS)}`);
  };
  const take = (chunk: Buffer) => {
    tail.push(chunk);
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      emit(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    if (pending.length > MAX_LINE_CHARS) {
      emit(pending);
      pending = '';
    }
  };

  return new Promise<CheckResult>((resolve) => {
    let timedOut = false;
    let stopped = false;
    let killTimer: NodeJS.Timeout | undefined;
    const child = spawn('/bin/sh', ['-c', check.run], {
      cwd: ctx.cwd,
      env: ctx.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stop = (why: 'timeout' | 'abort') => {
      if (stopped) return;
      stopped = true;
      timedOut = why === 'timeout';
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), graceMs);
    };
    const timer = setTimeout(() => stop('timeout'), limitSeconds * 1000);
    const onAbort = () => stop('abort');
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    if (ctx.signal?.aborted) onAbort();

    child.stdout.on('data', take);
    child.stderr.on('data', take);
    // Once the shell has exited, nothing it left behind may keep running (or hold its output open).
    child.once('exit', () => killGroup(child.pid, 'SIGKILL'));
    let finished = false;
    const finish = (exitCode: number | null, error?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      ctx.signal?.removeEventListener('abort', onAbort);
      pending += decoder.decode();
      if (pending) emit(pending);
      if (error) {
        const message = `could not start the check: ${error.message}\n`;
        tail.push(Buffer.from(message));
        ctx.log(`check ${check.name}: ${message.trim()}`);
      }
      const passed = !stopped && exitCode === 0;
      resolve({
        name: check.name,
        run: check.run,
        passed,
        exit_code: stopped ? null : exitCode,
        timed_out: timedOut,
        duration_ms: Date.now() - started,
        output: tail.text(),
        output_truncated: tail.truncated,
      });
    };
    child.once('error', (err) => finish(null, err));
    // 'close': exited and its output read to the end.
    child.once('close', (code) => finish(code));
  });
}
