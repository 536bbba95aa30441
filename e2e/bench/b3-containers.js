// B3: 20 trivial jobs (the dummy agent's initial project) through the Docker executor, beside a
// plain `podman run --rm` (or `docker run --rm`) of the same image, command and limits, on each
// engine of the project's runtime: podman's socket and Debian's Docker Engine
// (scripts/container-runtime.sh starts both; without it, the one engine of DOCKER_HOST).
const fs = require('node:fs');
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { execFileSync, spawnSync } = require('node:child_process');
const { createBenchEnv, stats, round, fromRoot } = require('./lib');

const JOBS = Number(process.env.BENCH_B3_JOBS || 20);

/** DOCKER_HOST and the podman settings, from the environment or from the project's runtime script. */
function containerEnv() {
  if (process.env.DOCKER_HOST) return {};
  const out = execFileSync('bash', [fromRoot('scripts/container-runtime.sh'), '--env'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const env = {};
  for (const m of out.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) env[m[1]] = m[2].replace(/^['"]|['"]$/g, '');
  return env;
}

/** The engines to measure: [{name, host, cli}], each with the CLI of its own plain-run baseline. */
function engines() {
  const found = [];
  const podmanHost = process.env.CWO_PODMAN_HOST;
  const dockerHost = process.env.CWO_DOCKER_ENGINE_HOST;
  if (podmanHost || dockerHost) {
    if (podmanHost) found.push({ name: 'podman', host: podmanHost, cli: 'podman' });
    if (dockerHost) found.push({ name: 'docker', host: dockerHost, cli: 'docker' });
    return found;
  }
  // An engine of the user's own: its baseline is whichever CLI is installed.
  for (const cli of ['docker', 'podman']) {
    if (spawnSync(cli, ['--version']).status === 0) return [{ name: cli, host: process.env.DOCKER_HOST, cli }];
  }
  throw new Error('B3 needs the podman or docker CLI for the baseline');
}

function prepareWorkspace(root, uid, gid) {
  const ws = fs.mkdtempSync(path.join(root, 'ws-'));
  const request = {
    project_id: randomUUID(),
    job_id: randomUUID(),
    job_type: 'initial_project',
    instruction: 'a Fibonacci CLI',
    history: [],
  };
  fs.mkdirSync(path.join(ws, '.codex'), { recursive: true });
  fs.writeFileSync(path.join(ws, '.codex', 'request.json'), JSON.stringify(request));
  for (const p of [ws, path.join(ws, '.codex'), path.join(ws, '.codex', 'request.json')]) fs.chownSync(p, uid, gid);
  return { ws, request };
}

/** B3 on one engine: the executor's runs against the plain CLI's, alternating. */
async function measureEngine(engine, env, config) {
  const { createDockerExecutor } = require(fromRoot('apps/runner/dist/executors/docker'));
  const { createLogger } = require(fromRoot('packages/logger/dist'));
  const { createDb } = require(fromRoot('packages/db/dist'));
  const Docker = require(require.resolve('dockerode', { paths: [fromRoot('apps/runner')] }));
  const { Redis } = require(require.resolve('ioredis', { paths: [fromRoot('apps/runner')] }));
  const docker = new Docker({ socketPath: engine.host.replace(/^unix:\/\//, '') });
  const db = createDb(env.env.DATABASE_URL);
  const redis = new Redis(env.env.REDIS_URL);
  const executor = createDockerExecutor({ config, logger: createLogger({ level: 'error' }), docker });
  const { uid, gid } = config.WORKER_UID;
  const cliEnv = { ...process.env, DOCKER_HOST: engine.host };
  const plainArgs = (ws) => [
    'run',
    '--rm',
    '--network',
    config.WORKER_NETWORK,
    '--memory',
    String(config.WORKER_MEMORY),
    '--memory-swap',
    String(config.WORKER_MEMORY),
    '--cpus',
    String(config.WORKER_CPUS),
    '--pids-limit',
    String(config.WORKER_PIDS),
    '--read-only',
    '--tmpfs',
    '/tmp',
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--user',
    `${uid}:${gid}`,
    '-w',
    '/workspace',
    '-v',
    `${ws}:/workspace:rw`,
    config.CODEX_WORKER_IMAGE,
  ];
  const plainRun = (ws) => execFileSync(engine.cli, plainArgs(ws), { stdio: 'ignore', env: cliEnv });
  const executorMs = [];
  const plainMs = [];
  try {
    await executor.start({ runnerId: `bench-b3-${randomUUID()}`, db, redis });
    // One of each first: image layers and page cache warm for both.
    const warm = prepareWorkspace(env.workspaceRoot, uid, gid);
    await executor.run({
      workspace: warm.ws,
      request: warm.request,
      log: () => {},
      signal: new AbortController().signal,
    });
    plainRun(prepareWorkspace(env.workspaceRoot, uid, gid).ws);
    for (let i = 0; i < JOBS; i++) {
      const a = prepareWorkspace(env.workspaceRoot, uid, gid);
      let t = process.hrtime.bigint();
      await executor.run({ workspace: a.ws, request: a.request, log: () => {}, signal: new AbortController().signal });
      executorMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!fs.existsSync(path.join(a.ws, '.codex', 'result.json')))
        throw new Error(`B3 (${engine.name}): the executor wrote no result.json`);

      const b = prepareWorkspace(env.workspaceRoot, uid, gid);
      t = process.hrtime.bigint();
      plainRun(b.ws);
      plainMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!fs.existsSync(path.join(b.ws, '.codex', 'result.json')))
        throw new Error(`B3 (${engine.name}): ${engine.cli} run wrote no result.json`);
    }
  } finally {
    await executor.close();
    await redis.quit();
    await db.$disconnect();
  }
  const e = stats(executorMs);
  const p = stats(plainMs);
  return {
    ratio: round(e.median / p.median, 3),
    executor_median_ms: round(e.median, 1),
    plain_run_median_ms: round(p.median, 1),
    executor: { p99_ms: round(e.p99, 1), min_ms: round(e.min, 1), max_ms: round(e.max, 1) },
    plain_run: { cli: engine.cli, p99_ms: round(p.p99, 1), min_ms: round(p.min, 1), max_ms: round(p.max, 1) },
  };
}

module.exports = async function b3() {
  Object.assign(process.env, containerEnv());
  const env = await createBenchEnv('b3');
  Object.assign(process.env, {
    DATABASE_URL: env.env.DATABASE_URL,
    REDIS_URL: env.env.REDIS_URL,
    QUEUE_PREFIX: env.env.QUEUE_PREFIX,
  });
  const { loadConfig } = require(fromRoot('packages/config/dist'));
  const config = loadConfig({ ...process.env, USE_DUMMY_WORKER: 'false' });
  try {
    const results = {};
    for (const engine of engines()) results[engine.name] = await measureEngine(engine, env, config);
    // The target holds on every engine: the worst ratio is the figure.
    const worst = Math.max(...Object.values(results).map((r) => r.ratio));
    return { ratio: worst, target: '<= 1.2 on each engine', engines: results, jobs: JOBS };
  } finally {
    await env.dispose();
  }
};
