// The faults, each injected while jobs run, and healed; what a fault must show is checked by the
// run (run.ts) around it: 503s not 500s while it lasts, recovery without a restart, and at the end
// every job finished with every edit applied once.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { eventually } from '../helpers/poll';
import type { SystemProcess } from '../helpers/stack';
import { QUEUE_PREFIX, type ChaosStack } from './stack';
import { sleep } from './traffic';

export interface FaultResult {
  notes?: string;
  /** Jobs the fault was aimed at (besides those running when it began, which it hits too). */
  hit?: string[];
  /** Jobs that must end in error saying the disk is full, and whose edit must not be applied. */
  diskFull?: boolean;
}

export interface Fault {
  /** For --only. */
  key: string;
  name: string;
  /** Injects the fault and heals it; resolves when healed. */
  run(stack: ChaosStack): Promise<FaultResult>;
}

const ROOT = path.resolve(__dirname, '..', '..');

async function sql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Waits until `runner` is running a job (its attempt line is in a running job's log), so that a
 * fault aimed at it hits a job in flight. Returns that job's id.
 */
async function jobRunningOn(stack: ChaosStack, runner: SystemProcess): Promise<string> {
  let found = '';
  await eventually(
    `${runner.name} to be running a job`,
    async () => {
      const rows = await sql<{ id: string; project_id: string }>(
        stack.databaseUrl,
        `SELECT id, project_id FROM jobs WHERE status = 'in_progress'`,
      );
      for (const row of rows) {
        const log = path.join(stack.workspaceRoot, row.project_id, '.codex', 'jobs', row.id, 'job.log');
        const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
        const attempts = text.split('\n').filter((l) => /\[runner\] attempt \d+ of job/.test(l));
        if (attempts.at(-1)?.includes(`:${runner.pid}:`) && !/\[runner\] finished: /.test(text)) {
          found = row.id;
          return true;
        }
      }
      return false;
    },
    60_000,
    20,
  );
  return found;
}

export const terminatePostgresConnections: Fault = {
  key: 'pg-terminate',
  name: 'postgres ends every connection (pg_terminate_backend)',
  async run(stack) {
    const rows = await sql<{ n: number }>(
      stack.postgres.adminUrl,
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE datname = 'cwo_chaos' AND pid <> pg_backend_pid()`,
    );
    return { notes: `${rows[0]!.n} connections ended` };
  },
};

export function restartPostgres(downMs: number): Fault {
  return {
    key: 'pg-restart',
    name: `postgres restarts (${downMs / 1000} s down)`,
    async run(stack) {
      stack.postgres.stop();
      await sleep(downMs);
      stack.postgres.start();
      return {};
    },
  };
}

export const restartRedisEmpty: Fault = {
  key: 'redis-restart',
  name: 'redis restarts and loses every key',
  async run(stack) {
    await stack.redis.kill();
    await stack.redis.start();
    return {};
  },
};

export function redisDown(downMs: number): Fault {
  return {
    key: 'redis-down',
    name: `redis down for ${downMs / 1000} s`,
    async run(stack) {
      await stack.redis.kill();
      await sleep(downMs);
      await stack.redis.start();
      return {};
    },
  };
}

/** SIGSTOP a runner in the middle of a job for longer than the project lock's TTL, then SIGCONT. */
export function freezeRunner(name: string, frozenMs: number): Fault {
  return {
    key: 'freeze',
    name: `a runner frozen for ${frozenMs / 1000} s (SIGSTOP, then SIGCONT)`,
    async run(stack) {
      const runner = stack.runners.get(name)!;
      const jobId = await jobRunningOn(stack, runner);
      runner.kill('SIGSTOP');
      await sleep(frozenMs);
      runner.kill('SIGCONT');
      return { notes: `froze ${name} during job ${jobId.slice(0, 8)}`, hit: [jobId] };
    },
  };
}

/** SIGKILL a runner in the middle of a job; a new one is started in its place. */
export function killRunner(name: string): Fault {
  return {
    key: 'kill',
    name: 'a runner killed mid-job (SIGKILL)',
    async run(stack) {
      const runner = stack.runners.get(name)!;
      const kind = runner.name.includes('docker') ? 'docker' : 'dummy';
      const jobId = await jobRunningOn(stack, runner);
      runner.kill('SIGKILL');
      await runner.exited;
      await stack.startRunner(name, kind);
      return { notes: `killed ${name} during job ${jobId.slice(0, 8)}`, hit: [jobId] };
    },
  };
}

/**
 * Stops the podman service (the Docker API) while a container runs, then starts it again. The
 * container itself goes on (podman's conmon keeps it): its edit can land while the engine is down.
 */
export function restartContainerEngine(): Fault {
  return {
    key: 'engine',
    name: 'the container engine API restarts mid-container',
    async run() {
      // A container of this run's deployment, running now (they live about half a second).
      const jobId = await eventually(
        'a worker container to be running',
        async () =>
          execFileSync(
            'docker',
            [
              'ps',
              '--filter',
              `label=cwo.queue-prefix=${QUEUE_PREFIX}`,
              '--filter',
              'status=running',
              '--format',
              '{{.Label "cwo.job-id"}}',
            ],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
          )
            .trim()
            .split('\n')[0] || null,
        60_000,
        20,
      );
      const dir = process.env.CWO_CONTAINERS_DIR ?? path.join(ROOT, '.cache', 'containers');
      const pidFile = path.join(dir, 'service.pid');
      if (!fs.existsSync(pidFile)) throw new Error(`no podman service pid at ${pidFile}`);
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      process.kill(pid, 'SIGTERM');
      await eventually(
        'the podman service to stop',
        async () => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        },
        15_000,
      );
      await sleep(1000);
      execFileSync('bash', [path.join(ROOT, 'scripts', 'container-runtime.sh'), '--env'], { stdio: 'pipe' });
      return { notes: `restarted the engine during job ${jobId.slice(0, 8)}`, hit: [jobId] };
    },
  };
}

/**
 * Fills WORKSPACE_ROOT's disk, queues an edit of a finished project (the workload's may be
 * waiting elsewhere), and checks that it ends in error saying the disk is full while the API
 * keeps serving reads of that project; then frees the disk.
 */
export function fillDisk(): Fault {
  return {
    key: 'disk',
    name: 'the workspace disk fills up (ENOSPC)',
    async run(stack) {
      const [target] = await sql<{ id: string }>(
        stack.databaseUrl,
        `SELECT p.id FROM projects p WHERE p.status = 'completed' ORDER BY p.updated_at LIMIT 1`,
      );
      if (!target) throw new Error('no finished project to edit');
      const appBefore = fs.readFileSync(path.join(stack.workspaceRoot, target.id, 'app.py'), 'utf8');
      stack.disk.fill();
      try {
        const job = await stack.api.addJob(target.id, 'chaos disk edit: written while the disk is full');
        const done = await stack.api.waitForJob(target.id, job.id, 90_000);
        if (done.status !== 'error' || !done.errors.some((e: string) => /disk is full/i.test(e))) {
          throw new Error(`the job ended ${done.status} with errors ${JSON.stringify(done.errors)}`);
        }
        const files = await stack.api.get(`/api/v1/projects/${target.id}/files`);
        const app = await stack.api.get(`/api/v1/projects/${target.id}/files/app.py`);
        if (files.status !== 200 || app.status !== 200) {
          throw new Error(`reads during the full disk answered ${files.status} and ${app.status}`);
        }
        if (app.body.contents !== appBefore) throw new Error('app.py changed while the disk was full');
        const history = await stack.api.get(`/api/v1/projects/${target.id}/jobs`);
        const earlier = (history.body as { items: Array<{ id: string; status: string }> }).items.filter(
          (j) => j.id !== job.id,
        );
        for (const j of earlier.filter((e) => e.status === 'completed')) {
          const diff = await stack.api.get(`/api/v1/projects/${target.id}/jobs/${j.id}/diff`);
          if (diff.status !== 200) throw new Error(`the diff of earlier job ${j.id} answered ${diff.status}`);
        }
        return {
          notes: `job ${job.id.slice(0, 8)}: ${done.errors.join('; ').slice(0, 160)}`,
          hit: [job.id],
          diskFull: true,
        };
      } finally {
        stack.disk.free();
      }
    },
  };
}
