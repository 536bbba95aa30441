// Private Postgres and Redis servers for the chaos suite: it restarts them and wipes Redis, which
// must never touch the shared services other engineers' tests run on. Both listen on 127.0.0.1
// only, on free ports, with their data in a temporary directory removed afterwards.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../helpers/poll';
import { freePort } from '../helpers/stack';

const run = (cmd: string, args: string[], opts: { user?: string } = {}): string => {
  const [file, argv] = opts.user ? ['runuser', ['-u', opts.user, '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
};

/** The newest Postgres server binaries Debian installed (/usr/lib/postgresql/<version>/bin). */
function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base)
    ? fs
        .readdirSync(base)
        .filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error(`no Postgres server binaries under ${base}: apt-get install postgresql`);
  return path.join(base, versions[0], 'bin');
}

/**
 * A Postgres cluster of its own (initdb into a temporary directory, trust auth on 127.0.0.1),
 * started with pg_ctl as the postgres user (Postgres refuses to run as root).
 */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    readonly user: string | undefined,
  ) {}

  get pgCtl(): string {
    return path.join(this.bin, 'pg_ctl');
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  static async start(): Promise<PrivatePostgres> {
    const bin = postgresBin();
    const user = process.getuid?.() === 0 ? 'postgres' : undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-chaos-pg-'));
    if (user) execFileSync('chown', [user, dir]);
    run(path.join(bin, 'initdb'), ['-D', path.join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8'], {
      user,
    });
    const pg = new PrivatePostgres(dir, await freePort(), bin, user);
    pg.ctl('start');
    return pg;
  }

  get adminUrl(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  urlOf(database: string): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private ctl(action: 'start' | 'restart' | 'stop', mode = 'fast'): void {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    run(
      path.join(this.bin, 'pg_ctl'),
      [
        '-D',
        path.join(this.dir, 'data'),
        '-l',
        path.join(this.dir, 'postgres.log'),
        '-w',
        '-t',
        '60',
        ...(action === 'start' || action === 'restart' ? ['-o', options] : []),
        ...(action === 'start' ? [] : ['-m', mode]),
        action,
      ],
      { user: this.user },
    );
  }

  /** Stops the server (fast: connections are ended, as a restart does); resolves once it is down. */
  stop(): void {
    this.ctl('stop');
  }

  start(): void {
    this.ctl('start');
  }

  /** Stops and removes everything. */
  destroy(): void {
    try {
      this.ctl('stop', 'immediate');
    } catch {
      // already down
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A redis-server of its own that keeps nothing on disk: a restart loses every key. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  /** Told the pid of every redis-server started (for the run's manifest). */
  onStarted: (pid: number) => void = () => undefined;
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-chaos-redis-'));
    const redis = new PrivateRedis(await freePort(), dir);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.on('error', () => undefined);
    this.child = child;
    if (child.pid) this.onStarted(child.pid);
    await eventually(
      'the private redis-server to answer',
      async () => {
        if (child.exitCode !== null)
          throw new Error('redis-server exited (is it installed? apt-get install redis-server)');
        try {
          return run('redis-cli', ['-p', String(this.port), 'ping']).trim() === 'PONG';
        } catch {
          return false;
        }
      },
      10_000,
      50,
    );
  }

  /** SIGKILL: everything it held is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A tmpfs of `sizeMb` mounted on a new directory (root only): a disk the suite can fill. */
export class SmallDisk {
  private constructor(readonly dir: string) {}

  static create(sizeMb: number): SmallDisk {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-chaos-disk-'));
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir]);
    return new SmallDisk(dir);
  }

  private get filler(): string {
    return path.join(this.dir, 'filler');
  }

  /** Writes a file until the disk has no space left (ENOSPC). */
  fill(): void {
    const fd = fs.openSync(this.filler, 'a');
    const block = Buffer.alloc(1024 * 1024);
    try {
      for (;;) fs.writeSync(fd, block);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      // The last partial block: fill to the byte.
      const small = Buffer.alloc(512);
      try {
        for (;;) fs.writeSync(fd, small);
      } catch {
        // full
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  free(): void {
    fs.rmSync(this.filler, { force: true });
  }

  destroy(): void {
    try {
      run('umount', ['-l', this.dir]);
    } catch {
      // not mounted
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
