// B5: one-line edits on a large workspace. 20,000 files (~230 MB in 200 package folders) that an
// earlier job left, then ten edit jobs of the dummy agent (one line appended to app.py) through
// the real runner. What is measured is the runner's per-job work that depends on the workspace:
// its "before" snapshot with the check against the history, its "after" snapshot and the commit,
// as the job log times them; beside it, in the same run and alternating with the jobs,
// `git add -A && git commit` of the same edit in a plain repository holding the same tree (a warm
// index). Line one puts the tree under lib/pkgN/ (no ignore rule covers it: the stat index is
// what is measured), line two under node_modules/pkgN/ (the default HISTORY_IGNORE leaves it
// out; git's repository excludes it the same way).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const { createBenchEnv, startRunner, waitFor, stats, round, req, fromRoot, sleep } = require('./lib');

const FILES = Number(process.env.BENCH_B5_FILES || 20_000);
const PACKAGES = Number(process.env.BENCH_B5_PACKAGES || 200);
const TOTAL_MB = Number(process.env.BENCH_B5_MB || 230);
const EDITS = Number(process.env.BENCH_B5_EDITS || 10);

const { Client } = req('pg');
const { Queue } = req('bullmq');
const { redisConnection, enqueueJob } = require(fromRoot('packages/queue/dist'));
const { commitJob } = require(fromRoot('packages/history/dist'));
const { DEFAULT_HISTORY_IGNORE } = require(fromRoot('packages/config/dist'));

const GIT_ENV = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
};
const git = (dir, ...args) => execFileSync('git', ['-C', dir, ...args], { env: GIT_ENV, stdio: 'pipe' });

/** The tree: `FILES` files of varied sizes (TOTAL_MB in all) in PACKAGES folders under `top`. */
function writeTree(dir, top) {
  const perPackage = Math.ceil(FILES / PACKAGES);
  const avg = Math.floor((TOTAL_MB * 1024 * 1024) / FILES);
  const block = Buffer.alloc(avg * 2);
  for (let i = 0; i < block.length; i++) block[i] = 32 + ((i * 7919) % 90);
  for (let i = 0; i < FILES; i++) {
    const pkg = path.join(dir, top, `pkg${Math.floor(i / perPackage)}`);
    if (i % perPackage === 0) fs.mkdirSync(pkg, { recursive: true });
    // Sizes from 0.5× to 1.5× the average; the first bytes make every file distinct.
    const size = Math.floor(avg / 2 + ((i * 2654435761) % avg));
    const head = Buffer.from(`// file ${i}\n`);
    fs.writeFileSync(path.join(pkg, `m${i}.js`), Buffer.concat([head, block.subarray(0, size)]));
  }
}

const timed = (fn) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

/** The runner's phases, in ms, from a job's log (execute-job.ts, job-commit.ts). */
function phasesOf(log) {
  const before =
    /workspace snapshot: (\d+) files, (\d+) read \((\d+) ms; checked against the history in (\d+) ms\)/.exec(log);
  const after = /workspace snapshot after the run: (\d+) files, (\d+) read \((\d+) ms\)/.exec(log);
  const commit = /history: committed the job's changes as \w+ \((\d+) ms\)/.exec(log);
  if (!before || !after || !commit) throw new Error(`B5: a job's log lacks its timings:\n${log.slice(-2000)}`);
  const p = {
    files: Number(before[1]),
    before_read: Number(before[2]),
    before_ms: Number(before[3]),
    check_ms: Number(before[4]),
    after_read: Number(after[2]),
    after_ms: Number(after[3]),
    commit_ms: Number(commit[1]),
  };
  // How the walks by find went: records it printed, unchanged files taken over unlisted.
  const walks = [...log.matchAll(/find printed (\d+) records, (\d+) unchanged files taken over/g)];
  p.find_records = walks.map((m) => Number(m[1])).join('+') || 'none';
  p.taken_over = walks.map((m) => Number(m[2])).join('+') || 'none';
  p.total_ms = p.before_ms + p.check_ms + p.after_ms + p.commit_ms;
  return p;
}

async function runJob(pg, queue, projectId, type, instruction, workspace) {
  const id = randomUUID();
  await pg.query(
    `INSERT INTO jobs (id, project_id, job_type, instruction, updated_at) VALUES ($1, $2, $3::"JobType", $4, now())`,
    [id, projectId, type, instruction],
  );
  await enqueueJob(queue, { RUNNER_MAX_ATTEMPTS: 3 }, id);
  let row;
  await waitFor(
    `job ${id}`,
    async () => {
      ({
        rows: [row],
      } = await pg.query(
        `SELECT status, commit_sha, extract(epoch from (finished_at - started_at)) * 1000 AS ms FROM jobs WHERE id = $1`,
        [id],
      ));
      return ['completed', 'error', 'cancelled'].includes(row.status);
    },
    10 * 60_000,
  );
  if (row.status !== 'completed') throw new Error(`B5: job ${id} ended ${row.status}`);
  const log = fs.readFileSync(path.join(workspace, '.codex', 'jobs', id, 'job.log'), 'utf8');
  return { id, sha: row.commit_sha, wall_ms: Number(row.ms), ...phasesOf(log) };
}

