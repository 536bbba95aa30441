// B6: 200 clients follow one job's log over SSE while it is written at 2,000 lines a second for
// 20 s, beside a bare Node SSE server tailing a file the same way (bare-sse-server.js), with the
// same clients, in the same run. Checked for every client: every byte of the log, in order
// (event ids are byte offsets and must advance by exactly the bytes received; the bytes must hash
// to the file's), and for the API the `end` event with the final status. Some clients drop
// their connection mid-run and come back with Last-Event-ID; they must miss nothing either.
// Measured: the server's CPU time (utime + stime from /proc) from the first line written to the
// last line received by every client, and each line's delivery latency (received minus the time
// written into it by the writer), over the clients that stay connected. The clients run in
// processes of their own (b6-clients.js), apart from this one, and client 0 alone in one more:
// its latency is the server's and the kernel's without the other clients' parsing in front.
const { fork } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const {
  createBenchEnv,
  startApi,
  startProcess,
  freePort,
  waitFor,
  round,
  sleep,
  req,
  fromRoot,
  cpuSeconds,
} = require('./lib');

const CLIENTS = Number(process.env.BENCH_B6_CLIENTS || 200);
const LINES_PER_S = Number(process.env.BENCH_B6_LINES_PER_S || 2000);
const SECONDS = Number(process.env.BENCH_B6_SECONDS || 20);
const ROUNDS = Number(process.env.BENCH_B6_ROUNDS || 1);
/** Every n-th client drops its connection once during the run and resumes with Last-Event-ID. */
const RECONNECT_EVERY = 20;
/** Processes the clients (but the probe) are spread over. */
const CLIENT_PROCS = Number(process.env.BENCH_B6_CLIENT_PROCS || 2);

const { jobLogFile } = require(fromRoot('packages/workspace/dist'));
// The baseline reads the file as often as the API's tails may, so that the ratio measures what
// the API adds (HTTP framework, authentication, database, per-client streams), not read policy.
const { DEFAULT_TAIL_OPTIONS } = require(fromRoot('apps/api/dist/logs/follow-log'));
const { Client } = req('pg');
const now = () => performance.timeOrigin + performance.now();

/** Delivery latencies in 0.1 ms bins, merged from the client processes' [bin, count] pairs. */
function histogram() {
  const bins = new Map();
  let n = 0;
  return {
    merge(pairs) {
      for (const [bin, count] of pairs) {
        bins.set(bin, (bins.get(bin) ?? 0) + count);
        n += count;
      }
    },
    percentile(p) {
      const want = Math.ceil((p / 100) * n);
      let seen = 0;
      for (const bin of [...bins.keys()].sort((a, b) => a - b)) {
        seen += bins.get(bin);
        if (seen >= want && want > 0) return bin / 10;
      }
      return NaN;
    },
    get n() {
      return n;
    },
  };
}

/** A forked b6-clients.js: `ask` sends a message and resolves with its answer. */
function clientProcess() {
  const child = fork(path.join(__dirname, 'b6-clients.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    ask(msg, answer) {
      return new Promise((resolve, reject) => {
        const onMessage = (m) => {
          if (m.type !== answer) return;
          child.off('message', onMessage);
          resolve(m);
        };
        child.on('message', onMessage);
        exited.then((code) => reject(new Error(`a B6 client process exited (${code}) before answering ${msg.type}`)));
        child.send(msg);
      });
    },
    tell: (msg) => child.send(msg),
    stop: () => {
      if (child.exitCode === null) child.kill();
    },
  };
}

/**
 * The clients in CLIENT_PROCS processes, and client 0 alone in one more (the probe). Every n-th
 * client drops its connection once, mid-run, and resumes with Last-Event-ID; latencies are those
 * of the clients that stay connected.
 */
