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
  type FaultResult,
} from './faults';
import { ChaosStack, QUEUE_PREFIX } from './stack';
import { LogFollowers, Prober, sleep, Tally, Workload } from './traffic';

const ROOT = path.resolve(__dirname, '..', '..');
const short = process.argv.includes('--short');
const option = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const PLAN = short
  ? { projects: 10, minJobs: 40, pauseMs: 150, agentDelayMs: 250, redisDownMs: 10_000, pgDownMs: 3000 }
  : { projects: 24, minJobs: 100, pauseMs: 150, agentDelayMs: 400, redisDownMs: 20_000, pgDownMs: 5000 };
// Longer than PROJECT_LOCK_TTL_SECONDS (3 s) and two stalled checks (2 s each) of the runners.
const FREEZE_MS = 9000;
// A run that has not ended by then fails (and cleans up): CI must never hang on it.
const DEADLINE_MS = Number(option('deadline-minutes') ?? (short ? 8 : 20)) * 60_000;
/** How long the jobs a fault hit get to finish once it is healed. */
const HIT_JOBS_FINISH_MS = 120_000;

interface FaultReport {
  key: string;
  name: string;
  recoveredMs: number | null;
  during503: number;
  readyzNamed: string;
  notes: string;
  hitJobs: string;
  failures: string[];
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

interface JobRow {
  id: string;
  project_id: string;
  job_type: string;
  instruction: string;
  status: string;
  attempts: number;
  errors: string[];
}

/** How often each edit's line is in its project's app.py (the dummy agent appends `# Edit: …`). */
function editCounts(stack: ChaosStack, projectId: string): Map<string, number> {
  const appPy = path.join(stack.workspaceRoot, projectId, 'app.py');
  const text = fs.existsSync(appPy) ? fs.readFileSync(appPy, 'utf8') : '';
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^# Edit: (.*)$/gm)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  return counts;
}

/**
 * What a fault did to the jobs it hit (those running when it began, and the one it was aimed at):
 * each must end completed (or, for the disk fault, in error saying the disk is full), with its
 * edit in app.py exactly once when completed and not at all otherwise.
 */
async function judgeHitJobs(
  stack: ChaosStack,
  db: pg.Pool,
  hit: string[],
  diskFull: boolean,
): Promise<{ summary: string; failures: string[] }> {
  const failures: string[] = [];
  if (!hit.length) return { summary: 'no job running', failures };
  const read = async () =>
    (
      await db.query<JobRow>(
        `SELECT id, project_id, job_type, instruction, status, attempts, errors FROM jobs WHERE id = ANY($1::uuid[])`,
        [hit],
      )
    ).rows;
  let rows: JobRow[] = [];
  await eventually(
    'the jobs the fault hit to finish',
    async () => {
      rows = await read();
      return rows.every((r) => r.status !== 'queued' && r.status !== 'in_progress');
    },
    HIT_JOBS_FINISH_MS,
    250,
  ).catch(() => undefined);
  for (const r of rows) {
    const job = `job ${r.id.slice(0, 8)}`;
    if (r.status === 'queued' || r.status === 'in_progress') {
      failures.push(`${job} still ${r.status} ${HIT_JOBS_FINISH_MS / 1000} s after the fault`);
      continue;
    }
    const fullDisk = r.status === 'error' && r.errors.some((e) => /disk is full/i.test(e));
    if (r.status !== 'completed' && !(diskFull && fullDisk))
      failures.push(`${job} ended ${r.status}: ${r.errors.join('; ').slice(0, 300)}`);
    if (r.job_type === 'edit') {
      const times = editCounts(stack, r.project_id).get(r.instruction) ?? 0;
      const expected = r.status === 'completed' ? 1 : 0;
      if (times !== expected) failures.push(`${job} (${r.status}): its edit is in app.py ${times} times`);
    }
  }
  const by = (status: string) => rows.filter((r) => r.status === status);
  const attempts = rows.map((r) => r.attempts).join(',');
  const summary = `${rows.length} jobs hit: ${by('completed').length} completed, ${by('error').length} in error (attempts ${attempts})`;
  return { summary, failures };
}

async function main(): Promise<number> {
  const started = Date.now();
  const docker = dockerAvailable();
  const stack = await ChaosStack.start({ agentDelayMs: PLAN.agentDelayMs, docker, diskMb: 192 });
  let passed = false;
  // Interrupted, or past its deadline: the private servers, the processes and the mount go too.
  const abandon = (why: string) => {
    console.log(`chaos: ${why}: stopping`);
    void stack.stop({ keepLogs: true }).finally(() => process.exit(why === 'deadline' ? 1 : 130));
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => abandon(signal));
  setTimeout(() => {
    console.log(`chaos: FAILED: the run did not end within ${DEADLINE_MS / 60_000} minutes; logs in ${stack.logDir}`);
    console.log(stack.describe());
    abandon('deadline');
  }, DEADLINE_MS).unref();
  const tally = new Tally();
  const failures: string[] = [];
  const reports: FaultReport[] = [];
  const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  db.on('error', () => undefined); // the suite restarts this Postgres on purpose
  try {
    await stack.startApi();
    await stack.startRunner('runner-a', 'dummy');
    await stack.startRunner('runner-b', 'dummy');
    if (docker) await stack.startRunner('runner-docker', 'docker');
    console.log(
      `chaos: ${process.env.CHAOS_APP_ROOT ? `the build in ${process.env.CHAOS_APP_ROOT}: ` : ''}API and ${docker ? '3 runners (2 dummy, 1 docker)' : '2 runners (dummy; no Docker API: the container engine fault is left out)'} on a private Postgres (port ${stack.postgres.port}), Redis (port ${stack.redis.port}) and a ${192} MB disk`,
    );

    const api = () => stack.api;
    const workload = new Workload(api, tally, PLAN);
    const followers = new LogFollowers(api);
    const prober = new Prober(
      api,
      tally,
      () => workload.created[0]?.projectId,
      () => stack.readyPath,
      () => followers.follow(workload.created.at(-1)),
    );
    workload.start();
    prober.start(200);
    await eventually('the workload to get going', async () => workload.created.length >= 12, 60_000);

    const all: Fault[] = [
      terminatePostgresConnections,
      restartPostgres(PLAN.pgDownMs),
      restartRedisEmpty,
      redisDown(PLAN.redisDownMs),
      freezeRunner('runner-a', FREEZE_MS),
      killRunner('runner-b'),
      ...(docker ? [restartContainerEngine()] : []),
      fillDisk(),
    ];
    const only = option('only')?.split(',');
    const unknown = only?.filter((k) => !all.some((f) => f.key === k)) ?? [];
    if (unknown.length) throw new Error(`--only: no fault ${unknown.join(', ')} (${all.map((f) => f.key).join(', ')})`);
    const faults = only ? all.filter((f) => only.includes(f.key)) : all;
    for (const fault of faults) {
      const before = tally.count503();
      const errorsBefore = tally.serverErrors.length;
      const from = Date.now();
      const running = (await db.query<{ id: string }>(`SELECT id FROM jobs WHERE status = 'in_progress'`)).rows;
      const own: string[] = [];
      let result: FaultResult = {};
      try {
        result = await fault.run(stack);
      } catch (err) {
        own.push(`could not inject, or it did not hold: ${(err as Error).message}`);
      }
      const healed = Date.now();
      // A process that died of the fault fails it; it is started again so that the run goes on.
      const restartDead = async () => {
        for (const p of [...stack.processes]) {
          if (p.running || stack.replaced.has(p)) continue;
          own.push(`${p.name} (pid ${p.pid}) exited: ${p.tail(3).replace(/\s+/g, ' ').slice(0, 300)}`);
          await stack.restart(p);
        }
      };
      await restartDead();
      const recoveredMs = await recoveryTime(stack, healed);
      if (recoveredMs === null) own.push('no recovery within 90 s');
      // Again: a process can die a moment after the fault (an idle connection's error event).
      await restartDead();
      const hit = [...new Set([...running.map((r) => r.id), ...(result.hit ?? [])])];
      const judged = await judgeHitJobs(stack, db, hit, result.diskFull ?? false);
      own.push(...judged.failures);
      own.push(...tally.serverErrors.slice(errorsBefore, errorsBefore + 5));
      const named = [...prober.downDuring(from, Date.now())].join(', ') || '-';
      const report: FaultReport = {
        key: fault.key,
        name: fault.name,
        recoveredMs,
        during503: tally.count503() - before,
        readyzNamed: named,
        notes: result.notes ?? '',
        hitJobs: judged.summary,
        failures: own,
      };
      reports.push(report);
      failures.push(...own.map((f) => `${fault.name}: ${f}`));
      console.log(
        `fault: ${report.name}: recovered in ${recoveredMs === null ? 'NEVER' : `${(recoveredMs / 1000).toFixed(1)} s`}` +
          ` (503 answers ${report.during503}, /readyz named down: ${named}); ${judged.summary}` +
          `${report.notes ? `; ${report.notes}` : ''}: ${own.length ? `FAILED\n    ${own.join('\n    ')}` : 'ok'}`,
      );
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
    const checks = await finalChecks(stack, db, workload.created.length, followers);
    failures.push(...(finished ? [] : ['not every job finished within 3 minutes']), ...checks.failures);
    failures.push(...tally.serverErrors.slice(0, 20));
    if (tally.serverErrors.length > 20) failures.push(`… and ${tally.serverErrors.length - 20} more 5xx answers`);
    for (const p of stack.processes) {
      if (!p.running && !stack.replaced.has(p)) {
        failures.push(`${p.name} (pid ${p.pid}) is not running at the end`);
      }
    }

    const statuses = [...tally.byStatus].map(([st, n]) => `${st}×${n}`).join(' ');
    console.log(`chaos: ${tally.requests} requests (${statuses}); 5xx other than 503: ${tally.serverErrors.length}`);
    console.log(
      `chaos: ${followers.streams.size} log streams followed (follow=1): ${checks.streamsEnded} ended with their end event`,
    );
    const faultsOk = reports.filter((r) => r.failures.length === 0).length;
    console.log(
      `chaos summary: ${checks.jobs} jobs over ${checks.projects} projects, ${reports.length} faults (${faultsOk} held), ` +
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
      console.log(`chaos: logs kept in ${stack.logDir}`);
      return 1;
    }
    passed = true;
    console.log('chaos: every check passed');
    return 0;
  } finally {
    await db.end().catch(() => undefined);
    await stack.stop({ keepLogs: !passed }).catch((err: unknown) => console.error('chaos: clean-up failed', err));
  }
}

/** From the moment a fault was healed until /readyz is 200 and a new job has completed. */
async function recoveryTime(stack: ChaosStack, healedAt: number): Promise<number | null> {
  const deadline = healedAt + 90_000;
  while (Date.now() < deadline) {
    const ready = await stack.api.get(stack.readyPath).catch(() => null);
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
  streamsEnded: number;
}

/** Temporary files of the runner's atomic writes (safe-fs.ts, git-objects.ts, history.ts, workspace-restore.ts). */
const TEMPORARY = /^\..+\.[0-9a-f]{8}\.(tmp|restore)$|^tmp_obj_[0-9a-f]+$|\.[0-9a-f]{8}\.tmp$/;

function temporaryFiles(dir: string, found: string[] = [], rel = ''): string[] {
  for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (TEMPORARY.test(d.name)) found.push(r);
    else if (d.isDirectory()) temporaryFiles(dir, found, r);
  }
  return found;
}

async function finalChecks(stack: ChaosStack, db: pg.Pool, created: number, followers: LogFollowers): Promise<Checks> {
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
  const temporary = temporaryFiles(stack.workspaceRoot);
  if (temporary.length) failures.push(`temporary files left: ${temporary.slice(0, 10).join(', ')}`);

  // Every log stream followed has ended, with its end event (or was answered 503 at the start).
  await eventually('the log streams to end', async () => followers.open() === 0, 30_000, 250).catch(() => undefined);
  let streamsEnded = 0;
  for (const [jobId, s] of followers.streams) {
    if (s.endedAt === undefined) failures.push(`the log stream of job ${jobId} is still open`);
    else if (s.outcome === 'end') streamsEnded++;
    else if (s.outcome !== 'answered 503') failures.push(`the log stream of job ${jobId} ${s.outcome}`);
  }

  return {
    failures,
    jobs: chaosJobs.length,
    projects: projects.size,
    lost: lost.length,
    twice,
    errors: errored.length,
    diskErrors: diskErrors.length,
    streamsEnded,
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('chaos: the suite itself failed:', err);
    process.exit(1);
  },
);
