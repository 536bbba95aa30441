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
import { RunManifest, sweepLeftovers } from './leftovers';
import { PrivatePostgres, PrivateRedis, SmallDisk } from './services';
import { BOARD_ADMIN } from './traffic';

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
  private started: (ApiClient & { process: SystemProcess }) | undefined;
  readonly runners = new Map<string, SystemProcess>();
  /** Processes that died (of a fault, or killed by one) and were started again. */
  readonly replaced = new Set<SystemProcess>();
  /** Where the API says it is ready: /readyz, or /healthz on a build older than /readyz. */
  readyPath = '/readyz';

  private constructor(
    readonly postgres: PrivatePostgres,
    readonly redis: PrivateRedis,
    readonly disk: SmallDisk,
    readonly opts: ChaosStackOptions,
    private readonly manifest: RunManifest,
  ) {
    manifest.data.dirs.push(this.logDir);
    manifest.save();
  }

  static async start(opts: ChaosStackOptions): Promise<ChaosStack> {
    for (const entry of ['apps/api/dist/main.js', 'apps/runner/dist/main.js']) {
      if (!fs.existsSync(path.join(ROOT, entry))) throw new Error(`${entry} is missing: run pnpm build first`);
    }
    if (process.getuid?.() !== 0)
      throw new Error('the chaos suite mounts a small tmpfs as WORKSPACE_ROOT: run it as root');
    const swept = sweepLeftovers();
    if (swept.length) console.log(`chaos: cleaned up after an earlier run that could not: ${swept.join(', ')}`);
    const manifest = new RunManifest();
    const made: Array<() => unknown> = [];
    try {
      const postgres = await PrivatePostgres.start();
      made.push(() => postgres.destroy());
      manifest.data.postgres = { pgCtl: postgres.pgCtl, dataDir: postgres.dataDir, user: postgres.user };
      manifest.data.dirs.push(postgres.dir);
      manifest.save();
      const redis = await PrivateRedis.start();
      made.push(() => redis.destroy());
      redis.onStarted = (pid) => {
        manifest.data.pids.push(pid);
        manifest.save();
      };
      if (redis.pid) manifest.data.pids.push(redis.pid);
      manifest.data.dirs.push(redis.dir);
      manifest.save();
      const disk = SmallDisk.create(opts.diskMb);
      made.push(() => disk.destroy());
      manifest.data.mounts.push(disk.dir);
      manifest.data.dirs.push(disk.dir);
      manifest.save();
      const stack = new ChaosStack(postgres, redis, disk, opts, manifest);
      execFileSync('psql', [postgres.adminUrl, '-qc', `CREATE DATABASE ${DATABASE}`], { stdio: 'pipe' });
      execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'prisma.js'), 'migrate', 'deploy'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: stack.databaseUrl },
        stdio: 'pipe',
      });
      return stack;
    } catch (err) {
      for (const undo of made.reverse()) await undo();
      manifest.remove();
      throw err;
    }
  }

  /** The API as it runs now (started again if a fault killed it). */
  get api(): ApiClient & { process: SystemProcess } {
    if (!this.started) throw new Error('the API was not started');
    return this.started;
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
      // The queue board, probed through the faults (traffic.ts).
      BULL_BOARD_ENABLED: 'true',
      ADMIN_USER: BOARD_ADMIN.user,
      ADMIN_PASSWORD: BOARD_ADMIN.password,
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
    if (child.pid) this.manifest.data.pids.push(child.pid);
    this.manifest.save();
    return proc;
  }

  async startApi(): Promise<void> {
    if (this.started) this.replaced.add(this.started.process);
    const port = await freePort();
    const proc = this.spawn('api', 'apps/api/dist/main.js', { ...this.baseEnv(), PORT: String(port) });
    const api = new ApiClient(`http://127.0.0.1:${port}`);
    await eventually(
      'the API to answer /readyz',
      async () => {
        if (!proc.running) throw new Error(`the API exited:\n${proc.tail()}`);
        const ready = await api.get(this.readyPath).catch(() => null);
        if (ready?.status === 404 && this.readyPath === '/readyz') this.readyPath = '/healthz';
        return ready?.status === 200;
      },
      60_000,
    );
    this.started = Object.assign(api, { process: proc });
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
    const old = this.runners.get(name);
    if (old) this.replaced.add(old);
    const proc = this.spawn(name, 'apps/runner/dist/main.js', this.runnerEnv(kind));
    await proc.waitForOutput(/runner started/, 60_000);
    this.runners.set(name, proc);
    return proc;
  }

  /** Starts a process that died again, in its place. */
  async restart(proc: SystemProcess): Promise<void> {
    if (proc === this.started?.process) return this.startApi();
    const name = [...this.runners].find(([, p]) => p === proc)?.[0];
    if (name) await this.startRunner(name, name.includes('docker') ? 'docker' : 'dummy');
  }

  describe(): string {
    return this.processes.map((p) => `--- ${p.name} (pid ${p.pid}) ---\n${p.tail(30)}`).join('\n');
  }

  /** Stops everything and removes what the run made (its logs too, unless `keepLogs`). */
  async stop(opts: { keepLogs?: boolean } = {}): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop(10_000)));
    await this.redis.destroy();
    this.postgres.destroy();
    this.disk.destroy();
    if (!opts.keepLogs) fs.rmSync(this.logDir, { recursive: true, force: true });
    this.manifest.remove();
  }
}
