// The system under chaos: the built API and several runners as processes, on a private Postgres
// cluster, a private Redis and a small disk of their own (services.ts), so that restarting,
// wiping and filling them disturbs nothing else on the machine.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient } from '../helpers/api-client';
import { eventually } from '../helpers/poll';
import { FAST_RUNNER_ENV, freePort, SystemProcess } from '../helpers/stack';
import { PrivatePostgres, PrivateRedis, SmallDisk } from './services';

// CHAOS_APP_ROOT: run another checkout's build under the same faults (to see an old build fail).
const ROOT = process.env.CHAOS_APP_ROOT ?? path.resolve(__dirname, '..', '..');
export const QUEUE_PREFIX = 'cwo-chaos';
const DATABASE = 'cwo_chaos';

export interface ChaosStackOptions {
  /** Milliseconds the dummy agent waits in each job (so that faults find jobs running). */
  agentDelayMs: number;
  /** Also run a runner with the docker executor (DOCKER_HOST must answer). */
  docker: boolean;
  diskMb: number;
}

export class ChaosStack {
  readonly processes: SystemProcess[] = [];
  readonly logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-chaos-logs-'));
  api!: ApiClient & { process: SystemProcess };
  readonly runners = new Map<string, SystemProcess>();

  private constructor(
    readonly postgres: PrivatePostgres,
    readonly redis: PrivateRedis,
    readonly disk: SmallDisk,
    readonly opts: ChaosStackOptions,
  ) {}

  static async start(opts: ChaosStackOptions): Promise<ChaosStack> {
    for (const entry of ['apps/api/dist/main.js', 'apps/runner/dist/main.js']) {
      if (!fs.existsSync(path.join(ROOT, entry))) throw new Error(`${entry} is missing: run pnpm build first`);
    }
    if (process.getuid?.() !== 0)
      throw new Error('the chaos suite mounts a small tmpfs as WORKSPACE_ROOT: run it as root');
    const postgres = await PrivatePostgres.start();
    const redis = await PrivateRedis.start();
    const disk = SmallDisk.create(opts.diskMb);
    const stack = new ChaosStack(postgres, redis, disk, opts);
    execFileSync('psql', [postgres.adminUrl, '-qc', `CREATE DATABASE ${DATABASE}`], { stdio: 'pipe' });
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'prisma.js'), 'migrate', 'deploy'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: stack.databaseUrl },
      stdio: 'pipe',
    });
    return stack;
  }

  get databaseUrl(): string {
    return this.postgres.urlOf(DATABASE);
  }

  get workspaceRoot(): string {
    return this.disk.dir;
  }

  baseEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('CWO_')) env[k] = v;
    return {
      ...env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redis.url,
      QUEUE_PREFIX,
      WORKSPACE_ROOT: this.workspaceRoot,
      AUTH_MODE: 'none',
      RATE_LIMIT_CREATE_PER_MINUTE: '100000',
      MAX_ACTIVE_JOBS_PER_USER: '100000',
    };
  }

  private spawn(name: string, entry: string, env: Record<string, string>): SystemProcess {
    const child = spawn(process.execPath, [path.join(ROOT, entry)], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new SystemProcess(name, child, path.join(this.logDir, `${name}-${child.pid}.log`));
    this.processes.push(proc);
    return proc;
  }

  async startApi(): Promise<void> {
    const port = await freePort();
    const proc = this.spawn('api', 'apps/api/dist/main.js', { ...this.baseEnv(), PORT: String(port) });
    const api = new ApiClient(`http://127.0.0.1:${port}`);
    await eventually(
      'the API to answer /readyz',
      async () => {
        if (!proc.running) throw new Error(`the API exited:\n${proc.tail()}`);
        return (await api.get('/readyz').catch(() => null))?.status === 200;
      },
      60_000,
    );
    this.api = Object.assign(api, { process: proc });
  }

  runnerEnv(kind: 'dummy' | 'docker'): Record<string, string> {
    return {
      ...this.baseEnv(),
      ...FAST_RUNNER_ENV,
      RUNNER_CONCURRENCY: '2',
      DUMMY_WORKER_DELAY_MS: String(this.opts.agentDelayMs),
      ...(kind === 'docker'
        ? { USE_DUMMY_WORKER: 'false', WORKER_EXECUTOR: 'docker', ORPHAN_REAP_INTERVAL_SECONDS: '5' }
        : {}),
    };
  }

  async startRunner(name: string, kind: 'dummy' | 'docker'): Promise<SystemProcess> {
    const proc = this.spawn(name, 'apps/runner/dist/main.js', this.runnerEnv(kind));
    await proc.waitForOutput(/runner started/, 60_000);
    this.runners.set(name, proc);
    return proc;
  }

  describe(): string {
    return this.processes.map((p) => `--- ${p.name} (pid ${p.pid}) ---\n${p.tail(30)}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop(10_000)));
    await this.redis.destroy();
    this.postgres.destroy();
    this.disk.destroy();
  }
}