/** One line: a project whose earlier job left the tree under `top`, ten edits, git beside it. */
async function measureLine(env, pg, queue, top) {
  const projectId = randomUUID();
  const workspace = path.join(env.workspaceRoot, projectId);
  await pg.query(
    `INSERT INTO projects (id, instruction, workspace_path, updated_at) VALUES ($1, 'bench B5', $2, now())`,
    [projectId, workspace],
  );
  const first = await runJob(pg, queue, projectId, 'initial_project', 'a Fibonacci CLI', workspace);

  // The earlier job "installed" the tree: its commit is amended to hold it (as its runner would
  // have committed it), without a stat index, so the runner's first job here reads every file.
  writeTree(workspace, top);
  const amended = await commitJob({
    workspaceRoot: env.workspaceRoot,
    projectId,
    workspace,
    job: { id: first.id, jobType: 'initial_project', instruction: 'a Fibonacci CLI' },
    author: { name: 'bench', email: 'bench@localhost' },
    ignore: DEFAULT_HISTORY_IGNORE,
  });
  await pg.query(`UPDATE jobs SET commit_sha = $2 WHERE id = $1`, [first.id, amended]);

  // git's copy: the same files, committed once; its index is then warm.
  const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-bench-b5-git-'));
  try {
    execFileSync('cp', ['-a', `${workspace}/.`, plain]);
    fs.rmSync(path.join(plain, '.codex'), { recursive: true, force: true });
    git(plain, 'init', '-q', '-b', 'main');
    // The same rules as the runner's: .codex/ is not content, nor (line two) node_modules/.
    fs.writeFileSync(path.join(plain, '.git', 'info', 'exclude'), '/.codex/\nnode_modules/\n');
    const gitFirstMs = timed(() => git(plain, 'add', '-A') && git(plain, 'commit', '-q', '-m', 'first'));
    await sleep(2_100); // past the racy window of both (git's is its index's timestamp)

    const warm = await runJob(pg, queue, projectId, 'edit', 'first edit over the new files', workspace);
    fs.appendFileSync(path.join(plain, 'app.py'), '# Edit: first edit over the new files\n');
    timed(() => git(plain, 'add', '-A') && git(plain, 'commit', '-q', '-m', 'warm'));

    const runner = [];
    const gitMs = [];
    for (let i = 0; i < EDITS; i++) {
      const instruction = `edit number ${i}`;
      runner.push(await runJob(pg, queue, projectId, 'edit', instruction, workspace));
      fs.appendFileSync(path.join(plain, 'app.py'), `# Edit: ${instruction}\n`);
      gitMs.push(
        timed(() =>
          execFileSync('sh', ['-c', `git add -A && git commit -q -m "${instruction}"`], { cwd: plain, env: GIT_ENV }),
        ),
      );
    }
    // The runner's commit and git's hold the same files.
    const ours = execFileSync(
      'git',
      [
        `--git-dir=${path.join(env.workspaceRoot, '.runner', 'history', `${projectId}.git`)}`,
        'rev-parse',
        `${runner.at(-1).sha}^{tree}`,
      ],
      { env: GIT_ENV, encoding: 'utf8' },
    ).trim();
    const theirs = git(plain, 'rev-parse', 'HEAD^{tree}').toString().trim();
    if (ours !== theirs) throw new Error(`B5 (${top}): the runner's tree ${ours} is not git's ${theirs}`);

    const overhead = stats(runner.map((r) => r.total_ms));
    const gitStats = stats(gitMs);
    const perRun = runner.map((r, i) => round(r.total_ms / gitMs[i], 2)).sort((a, b) => a - b);
    const med = (k) => round(stats(runner.map((r) => r[k])).median, 1);
    return {
      ratio: round(overhead.median / gitStats.median, 2),
      runner_overhead_ms: {
        median: round(overhead.median, 1),
        min: round(overhead.min, 1),
        max: round(overhead.max, 1),
      },
      git_ms: { median: round(gitStats.median, 1), min: round(gitStats.min, 1), max: round(gitStats.max, 1) },
      per_edit_ratios: perRun,
      phases_median_ms: {
        before: med('before_ms'),
        check: med('check_ms'),
        after: med('after_ms'),
        commit: med('commit_ms'),
      },
      files_read_per_edit: { before: med('before_read'), after: med('after_read') },
      // The last edit's two walks (before+after).
      find_records_last_edit: runner.at(-1).find_records,
      taken_over_last_edit: runner.at(-1).taken_over,
      snapshot_files: runner[0].files,
      job_wall_ms_median: med('wall_ms'),
      first_job_over_the_files: {
        runner_overhead_ms: warm.total_ms,
        files_read: warm.before_read,
        git_first_commit_ms: round(gitFirstMs, 0),
      },
    };
  } finally {
    // git may still be writing in it (a detached auto gc): retried, as rm -rf would be.
    fs.rmSync(plain, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

module.exports = async function b5() {
  const env = await createBenchEnv('b5');
  const pg = new Client({ connectionString: env.env.DATABASE_URL });
  await pg.connect();
  const queue = new Queue('jobs', { connection: redisConnection(env.env.REDIS_URL), prefix: env.env.QUEUE_PREFIX });
  let runner;
  const load = [os.loadavg()[0]];
  try {
    runner = await startRunner({ ...env.env, USE_DUMMY_WORKER: 'true', RUNNER_CONCURRENCY: '1' });
    const lib = await Promise.race([measureLine(env, pg, queue, 'lib'), runner.died]);
    load.push(os.loadavg()[0]);
    const nodeModules = await Promise.race([measureLine(env, pg, queue, 'node_modules'), runner.died]);
    load.push(os.loadavg()[0]);
    return {
      ratio: lib.ratio,
      node_modules_ratio: nodeModules.ratio,
      target: 'ratio <= 1.5',
      files: FILES,
      mb: TOTAL_MB,
      edits: EDITS,
      load_1min: load.map((l) => round(l, 1)),
      lib,
      node_modules: nodeModules,
    };
  } finally {
    await runner?.stop();
    await queue.close();
    await pg.end();
    await env.dispose();
  }
};
