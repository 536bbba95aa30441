// B1: create-project throughput and latency, 32 connections for 15 s, beside a bare Express route.
const autocannon = require('autocannon');
const { createBenchEnv, startApi, startProcess, freePort, waitFor, round } = require('./lib');

const CONNECTIONS = 32;
const DURATION_S = Number(process.env.BENCH_B1_SECONDS || 15);
const BODY = JSON.stringify({ instruction: 'Generate a minimal Python CLI that prints Fibonacci numbers.' });

function load(url) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        body: BODY,
        headers: { 'content-type': 'application/json' },
        connections: CONNECTIONS,
        duration: DURATION_S,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

function summarise(r) {
  return {
    rps: round(r.requests.average, 1),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    total: r.requests.total,
  };
}

module.exports = async function b1() {
  const env = await createBenchEnv('b1');
  let api;
  let bare;
  try {
    // No runner: this measures the API's answer (write + enqueue), not the work.
    api = await startApi(env.env);
    const barePort = await freePort();
    bare = startProcess('bare', 'e2e/bench/bare-server.js', { ...env.env, PORT: String(barePort) });
    await waitFor('the bare server', async () => (await fetch(`http://127.0.0.1:${barePort}/healthz`)).ok);

    const baseline = summarise(await load(`http://127.0.0.1:${barePort}/bare`));
    const measured = summarise(await load(`${api.base}/api/v1/projects`));
    if (measured.non2xx > 0 || measured.errors > 0) {
      throw new Error(`B1: the API answered ${measured.non2xx} non-2xx and ${measured.errors} errors under load`);
    }
    return {
      ratio: round(measured.rps / baseline.rps, 3),
      target: '>= 0.20',
      api: measured,
      bare_express: baseline,
      connections: CONNECTIONS,
      duration_s: DURATION_S,
    };
  } finally {
    await api?.stop();
    await bare?.stop();
    await env.dispose();
  }
};
