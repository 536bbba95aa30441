// Shared pieces of the benchmarks: a database of their own, the built API and runner as child
// processes, percentiles, RSS sampling. Figures are always printed beside a same-run baseline.
const { spawn, execSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { createTestDatabase, dropTestDatabase, clearRedisPrefix, ROOT } = require('../../test/services');

const fromRoot = (...p) => path.join(ROOT, ...p);
const req = (name) =>
  require(
    require.resolve(name, {
      paths: [__dirname, fromRoot('apps/runner'), fromRoot('apps/api'), fromRoot('packages/db')],
    }),
  );

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A database, Redis prefix and workspace root for one benchmark; cleaned by `dispose`. */
async function createBenchEnv(label) {
  const db = await createTestDatabase(`bench_${label}`);
  const workspaceRoot = fs.mkdtempSync(path.join(os.tmpdir(), `cwo-bench-${label}-`));
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.databaseUrl,
    REDIS_URL: db.redisUrl,
    QUEUE_PREFIX: db.queuePrefix,
    WORKSPACE_ROOT: workspaceRoot,
    AUTH_MODE: 'none',
    // The limits are off (0): the benchmarks measure the pipeline, not the per-tenant limits.
    RATE_LIMIT_CREATE_PER_MINUTE: '0',
    MAX_ACTIVE_JOBS_PER_USER: '0',
  };
  return {
    env,
    db,
    workspaceRoot,
    async dispose() {
      await dropTestDatabase(db.name).catch(() => {});
      await clearRedisPrefix(db.queuePrefix).catch(() => {});
      fs.rmSync(workspaceRoot, { recursive: true, force: true });
    },
  };
}

/** Starts a built entry point as a child process; its output goes to a log file for post-mortems. */
function startProcess(name, entry, env, nodeArgs = []) {
  const logDir = fromRoot('e2e', 'bench', 'results');
  fs.mkdirSync(logDir, { recursive: true });
  const out = fs.openSync(path.join(logDir, `${name}.log`), 'w');
  const child = spawn(process.execPath, [...nodeArgs, fromRoot(entry)], {
    env,
    stdio: ['ignore', out, out],
    cwd: ROOT,
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let stopping = false;
  // A process that dies on its own fails the benchmark at once instead of leaving it waiting.
  const died = exited.then(({ code, signal }) => {
    if (!stopping)
      throw new Error(`${name} exited early (code ${code}, signal ${signal}); see e2e/bench/results/${name}.log`);
  });
  died.catch(() => {});
  return {
    child,
    pid: child.pid,
    died,
    async stop() {
      stopping = true;
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      fs.closeSync(out);
    },
    exited,
  };
}

async function waitFor(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function startApi(env) {
  const port = await freePort();
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const proc = startProcess('api', 'apps/api/dist/main.js', { ...env, PORT: String(port) }, profile);
  const base = `http://127.0.0.1:${port}`;
  await waitFor('the API', async () => (await fetch(`${base}/healthz`)).ok);
  return { ...proc, base, port };
}

async function startRunner(env, name = 'runner') {
  // BENCH_PROFILE_DIR=<dir>: the runner writes a V8 CPU profile there (for finding hot spots).
  const profile = process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const proc = startProcess(name, 'apps/runner/dist/main.js', env, profile);
  return proc;
}

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    median: percentile(s, 50),
    min: s[0],
    max: s[s.length - 1],
  };
}

/** Resident set size of a process in MB, from /proc (Linux). */
function rssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

/** CPU seconds (user + system, every thread) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const round = (x, d = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

module.exports = {
  fromRoot,
  req,
  freePort,
  sleep,
  createBenchEnv,
  startProcess,
  startApi,
  startRunner,
  waitFor,
  stats,
  percentile,
  rssMb,
  cpuSeconds,
  round,
};
