// `pnpm chaos` (and `--short`, which CI runs): the built API and three runners (two with the
// dummy agent, one with the docker executor) on a private Postgres, a private Redis and a small
// disk; a workload of projects and edits; each fault injected while jobs run; then the checks.
// One line per fault with its recovery time, a closing summary, exit status 1 if a check failed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { eventually } from '../helpers/poll';
import {
  fillDisk,
  freezeRunner,
  killRunner,
  redisDown,
  restartContainerEngine,
  restartPostgres,
  restartRedisEmpty,
  terminatePostgresConnections,
  type Fault,
} from './faults';
import { ChaosStack, QUEUE_PREFIX } from './stack';
import { Prober, sleep, Tally, Workload } from './traffic';

const ROOT = path.resolve(__dirname, '..', '..');
const short = process.argv.includes('--short');

const PLAN = short
  ? { projects: 10, minJobs: 40, pauseMs: 150, agentDelayMs: 250, redisDownMs: 10_000, pgDownMs: 3000 }
  : { projects: 24, minJobs: 100, pauseMs: 150, agentDelayMs: 400, redisDownMs: 20_000, pgDownMs: 5000 };
// Longer than PROJECT_LOCK_TTL_SECONDS (3 s) and two stalled checks (2 s each) of the runners.
const FREEZE_MS = 9000;

interface FaultReport {
  name: string;
  recoveredMs: number | null;
  during503: number;
  readyzNamed: string;
  notes: string;
}

