// B6's SSE clients, run as child processes of b6-log-followers.js (forked, told what to do over
// IPC) so that parsing 200 streams does not share an event loop with the benchmark's driver, and
// so that one client can sit alone in a process of its own (the probe: what a client whose event
// loop is idle sees). Each client checks that every byte of the log arrives once and in order
// (event ids are byte offsets and must advance by exactly the bytes received; the bytes must hash
// to the file's) and records each line's delivery latency (received minus the time the writer
// stamped into it). The parser works on the received Buffers: no strings per line, one hash
// update per event.
const crypto = require('node:crypto');
const http = require('node:http');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

const RECONNECT_PAUSE_MS = 300;
const REFUSED_RETRIES = 5;
const now = () => performance.timeOrigin + performance.now();

/** Delivery latencies in 0.1 ms bins (up to 60 s); sent to the parent as [bin, count] pairs. */
const bins = new Uint32Array(600_000);
const addLatency = (ms) => bins[Math.min(bins.length - 1, Math.max(0, Math.floor(ms * 10)))]++;
/** The longest delivery of the lines written in each second of the run (a stall of the server shows in every client). */
const worstBySecond = new Float64Array(120);
let runStart = 0;

/** The writer's stamp in a line (`… t=<ms since the epoch>.<µs> …`) from `pos`, or NaN. */
function stampIn(buf, pos, end) {
  for (; pos < end - 2; pos++) if (buf[pos] === 0x74 && buf[pos + 1] === 0x3d && buf[pos - 1] === 0x20) break;
  if (pos >= end - 2) return NaN;
  let value = 0;
  let scale = 0;
  for (pos += 2; pos < end; pos++) {
    const c = buf[pos];
    if (c === 0x2e) scale = 1;
    else if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      if (scale) scale *= 10;
    } else break;
  }
  return scale ? value / scale : value;
}

function follower(url, { measure, reconnectAt }) {
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
    worst: 0,
  };
  let request;
  /** One event: the bytes [start, end) of `buf`, its last line's newline included. */
  const onEvent = (buf, start, end, received) => {
    const first = buf[start];
    if (first === 0x3a || first === 0x72) return; // a comment (keep-alive), or `retry:`
    if (first === 0x65) {
      // `event: end` (log events start with their id)
      const text = buf.toString('utf8', start, end);
      state.endStatus = JSON.parse(text.slice(text.indexOf('data: ') + 6)).status;
      return;
    }
    let pos = start + 4; // after `id: `
    let id = 0;
    for (; buf[pos] !== 0x0a; pos++) id = id * 10 + (buf[pos] - 0x30);
    pos = buf.indexOf(0x0a, pos + 1) + 1; // after `event: log`
    // The data lines' contents moved together over their `data: ` prefixes, then hashed at once.
    let write = start;
    while (pos < end) {
      const nl = buf.indexOf(0x0a, pos);
      if (measure) {
        const written = stampIn(buf, pos + 6, nl);
        const ms = received - written;
        addLatency(ms);
        if (ms > state.worst) state.worst = ms;
        const second = Math.min(119, Math.max(0, Math.floor((written - runStart) / 1000)));
        if (ms > worstBySecond[second]) worstBySecond[second] = ms;
      }
      buf.copyWithin(write, pos + 6, nl + 1);
      write += nl + 1 - pos - 6;
      pos = nl + 1;
    }
    const bytes = write - start;
    if (id - state.offset !== bytes && !state.error) {
      state.error = `event id ${id} after ${state.offset} carried ${bytes} bytes`;
    }
    state.offset = id;
    state.events++;
    state.hash.update(buf.subarray(start, write));
  };
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
      let pending = null;
      res.on('data', (chunk) => {
        const received = now();
        state.chunks++;
        const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
        let from = 0;
        for (let end; (end = buf.indexOf('\n\n', from)) >= 0; from = end + 2) onEvent(buf, from, end + 1, received);
        pending = from < buf.length ? Buffer.from(buf.subarray(from)) : null;
      });
      res.on('error', () => {});
    });
    request.on('error', () => {});
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
  return { state, close: () => request.destroy() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(20);
}

let clients = [];
let cpu0;
const loopDelay = monitorEventLoopDelay({ resolution: 5 });

process.on('message', async (msg) => {
  if (msg.type === 'follow') {
    clients = msg.clients.map((c) => ({ index: c.index, ...follower(msg.url, c) }));
    await until(() => clients.every((c) => c.state.connected || c.state.error), 60_000);
    process.send({ type: 'connected' });
  } else if (msg.type === 'start') {
    cpu0 = process.cpuUsage();
    runStart = msg.t0;
    bins.fill(0);
    worstBySecond.fill(0);
    loopDelay.reset();
    loopDelay.enable();
  } else if (msg.type === 'whole') {
    await until(() => clients.every((c) => c.state.offset >= msg.size || c.state.error), 60_000);
    const cpu = process.cpuUsage(cpu0);
    loopDelay.disable();
    process.send({
      type: 'whole',
      cpu_s: (cpu.user + cpu.system) / 1e6,
      loop_delay_ms: {
        p50: loopDelay.percentile(50) / 1e6,
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      },
    });
  } else if (msg.type === 'report') {
    if (msg.waitEnd) await until(() => clients.every((c) => c.state.endStatus || c.state.error), 15_000);
    for (const c of clients) c.close();
    const latencies = [];
    for (let i = 0; i < bins.length; i++) if (bins[i]) latencies.push([i, bins[i]]);
    process.send({
      type: 'report',
      latencies,
      worst_by_second: [...worstBySecond],
      clients: clients.map(({ index, state }) => ({
        index,
        offset: state.offset,
        sha1: state.hash.digest('hex'),
        endStatus: state.endStatus,
        error: state.error,
        reconnects: state.reconnects,
        refused: state.refused,
        events: state.events,
        chunks: state.chunks,
        worst_ms: state.worst,
      })),
    });
    // The parent ends this process once it has the report.
  }
});
