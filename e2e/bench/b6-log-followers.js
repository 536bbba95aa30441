// B6: 200 clients follow one job's log over SSE while it is written at 2,000 lines a second for
// 20 s, beside a bare Node SSE server tailing a file the same way (bare-sse-server.js), with the
// same clients, in the same run. Checked for every client: every byte of the log, in order
// (event ids are byte offsets and must advance by exactly the bytes received; the bytes must hash
// to the file's), and for the API the `end` event with the final status. Some clients drop
// their connection mid-run and come back with Last-Event-ID; they must miss nothing either.
// Measured: the server's CPU time (utime + stime from /proc) from the first line written to the
// last line received by every client, and each line's delivery latency (received minus the time
// written into it by the writer), over the clients that stay connected.
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
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
const RECONNECT_PAUSE_MS = 300;
const REFUSED_RETRIES = 5;

const { jobLogFile } = require(fromRoot('packages/workspace/dist'));
// The baseline reads the file as often as the API's tails may, so that the ratio measures what
// the API adds (HTTP framework, authentication, database, per-client streams), not read policy.
const { DEFAULT_TAIL_OPTIONS } = require(fromRoot('apps/api/dist/logs/follow-log'));
const { Client } = req('pg');
const now = () => performance.timeOrigin + performance.now();

/** Delivery latencies in 0.1 ms bins (up to 60 s): 8 M lines would not fit in an array cheaply. */
function histogram() {
  const bins = new Uint32Array(600_000);
  let n = 0;
  return {
    add(ms, count = 1) {
      bins[Math.min(bins.length - 1, Math.max(0, Math.floor(ms * 10)))] += count;
      n += count;
    },
    percentile(p) {
      const want = Math.ceil((p / 100) * n);
      let seen = 0;
      for (let i = 0; i < bins.length; i++) {
        seen += bins[i];
        if (seen >= want && want > 0) return i / 10;
      }
      return NaN;
    },
    get n() {
      return n;
    },
  };
}

/** One SSE client: checks that every byte arrives once and in order; records line latencies. */
function follower(url, { latencies, reconnectAt }) {
  const state = {
    offset: 0,
    hash: crypto.createHash('sha1'),
    endStatus: undefined,
    error: undefined,
    reconnects: 0,
    refused: 0,
    connected: false,
    events: 0,
    chunks: 0,
  };
  let request;
  const connect = () => {
    const headers = state.offset > 0 ? { 'Last-Event-ID': String(state.offset) } : {};
    request = http.get(url, { agent: false, headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        // A 503 (the API waited too long for Postgres: 200 clients arriving at once on a busy
        // machine) is retried as a client would; it is counted, and nothing may be missed after it.
        if (res.statusCode === 503 && state.refused < REFUSED_RETRIES) {
          state.refused++;
          setTimeout(connect, RECONNECT_PAUSE_MS);
          return;
        }
        state.error = `status ${res.statusCode}`;
        return;
      }
      state.connected = true;
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk) => {
        const received = now();
        state.chunks++;
        buffer += chunk;
        let from = 0;
        let end;
        while ((end = buffer.indexOf('\n\n', from)) >= 0) {
          onEvent(buffer.slice(from, end), received);
          from = end + 2;
        }
        buffer = buffer.slice(from);
      });
      res.on('error', () => {});
    });
    request.on('error', () => {});
  };
  const onEvent = (block, received) => {
    if (block.startsWith(':') || block.startsWith('retry:')) return;
    if (block.startsWith('event: end\n')) {
      state.endStatus = JSON.parse(block.slice(block.indexOf('data: ') + 6)).status;
      return;
    }
    const idEnd = block.indexOf('\n');
    const id = Number(block.slice(4, idEnd));
    const dataStart = block.indexOf('\n', idEnd + 1) + 1;
    const lines = block.slice(dataStart).split('\n');
    let text = '';
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].slice(6);
      text += line + '\n';
      if (latencies) {
        const t = line.indexOf(' t=');
        latencies.add(received - Number(line.slice(t + 3, line.indexOf(' ', t + 3))));
      }
    }
    if (id - state.offset !== text.length && !state.error) {
      state.error = `event id ${id} after ${state.offset} carried ${text.length} bytes`;
    }
    state.offset = id;
    state.events++;
    state.hash.update(text);
  };
  connect();
  if (reconnectAt !== undefined) {
    setTimeout(() => {
      request.destroy();
      state.connected = false;
      state.reconnects++;
      setTimeout(connect, RECONNECT_PAUSE_MS);
    }, reconnectAt);
  }
  return {
    state,
    close: () => request.destroy(),
  };
}