function dockerAvailable(): boolean {
  if (!process.env.DOCKER_HOST) {
    // As the benchmarks do: the project's own script makes the socket and the worker image.
    const out = execFileSync('bash', [path.join(ROOT, 'scripts', 'container-runtime.sh'), '--env'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    for (const line of out.split('\n')) {
      const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m) process.env[m[1]!] = m[2]!;
    }
  }
  return !!process.env.DOCKER_HOST;
}

async function main(): Promise<number> {
  const started = Date.now();
  const docker = dockerAvailable();
  const stack = await ChaosStack.start({ agentDelayMs: PLAN.agentDelayMs, docker, diskMb: 192 });
  // Interrupted: the private servers, the processes and the mount go too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`chaos: ${signal}: stopping`);
      void stack.stop().finally(() => process.exit(130));
    });
  }
  const tally = new Tally();
  const failures: string[] = [];
  const reports: FaultReport[] = [];
  const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  db.on('error', () => undefined); // the suite restarts this Postgres on purpose
  try {
    await stack.startApi();
    await stack.startRunner('runner-a', 'dummy');
    await stack.startRunner('runner-b', 'dummy');
    await stack.startRunner('runner-docker', 'docker');
    console.log(
      `chaos: API and 3 runners (2 dummy, 1 docker) on a private Postgres (port ${stack.postgres.port}), Redis (port ${stack.redis.port}) and a ${192} MB disk; logs in ${stack.logDir}`,
    );

    const workload = new Workload(stack.api, tally, PLAN);
    const prober = new Prober(stack.api, tally, () => workload.created[0]?.projectId);
    workload.start();
    prober.start(200);
    await eventually('the workload to get going', async () => workload.created.length >= 12, 60_000);

    const faults: Fault[] = [
      terminatePostgresConnections,
      restartPostgres(PLAN.pgDownMs),
      restartRedisEmpty,
      redisDown(PLAN.redisDownMs),
      freezeRunner('runner-a', FREEZE_MS),
      killRunner('runner-b'),
      ...(docker ? [restartContainerEngine('runner-docker')] : []),
      fillDisk(),
    ];
    for (const fault of faults) {
      const before = tally.count503();
      const from = Date.now();
      let notes = '';
      try {
        notes = (await fault.run(stack)) ?? '';
      } catch (err) {
        failures.push(`${fault.name}: could not inject: ${(err as Error).message}`);
      }
      const healed = Date.now();
      const recoveredMs = await recoveryTime(stack, healed);
      if (recoveredMs === null) failures.push(`${fault.name}: no recovery within 90 s`);
      const named = [...prober.downDuring(from, Date.now())].join(', ') || '-';
      const report = { name: fault.name, recoveredMs, during503: tally.count503() - before, readyzNamed: named, notes };
      reports.push(report);
      console.log(
        `fault: ${report.name}: recovered in ${recoveredMs === null ? 'NEVER' : `${(recoveredMs / 1000).toFixed(1)} s`}` +
          ` (503 answers ${report.during503}, /readyz named down: ${named})${notes ? `; ${notes}` : ''}`,
      );
      for (const p of stack.processes) {
        if (!p.running && !/runner-b/.test(p.name)) failures.push(`${p.name} (pid ${p.pid}) exited during the run`);
      }
      await sleep(1500);
    }

    // The workload goes on until it has made at least minJobs.
    await eventually('the workload to reach its size', async () => workload.created.length >= PLAN.minJobs, 300_000);
    await workload.stop();
    prober.stop();
    // Every job reaches a final state.
    const finished = await eventually(
      'every job to finish',
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM jobs WHERE status IN ('queued', 'in_progress')`,
        );
        return rows[0]!.n === 0;
      },
      180_000,
      500,
    ).then(
      () => true,
      () => false,
    );
    const checks = await finalChecks(stack, db, workload.created.length);
    failures.push(...(finished ? [] : ['not every job finished within 3 minutes']), ...checks.failures);
    failures.push(...tally.serverErrors.slice(0, 20));
    if (tally.serverErrors.length > 20) failures.push(`… and ${tally.serverErrors.length - 20} more 5xx answers`);
    for (const p of stack.processes) {
      if (!p.running && !(p.name === 'runner-b' && p !== stack.runners.get('runner-b'))) {
        failures.push(`${p.name} (pid ${p.pid}) is not running at the end`);
      }
    }

    const statuses = [...tally.byStatus].map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(`chaos: ${tally.requests} requests (${statuses}); 5xx other than 503: ${tally.serverErrors.length}`);
    console.log(
      `chaos summary: ${checks.jobs} jobs over ${checks.projects} projects, ${reports.length} faults, ` +
        `jobs lost ${checks.lost}, edits applied twice ${checks.twice}, ended in error ${checks.errors} ` +
        `(disk full ${checks.diskErrors}), ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    const result = {
      passed: failures.length === 0 ? 1 : 0,
      failed: failures.length === 0 ? 0 : 1,
      reports,
      failures,
      checks,
    };
    fs.mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, '.cache', 'chaos.json'), JSON.stringify(result, null, 2));
    if (failures.length) {
      console.log(`chaos: FAILED\n  ${failures.join('\n  ')}`);
      console.log(stack.describe());
      return 1;
    }
    console.log('chaos: every check passed');
    return 0;
  } finally {
    await db.end().catch(() => undefined);
    await stack.stop().catch((err: unknown) => console.error('chaos: clean-up failed', err));
  }
}

/** From the moment a fault was healed until /readyz is 200 and a new job has completed. */
async function recoveryTime(stack: ChaosStack, healedAt: number): Promise<number | null> {
  const deadline = healedAt + 90_000;
  while (Date.now() < deadline) {
    const ready = await stack.api.get('/readyz').catch(() => null);
    if (ready?.status === 200) {
      const res = await stack.api
        .post('/api/v1/projects', { instruction: 'chaos probe: is the system back?' })
        .catch(() => null);
      if (res?.status === 202) {
        const job = await stack.api.waitForJob(res.body.id, res.body.job.id, deadline - Date.now()).catch(() => null);
        if (job?.status === 'completed') return Date.now() - healedAt;
      }
    }
    await sleep(100);
  }
  return null;
}

interface Checks {
  failures: string[];
  jobs: number;
  projects: number;
  lost: number;
  twice: number;
  errors: number;
  diskErrors: number;
}

