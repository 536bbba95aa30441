// The system as it runs in production, for one test file: the built API and runner processes
// (`node apps/api/dist/main.js`, `node apps/runner/dist/main.js`) on a database, Redis prefix and
// workspace root of their own, started and stopped by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDb, type Db } from '@cwo/db';
import { ApiClient } from './api-client';

// test/services.js is CommonJS shared with the unit-test setup.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const services = require('../../test/services') as {
  ROOT: string;
  createTestDatabase(
    label: string,
    options?: { migrate?: boolean },
  ): Promise<{ name: string; databaseUrl: string; redisUrl: string; queuePrefix: string }>;
  dropTestDatabase(name: string): Promise<void>;
  clearRedisPrefix(prefix: string): Promise<void>;
};

/**
 * Timings shortened so that recovery paths (stalled jobs, reconciler, lock expiry, cancel poll)
 * show within seconds; each test can override them.
 */
export const FAST_RUNNER_ENV: Record<string, string> = {
  USE_DUMMY_WORKER: 'true',
  RUNNER_CONCURRENCY: '2',
  RECONCILE_INTERVAL_SECONDS: '1',
  RECONCILE_GRACE_SECONDS: '2',
  STALLED_CHECK_SECONDS: '2',
  PROJECT_LOCK_TTL_SECONDS: '3',
  CANCEL_POLL_SECONDS: '1',
  PROJECT_BUSY_RETRY_MS: '200',
  SHUTDOWN_GRACE_SECONDS: '2',
};

const MAX_OUTPUT_CHARS = 200_000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

import { eventually } from './poll';

export { eventually, sleep } from './poll';

/** One of the system's processes, with its output kept for assertions and post-mortems. */
export class SystemProcess {
  private out = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    logFile: string,
  ) {
    const file = fs.createWriteStream(logFile);
    const collect = (chunk: Buffer) => {
      file.write(chunk);
      this.out += chunk.toString('utf8');
      if (this.out.length > MAX_OUTPUT_CHARS) this.out = this.out.slice(-MAX_OUTPUT_CHARS / 2);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        file.end();
        resolve({ code, signal });
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.out;
  }

  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    await eventually(
      `${this.name} to print ${pattern}`,
      async () => {
        if (!this.running) throw new Error(`${this.name} exited:\n${this.tail()}`);
        return pattern.test(this.out);
      },
      timeoutMs,
      50,
    );
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.kill('SIGTERM');
      const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }

  tail(lines = 40): string {
    return this.out.split('\n').slice(-lines).join('\n');
  }
}

export class Stack {
  readonly processes: SystemProcess[] = [];
  private logDir: string;

  private constructor(
    readonly label: string,
    readonly database: { name: string; databaseUrl: string; redisUrl: string; queuePrefix: string },
    readonly workspaceRoot: string,
    /** A Prisma client on the stack's database, for what a test checks or sets up directly. */
    readonly db: Db,
  ) {
    this.logDir = path.join(os.tmpdir(), 'cwo-e2e-logs', `${label}-${database.name}`);
    fs.mkdirSync(this.logDir, { recursive: true });
  }

  /** `{ migrate: false }`: an empty database, as on a first start. */
  static async create(label: string, options: { migrate?: boolean } = {}): Promise<Stack> {
    const database = await services.createTestDatabase(`e2e_${label}`, options);
    const root = process.env.CWO_E2E_WORKSPACES ?? os.tmpdir();
    const workspaceRoot = fs.mkdtempSync(path.join(root, `${label}-`));
    return new Stack(label, database, workspaceRoot, createDb(database.databaseUrl));
  }

  /** The environment every process of the stack shares. */
  baseEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('CWO_')) env[k] = v;
    return {
      ...env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: this.database.databaseUrl,
      REDIS_URL: this.database.redisUrl,
      QUEUE_PREFIX: this.database.queuePrefix,
      WORKSPACE_ROOT: this.workspaceRoot,
      // The API's own limits and authentication are tested by the API's tests, not here.
      AUTH_MODE: 'none',
      RATE_LIMIT_CREATE_PER_MINUTE: '100000',
      MAX_ACTIVE_JOBS_PER_USER: '100000',
    };
  }

  private spawn(name: string, entry: string, env: Record<string, string>): SystemProcess {
    const child = spawn(process.execPath, [path.join(services.ROOT, entry)], {
      cwd: services.ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new SystemProcess(name, child, path.join(this.logDir, `${name}.log`));
    this.processes.push(proc);
    return proc;
  }

  /** The API process, not waited for (a start-up that must fail). */
  launchApi(env: Record<string, string> = {}): SystemProcess {
    return this.spawn('api', 'apps/api/dist/main.js', { ...this.baseEnv(), ...env });
  }

  async startApi(env: Record<string, string> = {}): Promise<ApiClient & { process: SystemProcess }> {
    const port = await freePort();
    const proc = this.spawn('api', 'apps/api/dist/main.js', { ...this.baseEnv(), PORT: String(port), ...env });
    const api = new ApiClient(`http://127.0.0.1:${port}`);
    await eventually(
      'the API to answer /healthz',
      async () => {
        if (!proc.running) throw new Error(`the API exited:\n${proc.tail()}`);
        return (await api.get('/healthz').catch(() => null))?.status === 200;
      },
      60_000,
    );
    return Object.assign(api, { process: proc });
  }

  async startRunner(name: string, env: Record<string, string> = {}): Promise<SystemProcess> {
    const proc = this.spawn(name, 'apps/runner/dist/main.js', { ...this.baseEnv(), ...FAST_RUNNER_ENV, ...env });
    await proc.waitForOutput(/runner started/, 60_000);
    return proc;
  }

  /** The last lines of every process's output, for a failing test's message. */
  describe(): string {
    return this.processes.map((p) => `--- ${p.name} (pid ${p.pid}) ---\n${p.tail()}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.db.$disconnect();
    await services.dropTestDatabase(this.database.name).catch(() => undefined);
    await services.clearRedisPrefix(this.database.queuePrefix).catch(() => undefined);
    fs.rmSync(this.workspaceRoot, { recursive: true, force: true });
  }
}

export const randomName = () => crypto.randomBytes(3).toString('hex');
