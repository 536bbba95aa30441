// B4: listing a 20,000-file workspace through the API beside `find`, and the API's memory while
// it serves a 200 MB file raw.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { createBenchEnv, startApi, stats, round, rssMb, sleep } = require('./lib');

const FILES = Number(process.env.BENCH_B4_FILES || 20_000);
const BIG_MB = Number(process.env.BENCH_B4_BIG_MB || 200);
const RUNS = 5;

/** B4's workspace: n small files, `perDir` to a folder, under `src/d<k>/` (B7 builds it too). */
function fillWorkspace(dir, n, { perDir = 100, under = 'src' } = {}) {
  for (let i = 0; i < n; i++) {
    const sub = path.join(dir, under, `d${Math.floor(i / perDir)}`);
    if (i % perDir === 0) fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `f${i}.txt`), `file ${i}\n`);
  }
}

function writeBigFile(file, mb) {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const fd = fs.openSync(file, 'w');
  for (let i = 0; i < mb; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

async function timeMs(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

module.exports = async function b4() {
  const env = await createBenchEnv('b4');
  let api;
  try {
    api = await startApi(env.env);
    const created = await (
      await fetch(`${api.base}/api/v1/projects`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instruction: 'benchmark workspace' }),
      })
    ).json();
    const ws = created.workspace_path;
    fs.mkdirSync(ws, { recursive: true });
    fillWorkspace(ws, FILES);

    // Warm both (page cache, JIT), then alternate so noise hits both alike.
    // Timed to the last byte of the answer, like find's output; parsed once, outside the timing.
    const listUrl = `${api.base}/api/v1/projects/${created.id}/files`;
    const listViaApi = async () => (await fetch(listUrl)).arrayBuffer();
    const listed = JSON.parse(Buffer.from(await listViaApi()).toString()).files.length;
    const listViaFind = () => execFileSync('find', [ws, '-type', 'f', '-printf', '%P %s\n'], { maxBuffer: 64 << 20 });
    listViaFind();
    const apiTimes = [];
    const findTimes = [];
    for (let i = 0; i < RUNS; i++) {
      apiTimes.push(await timeMs(listViaApi));
      findTimes.push(await timeMs(async () => listViaFind()));
    }
    if (listed < FILES) throw new Error(`B4: the API listed ${listed} files, expected at least ${FILES}`);
    const apiList = stats(apiTimes);
    const findList = stats(findTimes);

    // The same once the tree is older than the timestamps' coarseness (a workspace between jobs,
    // the web app listing it again): after one more listing, find prints only the directories.
    await sleep(2_100);
    await listViaApi();
    const settledApi = [];
    const settledFind = [];
    for (let i = 0; i < RUNS; i++) {
      settledApi.push(await timeMs(listViaApi));
      settledFind.push(await timeMs(async () => listViaFind()));
    }

    const big = path.join(ws, 'big.bin');
    writeBigFile(big, BIG_MB);
    await sleep(200);
    const rssBefore = rssMb(api.pid);
    let peak = rssBefore;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssMb(api.pid));
      } catch {
        /* process gone */
      }
    }, 10);
    let bytes = 0;
    const t0 = Date.now();
    const res = await fetch(`${api.base}/api/v1/projects/${created.id}/files/big.bin?raw=1`);
    for await (const chunk of res.body) bytes += chunk.length;
    const seconds = (Date.now() - t0) / 1000;
    clearInterval(sampler);
    if (bytes !== BIG_MB * 1024 * 1024) throw new Error(`B4: read ${bytes} bytes of ${BIG_MB} MB`);

    return {
      list_ratio: round(apiList.median / findList.median, 3),
      settled_list_ratio: round(stats(settledApi).median / stats(settledFind).median, 3),
      settled_api_ms: round(stats(settledApi).median, 1),
      rss_growth_mb: round(peak - rssBefore, 1),
      target: 'list_ratio <= 1.5, rss_growth_mb < 32',
      list_api_ms: round(apiList.median, 1),
      list_find_ms: round(findList.median, 1),
      files: listed,
      raw_read: {
        mb: BIG_MB,
        seconds: round(seconds, 2),
        mb_per_s: round(BIG_MB / seconds, 1),
        rss_before_mb: round(rssBefore, 1),
        rss_peak_mb: round(peak, 1),
      },
    };
  } finally {
    await api?.stop();
    await env.dispose();
  }
};

module.exports.fillWorkspace = fillWorkspace;