async function followRound({ url, logFile, serverPid, onWritten }) {
  const latencies = histogram();
  const clients = Array.from({ length: CLIENTS }, (_, i) => {
    const drops = i % RECONNECT_EVERY === RECONNECT_EVERY - 1;
    // Drops spread over the middle of the run, none at the very start or end.
    const reconnectAt = drops ? ((0.25 + (0.5 * i) / CLIENTS) * SECONDS * 1000) | 0 : undefined;
    return { drops, ...follower(url, { latencies: drops ? undefined : latencies, reconnectAt }) };
  });
  await waitFor('every client connected', () => clients.every((c) => c.state.connected), 60_000);
  await sleep(500);

  const cpu0 = cpuSeconds(serverPid);
  const clientCpu0 = process.cpuUsage();
  const t0 = now();
  const mono0 = process.hrtime.bigint() / 1000n;
  const writer = startProcess('b6-writer', 'e2e/bench/b6-log-writer.js', {
    ...process.env,
    LOG_FILE: logFile,
    LINES_PER_S: String(LINES_PER_S),
    SECONDS: String(SECONDS),
  });
  await writer.exited;
  const size = fs.statSync(logFile).size;
  await onWritten?.();
  await waitFor(
    'every client to receive the whole log',
    () => clients.every((c) => c.state.offset >= size || c.state.error),
    60_000,
  );
  const seconds = (now() - t0) / 1000;
  const mono1 = process.hrtime.bigint() / 1000n;
  const cpu = cpuSeconds(serverPid) - cpu0;
  const clientCpu = process.cpuUsage(clientCpu0);
  const expected = crypto.createHash('sha1').update(fs.readFileSync(logFile)).digest('hex');
  const wrong = clients.filter((c) => c.state.error || c.state.hash.copy().digest('hex') !== expected);
  return {
    clients,
    wrong,
    figures: {
      cpu_s: round(cpu, 2),
      cpu_share: round(cpu / seconds, 3),
      seconds: round(seconds, 2),
      bytes: size,
      lines: LINES_PER_S * SECONDS,
      p50_ms: latencies.percentile(50),
      p99_ms: latencies.percentile(99),
      max_ms: latencies.percentile(100),
      client_cpu_s: round((clientCpu.user + clientCpu.system) / 1e6, 2),
      // CLOCK_MONOTONIC in µs, as V8's CPU profiles count time: to cut a profile to this window.
      window_monotonic_us: [Number(mono0), Number(mono1)],
      complete_clients: CLIENTS - wrong.length,
      reconnected_clients: clients.filter((c) => c.state.reconnects > 0).length,
      refused_connections: clients.reduce((n, c) => n + c.state.refused, 0),
      events_per_client: round(clients.reduce((n, c) => n + c.state.events, 0) / CLIENTS, 0),
      reads_per_client: round(clients.reduce((n, c) => n + c.state.chunks, 0) / CLIENTS, 0),
    },
  };
}

function describeWrong(wrong) {
  const c = wrong[0];
  return `${wrong.length} clients did not get the log exactly (first: ${c.state.error ?? `offset ${c.state.offset}, content differs`})`;
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
    for (const c of round_.clients) c.close();
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
  });
  try {
    await waitFor('every client to get the end event', () => round_.clients.every((c) => c.state.endStatus), 15_000);
  } finally {
    for (const c of round_.clients) c.close();
  }
  const badEnd = round_.clients.filter((c) => c.state.endStatus !== 'completed');
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