async function followRound({ url, logFile, serverPid, onWritten, waitEnd }) {
  const specs = Array.from({ length: CLIENTS }, (_, index) => {
    const drops = index % RECONNECT_EVERY === RECONNECT_EVERY - 1;
    // Drops spread over the middle of the run, none at the very start or end.
    const reconnectAt = drops ? ((0.25 + (0.5 * index) / CLIENTS) * SECONDS * 1000) | 0 : undefined;
    return { index, measure: !drops, reconnectAt };
  });
  const groups = [
    [specs[0]],
    ...Array.from({ length: CLIENT_PROCS }, (_, p) => specs.filter((s) => s.index > 0 && s.index % CLIENT_PROCS === p)),
  ];
  const procs = groups.map(() => clientProcess());
  const watchProbe = fork(path.join(__dirname, 'b6-watch-probe.js'), [], {
    env: { ...process.env, LOG_FILE: logFile },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await Promise.all(procs.map((p, i) => p.ask({ type: 'follow', url, clients: groups[i] }, 'connected')));
    await sleep(500);

    const cpu0 = cpuSeconds(serverPid);
    const t0 = now();
    const mono0 = process.hrtime.bigint() / 1000n;
    for (const p of procs) p.tell({ type: 'start', t0 });
    const writer = startProcess('b6-writer', 'e2e/bench/b6-log-writer.js', {
      ...process.env,
      LOG_FILE: logFile,
      LINES_PER_S: String(LINES_PER_S),
      SECONDS: String(SECONDS),
    });
    await writer.exited;
    const size = fs.statSync(logFile).size;
    await onWritten?.();
    const whole = await Promise.all(procs.map((p) => p.ask({ type: 'whole', size }, 'whole')));
    const seconds = (now() - t0) / 1000;
    const mono1 = process.hrtime.bigint() / 1000n;
    const cpu = cpuSeconds(serverPid) - cpu0;
    const reports = await Promise.all(procs.map((p) => p.ask({ type: 'report', waitEnd }, 'report')));
    const wakeups = await new Promise((resolve) => {
      watchProbe.once('message', resolve);
      watchProbe.send({ type: 'report' });
    });

    const all = histogram();
    const probe = histogram();
    reports.forEach((r, i) => (i === 0 ? probe : all).merge(r.latencies));
    all.merge(reports[0].latencies);
    const clients = reports.flatMap((r) => r.clients);
    const expected = crypto.createHash('sha1').update(fs.readFileSync(logFile)).digest('hex');
    const wrong = clients.filter((c) => c.error || c.offset !== size || c.sha1 !== expected);
    const loop = whole.slice(1).map((w) => w.loop_delay_ms);
    const worst = clients
      .filter((c) => c.worst_ms > 0)
      .map((c) => c.worst_ms)
      .sort((a, b) => a - b);
    const secondsOf = (rs) =>
      rs[0].worst_by_second
        .slice(0, SECONDS + 1)
        .map((_, i) => round(Math.max(...rs.map((r) => r.worst_by_second[i])), 0));
    return {
      clients,
      wrong,
      figures: {
        cpu_s: round(cpu, 2),
        cpu_share: round(cpu / seconds, 3),
        seconds: round(seconds, 2),
        bytes: size,
        lines: LINES_PER_S * SECONDS,
        p50_ms: all.percentile(50),
        p99_ms: all.percentile(99),
        max_ms: all.percentile(100),
        // Client 0 alone in its process: the server and the kernel without the other clients' parsing.
        probe_p50_ms: probe.percentile(50),
        probe_p99_ms: probe.percentile(99),
        probe_max_ms: probe.percentile(100),
        // Writer → file → an idle process's fs.watch wake-up: the newest line's age when it woke.
        watch_wakeup_ms: {
          p50: round(wakeups.p50_ms, 1),
          p99: round(wakeups.p99_ms, 1),
          max: round(wakeups.max_ms, 1),
          wakeups: wakeups.wakeups,
        },
        // How late the client processes' event loops ran (what a line waits in a busy client).
        client_loop_delay_p99_ms: round(Math.max(...loop.map((l) => l.p99)), 1),
        client_loop_delay_max_ms: round(Math.max(...loop.map((l) => l.max)), 1),
        // Each client's longest delivery, across the clients: one slow client, or all of them.
        client_worst_ms: {
          p50: round(worst[Math.floor(worst.length / 2)], 0),
          p90: round(worst[Math.floor(worst.length * 0.9)], 0),
          max: round(worst.at(-1), 0),
        },
        // The longest delivery of the lines written in each second, over the clients, and the probe's.
        worst_by_second_ms: secondsOf(reports.slice(1)),
        probe_worst_by_second_ms: secondsOf(reports.slice(0, 1)),
        client_cpu_s: round(
          whole.reduce((n, w) => n + w.cpu_s, 0),
          2,
        ),
        client_processes: CLIENT_PROCS,
        // CLOCK_MONOTONIC in µs, as V8's CPU profiles count time: to cut a profile to this window.
        window_monotonic_us: [Number(mono0), Number(mono1)],
        complete_clients: CLIENTS - wrong.length,
        reconnected_clients: clients.filter((c) => c.reconnects > 0).length,
        refused_connections: clients.reduce((n, c) => n + c.refused, 0),
        events_per_client: round(clients.reduce((n, c) => n + c.events, 0) / CLIENTS, 0),
        reads_per_client: round(clients.reduce((n, c) => n + c.chunks, 0) / CLIENTS, 0),
      },
    };
  } finally {
    for (const p of procs) p.stop();
    if (watchProbe.exitCode === null) watchProbe.kill();
  }
}

function describeWrong(wrong) {
  const c = wrong[0];
  return `${wrong.length} clients did not get the log exactly (first: ${c.error ?? `offset ${c.offset}, content differs`})`;
}

async function measureBare(dir) {
  const logFile = path.join(dir, `bare-${Date.now()}.log`);
  fs.writeFileSync(logFile, '');
  const port = await freePort();
  const server = startProcess(
    'bare-sse',
    'e2e/bench/bare-sse-server.js',
    {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      LOG_FILE: logFile,
      MIN_INTERVAL_MS: String(DEFAULT_TAIL_OPTIONS.minReadIntervalMs),
    },
    process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [],
  );
  try {
    await waitFor('the bare SSE server', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok);
    const round_ = await followRound({ url: `http://127.0.0.1:${port}/follow`, logFile, serverPid: server.pid });
    if (round_.wrong.length) throw new Error(`B6 baseline: ${describeWrong(round_.wrong)}`);
    return round_.figures;
  } finally {
    await server.stop();
  }
}

async function measureApi(env, api, pg) {
  const created = await (
    await fetch(`${api.base}/api/v1/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instruction: 'benchmark log followers' }),
    })
  ).json();
  const jobId = created.job.id;
  await pg.query(`UPDATE jobs SET status = 'in_progress', started_at = now() WHERE id = $1`, [jobId]);
  const logFile = jobLogFile(created.workspace_path, jobId);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, '');
  const round_ = await followRound({
    url: `${api.base}/api/v1/projects/${created.id}/jobs/${jobId}/logs?follow=1`,
    logFile,
    serverPid: api.pid,
    // What the runner does once the last line is on disk.
    onWritten: () => pg.query(`UPDATE jobs SET status = 'completed', finished_at = now() WHERE id = $1`, [jobId]),
    waitEnd: true,
  });
  const badEnd = round_.clients.filter((c) => c.endStatus !== 'completed');
  if (round_.wrong.length) throw new Error(`B6: ${describeWrong(round_.wrong)}`);
  if (badEnd.length) throw new Error(`B6: ${badEnd.length} clients did not end with status completed`);
  return round_.figures;
}

module.exports = async function b6() {
  const env = await createBenchEnv('b6');
  const pg = new Client({ connectionString: env.env.DATABASE_URL });
  await pg.connect();
  let api;
  try {
    api = await startApi(env.env);
    const rounds = [];
    // Alternating, so that the machine's noise hits both alike.
    for (let i = 0; i < ROUNDS; i++) {
      const bare = await measureBare(env.workspaceRoot);
      const measured = await Promise.race([measureApi(env, api, pg), api.died]);
      rounds.push({ ratio: round(measured.cpu_s / bare.cpu_s, 3), api: measured, bare_sse: bare });
    }
    const ratios = rounds.map((r) => r.ratio).sort((a, b) => a - b);
    const last = rounds[rounds.length - 1];
    return {
      cpu_ratio: ratios[Math.floor((ratios.length - 1) / 2)],
      cpu_ratios: rounds.map((r) => r.ratio),
      p99_ms: Math.max(...rounds.map((r) => r.api.p99_ms)),
      target: 'cpu_ratio <= 1.5, p99_ms <= 100, every client every line in order',
      api: last.api,
      bare_sse: last.bare_sse,
      rounds,
      clients: CLIENTS,
      lines_per_s: LINES_PER_S,
      seconds: SECONDS,
    };
  } finally {
    await api?.stop();
    await pg.end();
    await env.dispose();
  }
};
