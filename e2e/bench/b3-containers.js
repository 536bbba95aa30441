// B3: 20 trivial jobs (the dummy agent's initial project) through the Docker executor, beside a
// plain `podman run --rm` (or `docker run --rm`) of the same image, command and limits.
// Needs the Docker-API socket (scripts/container-runtime.sh makes one on a machine without Docker).
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

function plainCli() {
  for (const cli of ['podman', 'docker']) if (spawnSync(cli, ['--version']).status === 0) return cli;
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

module.exports = async function b3() {
  Object.assign(process.env, containerEnv());
  const env = await createBenchEnv('b3');
  Object.assign(process.env, {
    DATABASE_URL: env.env.DATABASE_URL,
    REDIS_URL: env.env.REDIS_URL,
    QUEUE_PREFIX: env.env.QUEUE_PREFIX,
  });
  const { loadConfig } = require(fromRoot('packages/config/dist'));
  const { createLogger } = require(fromRoot('packages/logger/dist'));
  const { createDockerExecutor } = require(fromRoot('apps/runner/dist/executors/docker'));
  const config = loadConfig({ ...process.env, USE_DUMMY_WORKER: 'false' });
  const executor = createDockerExecutor({ config, logger: createLogger({ level: 'error' }) });
  const { uid, gid } = config.WORKER_UID;
  const cli = plainCli();
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
  const executorMs = [];
  const plainMs = [];
  try {
    await executor.ready;
    // One of each first: image layers and page cache warm for both.
    const warm = prepareWorkspace(env.workspaceRoot, uid, gid);
    await executor.run({
      workspace: warm.ws,
      request: warm.request,
      log: () => {},
      signal: new AbortController().signal,
    });
    execFileSync(cli, plainArgs(prepareWorkspace(env.workspaceRoot, uid, gid).ws), { stdio: 'ignore' });
    for (let i = 0; i < JOBS; i++) {
      const a = prepareWorkspace(env.workspaceRoot, uid, gid);
      let t = process.hrtime.bigint();
      await executor.run({ workspace: a.ws, request: a.request, log: () => {}, signal: new AbortController().signal });
      executorMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!fs.existsSync(path.join(a.ws, '.codex', 'result.json')))
        throw new Error('B3: the executor wrote no result.json');

      const b = prepareWorkspace(env.workspaceRoot, uid, gid);
      t = process.hrtime.bigint();
      execFileSync(cli, plainArgs(b.ws), { stdio: 'ignore' });
      plainMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!fs.existsSync(path.join(b.ws, '.codex', 'result.json')))
        throw new Error(`B3: ${cli} run wrote no result.json`);
    }
    const e = stats(executorMs);
    const p = stats(plainMs);
    return {
      ratio: round(e.median / p.median, 3),
      target: '<= 1.2',
      executor_median_ms: round(e.median, 1),
      plain_run_median_ms: round(p.median, 1),
      executor: { p99_ms: round(e.p99, 1), min_ms: round(e.min, 1), max_ms: round(e.max, 1) },
      plain_run: { cli, p99_ms: round(p.p99, 1), min_ms: round(p.min, 1), max_ms: round(p.max, 1) },
      jobs: JOBS,
    };
  } finally {
    await executor.close?.();
    await env.dispose();
  }
};
