// B2: 2,000 dummy jobs over 200 projects through one runner at concurrency 4, beside a minimal
// loop doing the same Postgres writes and BullMQ add/process with no application code, and beside
// that loop with the job protocol's own file writes done plainly (request, agent's files, result, log).
// Throughput: the jobs are written and enqueued first, then the worker drains them; jobs/s is
// counted from the first start to the last finish (DB timestamps), the same way for both.
// Latency: then one job at a time on an idle queue, enqueue -> completed (created_at -> finished_at).
const fs = require('node:fs');
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { createBenchEnv, startRunner, waitFor, stats, round, sleep, req, fromRoot, cpuSeconds } = require('./lib');

const PROJECTS = Number(process.env.BENCH_B2_PROJECTS || 200);
const JOBS_PER_PROJECT = Number(process.env.BENCH_B2_JOBS_PER_PROJECT || 10);
const IDLE_SAMPLES = Number(process.env.BENCH_B2_IDLE_SAMPLES || 100);
const CONCURRENCY = 4;

const { Client } = req('pg');
const { Queue, Worker } = req('bullmq');
const { redisConnection, enqueueJob } = require(fromRoot('packages/queue/dist'));

async function pgClient(url) {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

/** Writes projects and jobs in creation order: job k of every project, then k+1 (users acting at once). */
async function insertJobs(pg, projects, jobsPerProject, firstRound = 0) {
  const ids = [];
  for (let k = firstRound; k < firstRound + jobsPerProject; k++) {
    const values = [];
    const params = [];
    projects.forEach((p, i) => {
      const id = randomUUID();
      ids.push(id);
      params.push(id, p, k === 0 ? 'initial_project' : 'edit', k === 0 ? 'a Fibonacci CLI' : `edit number ${k}`);
      const b = i * 4;
      values.push(`($${b + 1}::uuid, $${b + 2}::uuid, $${b + 3}::"JobType", $${b + 4}, now())`);
    });
    await pg.query(
      `INSERT INTO jobs (id, project_id, job_type, instruction, updated_at) VALUES ${values.join(',')}`,
      params,
    );
  }
  return ids;
}

async function insertProjects(pg, workspaceRoot, n) {
  const ids = Array.from({ length: n }, () => randomUUID());
  const values = ids.map((_, i) => `($${i * 2 + 1}::uuid, 'bench project', $${i * 2 + 2}, now())`);
  await pg.query(
    `INSERT INTO projects (id, instruction, workspace_path, updated_at) VALUES ${values.join(',')}`,
    ids.flatMap((id) => [id, path.join(workspaceRoot, id)]),
  );
  return ids;
}

async function drainFigures(pg, ids) {
  const { rows } = await pg.query(
    `SELECT min(started_at) AS first, max(finished_at) AS last, count(*) FILTER (WHERE status = 'completed') AS done
       FROM jobs WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  const seconds = (rows[0].last - rows[0].first) / 1000;
  return {
    jobs: ids.length,
    completed: Number(rows[0].done),
    seconds: round(seconds, 3),
    jobs_per_s: round(ids.length / seconds, 1),
  };
}

async function waitAllFinished(pg, ids, timeoutMs) {
  await waitFor(
    `${ids.length} jobs to finish`,
    async () => {
      const { rows } = await pg.query(
        `SELECT count(*) AS n FROM jobs WHERE id = ANY($1::uuid[]) AND status IN ('completed','error','cancelled')`,
        [ids],
      );
      return Number(rows[0].n) === ids.length;
    },
    timeoutMs,
  );
}

async function firstStarted(pg) {
  for (;;) {
    const { rows } = await pg.query('SELECT 1 FROM jobs WHERE started_at IS NOT NULL LIMIT 1');
    if (rows.length) return;
    await sleep(5);
  }
}

/** One job at a time on an idle queue: created_at -> finished_at, in ms. */
async function idleLatencies(pg, enqueue, projectIds, samples) {
  const out = [];
  for (let i = 0; i < samples; i++) {
    const project = projectIds[i % projectIds.length];
    const [id] = await insertJobs(pg, [project], 1, 1000 + i);
    await enqueue(id);
    for (;;) {
      const { rows } = await pg.query(
        `SELECT status, extract(epoch from (finished_at - created_at)) * 1000 AS ms FROM jobs WHERE id = $1`,
        [id],
      );
      if (rows[0].status === 'completed') {
        out.push(Number(rows[0].ms));
        break;
      }
      if (rows[0].status === 'error') throw new Error(`idle job ${id} ended in error`);
      await sleep(2);
    }
  }
  return { ...stats(out), values: out };
}

async function measureRunner(disposeLater) {
  const env = await createBenchEnv('b2');
  disposeLater.push(env);
  const pg = await pgClient(env.env.DATABASE_URL);
  const queue = new Queue('jobs', { connection: redisConnection(env.env.REDIS_URL), prefix: env.env.QUEUE_PREFIX });
  const config = { RUNNER_MAX_ATTEMPTS: 3 };
  let runner;
  try {
    const projects = await insertProjects(pg, env.workspaceRoot, PROJECTS);
    const ids = await insertJobs(pg, projects, JOBS_PER_PROJECT);
    for (let i = 0; i < ids.length; i += 500)
      await Promise.all(ids.slice(i, i + 500).map((id) => enqueueJob(queue, config, id)));
    runner = await startRunner({ ...env.env, USE_DUMMY_WORKER: 'true', RUNNER_CONCURRENCY: String(CONCURRENCY) });
    // The runner's CPU from its first job on (not its start-up): steadier than jobs/s on a busy machine.
    await Promise.race([firstStarted(pg), runner.died]);
    const cpu0 = cpuSeconds(runner.pid);
    await Promise.race([waitAllFinished(pg, ids, 15 * 60_000), runner.died]);
    const drain = {
      ...(await drainFigures(pg, ids)),
      cpu_ms_per_job: round(((cpuSeconds(runner.pid) - cpu0) * 1000) / ids.length, 2),
    };
    const idle = await Promise.race([
      idleLatencies(pg, (id) => enqueueJob(queue, config, id), projects, IDLE_SAMPLES),
      runner.died,
    ]);
    return { drain, idle };
  } finally {
    await runner?.stop();
    await queue.close();
    await pg.end();
  }
}

/**
 * The job protocol's own files, written plainly (what the runner and the dummy agent write for a
 * job, without their checks): request.json, the agent's files, result.json, the job's log and
 * its copies of the request and result.
 */
function protocolFiles(workspace, jobId, jobType) {
  const codex = path.join(workspace, '.codex');
  const jobDir = path.join(codex, 'jobs', jobId);
  fs.mkdirSync(jobDir, { recursive: true });
  const request = JSON.stringify({ job_id: jobId, job_type: jobType, instruction: 'x' });
  fs.writeFileSync(path.join(codex, 'request.json'), request);
  fs.appendFileSync(path.join(jobDir, 'job.log'), `${new Date().toISOString()} [runner] started\n`);
  if (jobType === 'initial_project') {
    fs.mkdirSync(path.join(workspace, 'tests'), { recursive: true });
    fs.writeFileSync(path.join(workspace, 'README.md'), '# Fibonacci CLI\n');
    fs.writeFileSync(path.join(workspace, 'app.py'), 'print(1)\n');
    fs.writeFileSync(path.join(workspace, 'tests', 'test_cli.py'), 'def test(): pass\n');
  } else fs.appendFileSync(path.join(workspace, 'app.py'), `# Edit: ${jobId}\n`);
  const result = JSON.stringify({ status: 'success', summary: 'done', modified_files: ['app.py'] });
  fs.writeFileSync(path.join(codex, 'result.json'), result);
  fs.writeFileSync(path.join(jobDir, 'request.json'), request);
  fs.writeFileSync(path.join(jobDir, 'result.json'), result);
  fs.appendFileSync(path.join(jobDir, 'job.log'), `${new Date().toISOString()} [runner] finished: completed\n`);
}

/**
 * The minimal loop: the same rows, BullMQ add/process, and the writes a job needs, nothing else;
 * with `withFiles`, also the protocol's files (protocolFiles).
 */
async function measureBaseline(disposeLater, { withFiles = false } = {}) {
  const env = await createBenchEnv(withFiles ? 'b2files' : 'b2base');
  disposeLater.push(env);
  const pg = await pgClient(env.env.DATABASE_URL);
  const queueName = 'baseline';
  const connection = redisConnection(env.env.REDIS_URL);
  const queue = new Queue(queueName, { connection, prefix: env.env.QUEUE_PREFIX });
  const add = (id) => queue.add('run', { jobId: id }, { jobId: id, removeOnComplete: true });
  const workerPg = await pgClient(env.env.DATABASE_URL);
  const pool = new (req('pg').Pool)({ connectionString: env.env.DATABASE_URL, max: CONCURRENCY });
  let worker;
  try {
    const projects = await insertProjects(pg, env.workspaceRoot, PROJECTS);
    const ids = await insertJobs(pg, projects, JOBS_PER_PROJECT);
    for (let i = 0; i < ids.length; i += 500) await Promise.all(ids.slice(i, i + 500).map(add));
    const cpu0 = process.cpuUsage();
    worker = new Worker(
      queueName,
      async (job) => {
        const { rows } = await pool.query(
          'SELECT j.project_id, j.job_type, p.workspace_path FROM jobs j JOIN projects p ON p.id = j.project_id WHERE j.id = $1',
          [job.data.jobId],
        );
        if (withFiles) protocolFiles(rows[0].workspace_path, job.data.jobId, rows[0].job_type);
        await pool.query(
          `UPDATE jobs SET status = 'in_progress', started_at = now(), attempts = attempts + 1 WHERE id = $1`,
          [job.data.jobId],
        );
        await pool.query(`UPDATE jobs SET status = 'completed', finished_at = now() WHERE id = $1`, [job.data.jobId]);
        await pool.query(`UPDATE projects SET status = 'completed' WHERE id = $1`, [rows[0].project_id]);
      },
      {
        connection: { ...connection, maxRetriesPerRequest: null },
        prefix: env.env.QUEUE_PREFIX,
        concurrency: CONCURRENCY,
      },
    );
    await waitAllFinished(pg, ids, 15 * 60_000);
    const cpu = process.cpuUsage(cpu0);
    const drain = {
      ...(await drainFigures(pg, ids)),
      cpu_ms_per_job: round((cpu.user + cpu.system) / 1000 / ids.length, 2),
    };
    const idle = await idleLatencies(pg, add, projects, IDLE_SAMPLES);
    return { drain, idle };
  } finally {
    await worker?.close();
    await queue.close();
    await pool.end();
    await workerPg.end();
    await pg.end();
  }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

module.exports = async function b2() {
  // Each part's workspaces are removed only once all have run: on an ext4 without a journal
  // (these machines) the kernel passes over inodes freed in the last 60–300 s each time it makes a
  // file, so the part that ran after a removal paid for it (docs/benchmarks.md). The runner and the
  // loop with files run twice, in the order loop, runner, runner, loop, so that a drift of the
  // machine over the run (its page cache and inode tables filling) weighs on both alike.
  const envs = [];
  let baseline;
  const withFiles = [];
  const runners = [];
  try {
    baseline = await measureBaseline(envs);
    withFiles.push(await measureBaseline(envs, { withFiles: true }));
    runners.push(await measureRunner(envs));
    runners.push(await measureRunner(envs));
    withFiles.push(await measureBaseline(envs, { withFiles: true }));
  } finally {
    for (const env of envs) await env.dispose();
  }
  const rate = (parts) => round(mean(parts.map((x) => x.drain.jobs_per_s)), 1);
  const cpu = (parts) => round(mean(parts.map((x) => x.drain.cpu_ms_per_job)), 2);
  const idle = stats(runners.flatMap((r) => r.idle.values));
  const jobsPerS = rate(runners);
  return {
    ratio: round(jobsPerS / baseline.drain.jobs_per_s, 3),
    ratio_with_files: round(jobsPerS / rate(withFiles), 3),
    // Each runner part against the loop part beside it in the order (loop, runner | runner, loop).
    pair_ratios: runners.map((r, i) => round(r.drain.jobs_per_s / withFiles[i].drain.jobs_per_s, 3)),
    target: '>= 0.50 of the loop with file writes, idle p50 <= 10 ms',
    p50_ms: round(idle.p50, 1),
    p99_ms: round(idle.p99, 1),
    jobs_per_s: jobsPerS,
    // CPU per job of the runner process (all its threads) and of the loops' process, while draining.
    cpu_ms_per_job: cpu(runners),
    cpu_ratio_with_files: round(cpu(withFiles) / cpu(runners), 3),
    runners: runners.map(({ drain, idle: i }) => ({ drain, idle: { ...i, values: undefined } })),
    minimal_loop: {
      drain: baseline.drain,
      p50_ms: round(baseline.idle.p50, 1),
      p99_ms: round(baseline.idle.p99, 1),
    },
    loop_with_files: {
      jobs_per_s: rate(withFiles),
      cpu_ms_per_job: cpu(withFiles),
      parts: withFiles.map(({ drain, idle: i }) => ({ drain, p50_ms: round(i.p50, 1), p99_ms: round(i.p99, 1) })),
    },
    projects: PROJECTS,
    jobs: PROJECTS * JOBS_PER_PROJECT,
    concurrency: CONCURRENCY,
  };
};