async function finalChecks(stack: ChaosStack, db: pg.Pool, created: number): Promise<Checks> {
  const failures: string[] = [];
  const { rows: jobs } = await db.query<{
    id: string;
    project_id: string;
    job_type: string;
    instruction: string;
    status: string;
    errors: string[];
  }>(`SELECT id, project_id, job_type, instruction, status, errors FROM jobs ORDER BY project_id, seq`);
  const chaosJobs = jobs.filter((j) => j.instruction.startsWith('chaos ') && !j.instruction.startsWith('chaos probe'));
  if (chaosJobs.length < created)
    failures.push(`${created} jobs were created, only ${chaosJobs.length} are in Postgres`);
  const lost = jobs.filter((j) => j.status === 'queued' || j.status === 'in_progress');
  const errored = jobs.filter((j) => j.status === 'error');
  const diskErrors = errored.filter((j) => j.errors.some((e) => /disk is full/i.test(e)));
  for (const j of errored) {
    if (!diskErrors.includes(j))
      failures.push(`job ${j.id} ended in error outside the disk fault: ${j.errors.join('; ')}`);
  }
  for (const j of lost) failures.push(`job ${j.id} never finished (${j.status})`);

  // Every edit of a completed job is in app.py exactly once and in creation order; no other is.
  let twice = 0;
  const projects = new Map<string, typeof jobs>();
  for (const j of chaosJobs) projects.set(j.project_id, [...(projects.get(j.project_id) ?? []), j]);
  for (const [projectId, list] of projects) {
    const initial = list.find((j) => j.job_type === 'initial_project');
    if (initial?.status !== 'completed') continue;
    const appPy = path.join(stack.workspaceRoot, projectId, 'app.py');
    const text = fs.existsSync(appPy) ? fs.readFileSync(appPy, 'utf8') : '';
    if (!text.includes('def fib')) failures.push(`project ${projectId}: app.py lost its earlier contents`);
    const applied = [...text.matchAll(/^# Edit: (.*)$/gm)].map((m) => m[1]!);
    const expected = list.filter((j) => j.job_type === 'edit' && j.status === 'completed').map((j) => j.instruction);
    for (const e of new Set(applied)) if (applied.filter((a) => a === e).length > 1) twice++;
    if (JSON.stringify(applied) !== JSON.stringify(expected)) {
      failures.push(
        `project ${projectId}: edits in app.py ${JSON.stringify(applied)} but completed jobs ${JSON.stringify(expected)}`,
      );
    }
  }
  if (twice) failures.push(`${twice} edits applied twice`);

  // Nothing left behind: containers, locks, outcome records, temporary files.
  const locks = execFileSync(
    'redis-cli',
    ['-p', String(stack.redis.port), '--scan', '--pattern', `${QUEUE_PREFIX}:project-lock:*`],
    {
      encoding: 'utf8',
    },
  ).trim();
  if (locks) failures.push(`project locks left in Redis: ${locks.split('\n').length}`);
  if (process.env.DOCKER_HOST) {
    const left = await eventually(
      'worker containers to be gone',
      async () =>
        execFileSync('docker', ['ps', '-aq', '--filter', `label=cwo.queue-prefix=${QUEUE_PREFIX}`], {
          encoding: 'utf8',
        }).trim() === '',
      30_000,
      500,
    ).then(
      () => '',
      () =>
        execFileSync('docker', ['ps', '-a', '--filter', `label=cwo.queue-prefix=${QUEUE_PREFIX}`], {
          encoding: 'utf8',
        }),
    );
    if (left) failures.push(`worker containers left:\n${left}`);
  }
  const outcomes = path.join(stack.workspaceRoot, '.runner', 'outcomes');
  const records = fs.existsSync(outcomes) ? fs.readdirSync(outcomes) : [];
  if (records.length) failures.push(`outcome records left: ${records.join(', ')}`);

  return {
    failures,
    jobs: chaosJobs.length,
    projects: projects.size,
    lost: lost.length,
    twice,
    errors: errored.length,
    diskErrors: diskErrors.length,
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('chaos: the suite itself failed:', err);
    process.exit(1);
  },
);
