import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '@cwo/config';
import { lastLineKeeper, lineWriter } from './output-lines';
import { workerEnvironment } from './worker-environment';
import { JobFailure, type Executor, type ExecutorRun } from './types';

export interface HostExecutorDeps {
  config: Pick<Config, 'WORKER_AGENT' | 'WORKER_ENV_PASSTHROUGH'>;
  /** Where the allowlisted variables for the worker are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The worker entrypoint; by default this checkout's worker-image/dist/main.js (`pnpm build`). */
  entry?: string;
  /**
   * How long the worker gets after SIGTERM before it is killed. It must outlast the worker's own
   * stop (it stops its agent, which stops Codex and its commands, within 10 s).
   */
  killGraceMs?: number;
}

/** apps/runner/{src,dist}/executors -> the repository root. */
export const DEFAULT_WORKER_ENTRY = path.resolve(__dirname, '..', '..', '..', '..', 'worker-image', 'dist', 'main.js');

/** What the worker needs from the host besides the allowlist: a PATH (node, codex's commands) and a home. */
const HOST_VARIABLES = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'] as const;

/**
 * The `host` executor: the worker entrypoint (the container's, with the same agents) as a child
 * process of the runner, in the workspace, with the same allowlisted environment as a container.
 * It gives NO isolation: the agent runs with the runner's user and sees its filesystem and
 * network. For development and the fast test loop; production uses `docker`.
 *
 * An abort (cancel, timeout, shutdown) sends SIGTERM, on which the worker stops its agent; its
 * process group is killed if it has not exited after the grace period.
 */
export function createHostExecutor(deps: HostExecutorDeps): Executor {
  const env = deps.env ?? process.env;
  const entry = deps.entry ?? DEFAULT_WORKER_ENTRY;
  const killGraceMs = deps.killGraceMs ?? 15_000;

  async function run({ workspace, log, signal }: ExecutorRun): Promise<void> {
    if (signal.aborted) return;
    if (!fs.existsSync(entry)) {
      throw new JobFailure(
        'configuration',
        `the worker entrypoint ${entry} does not exist: build it with \`pnpm build\` (or \`pnpm exec turbo run build --filter=@cwo/worker\`)`,
      );
    }
    const allowed = workerEnvironment(deps.config, env);
    const childEnv: NodeJS.ProcessEnv = { WORKSPACE_DIR: workspace };
    for (const name of HOST_VARIABLES) if (env[name] !== undefined) childEnv[name] = env[name];
    for (const entryLine of allowed.entries) {
      const eq = entryLine.indexOf('=');
      childEnv[entryLine.slice(0, eq)] = entryLine.slice(eq + 1);
    }
    log(
      `host: worker process (${path.relative(process.cwd(), entry) || entry}; env ${allowed.names.join(', ')}; no isolation)`,
    );

    const started = Date.now();
    const child = spawn(process.execPath, [entry], {
      cwd: workspace,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own: the last-resort kill reaches whatever it left in it.
      detached: true,
    });
    const stdout = lineWriter(log);
    const said = lastLineKeeper(log);
    const stderr = lineWriter(said.onLine);
    child.stdout.pipe(stdout);
    child.stderr.pipe(stderr);

    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, killGraceMs);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const {
        code,
        signal: how,
        error,
      } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
        child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
        // 'close': exited and its output read to the end.
        child.once('close', (c, s) => resolve({ code: c, signal: s }));
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (error) throw new JobFailure('configuration', `could not start the worker process: ${error.message}`);
      if (signal.aborted) {
        log(`host: worker process stopped after ${seconds} s`);
        return;
      }
      log(`host: worker process exited with ${code ?? how} after ${seconds} s`);
      if (code !== 0)
        throw new JobFailure(
          'agent_error',
          `worker process exited with ${code === null ? `signal ${how}` : `code ${code}`} without writing a result (see the job log)${said.last() ? `: ${said.last()}` : ''}`,
        );
    } finally {
      clearTimeout(killTimer);
      signal.removeEventListener('abort', onAbort);
      stdout.end();
      stderr.end();
    }
  }

  return { name: 'host', run };
}
