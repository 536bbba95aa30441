#!/usr/bin/env node
// `pnpm bench [B1 B2 B3 B4 B5 B6 B7]`: runs the benchmarks (all by default), prints a table and writes
// e2e/bench/results/bench-<time>.json and latest.json. Every figure stands beside a baseline
// measured in the same run; the ratio is what counts on a noisy machine.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const BENCHES = {
  B1: { title: 'API create-project vs bare Express', run: () => require('./b1-api')() },
  B2: { title: 'Pipeline (2,000 dummy jobs) vs minimal BullMQ+Postgres loop', run: () => require('./b2-pipeline')() },
  B3: { title: 'Docker executor vs plain `run` of the same image', run: () => require('./b3-containers')() },
  B4: { title: 'Files: list vs find; RSS while serving 200 MB raw', run: () => require('./b4-files')() },
  B5: {
    title: 'Ten one-line edits on a 20,000-file workspace vs git add -A && git commit',
    run: () => require('./b5-large-workspace')(),
  },
  B6: { title: '200 SSE followers of one log vs a bare Node SSE server', run: () => require('./b6-log-followers')() },
  B7: {
    title: 'Web app in headless Chromium: projects page bytes, 20,000-file tree, 50,000 live log lines',
    run: () => require('./b7-web')(),
  },
};

function machine() {
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

function headline(name, r) {
  switch (name) {
    case 'B1':
      return `ratio ${r.ratio} (api ${r.api.rps} req/s p50 ${r.api.p50_ms} ms p99 ${r.api.p99_ms} ms; bare ${r.bare_express.rps} req/s)`;
    case 'B2':
      return `ratio ${r.ratio_with_files} against the loop with the protocol's files (runner ${r.runners.map((x) => x.drain.jobs_per_s).join(', ')} jobs/s; loop with files ${r.loop_with_files.parts.map((x) => x.drain.jobs_per_s).join(', ')} jobs/s, in the order loop, runner, runner, loop; each runner against the loop beside it ${r.pair_ratios.join(', ')}); ${r.ratio} against the minimal loop (${r.minimal_loop.drain.jobs_per_s} jobs/s); idle p50 ${r.p50_ms} ms p99 ${r.p99_ms} ms (minimal loop p50 ${r.minimal_loop.p50_ms} ms); CPU per job: runner ${r.cpu_ms_per_job} ms, loop with files ${r.loop_with_files.cpu_ms_per_job} ms, minimal loop ${r.minimal_loop.drain.cpu_ms_per_job} ms`;
    case 'B3':
      return `ratio ${r.ratio}: ${Object.entries(r.engines)
        .map(
          ([engine, e]) =>
            `${engine} ${e.ratio} (executor median ${e.executor_median_ms} ms, plain ${e.plain_run.cli} run median ${e.plain_run_median_ms} ms)`,
        )
        .join('; ')}`;
    case 'B4':
      return `list_ratio ${r.list_ratio} (api ${r.list_api_ms} ms, find ${r.list_find_ms} ms); settled ${r.settled_list_ratio} (api ${r.settled_api_ms} ms); rss_growth_mb ${r.rss_growth_mb}`;
    case 'B5':
      return `ratio ${r.ratio} lib/ (runner ${r.lib.runner_overhead_ms.median} ms [${r.lib.runner_overhead_ms.min}–${r.lib.runner_overhead_ms.max}] per edit, git ${r.lib.git_ms.median} ms [${r.lib.git_ms.min}–${r.lib.git_ms.max}]; per edit ${r.lib.per_edit_ratios[0]}–${r.lib.per_edit_ratios.at(-1)}); node_modules/ ${r.node_modules_ratio} (runner ${r.node_modules.runner_overhead_ms.median} ms, git ${r.node_modules.git_ms.median} ms); load ${r.load_1min.join('/')}`;
    case 'B6':
      return `cpu_ratio ${r.cpu_ratio} (api ${r.api.cpu_s} s, bare ${r.bare_sse.cpu_s} s of CPU; all ratios ${r.cpu_ratios.join(', ')}); delivery p50 ${r.api.p50_ms} ms p99 ${r.api.p99_ms} ms (bare p99 ${r.bare_sse.p99_ms} ms); the probe client alone in its process p99 ${r.api.probe_p99_ms} ms (bare ${r.bare_sse.probe_p99_ms} ms); client event-loop delay p99 ${r.api.client_loop_delay_p99_ms} ms; fs.watch wake-up p99 ${r.api.watch_wakeup_ms.p99} ms; ${r.api.complete_clients}/${r.clients} clients complete, ${r.api.reconnected_clients} resumed with Last-Event-ID`;
    case 'B7': {
      const range = (x) => `${x.median} ms [${x.min}–${x.max}]`;
      const met = (ok) => (ok ? 'met' : 'MISSED');
      return `projects page ${r.bundle_kb} KB gzipped JS+CSS (budget 150: ${met(r.met.bundle)}); project page before a file is opened ${r.project_page_kb} KB, opening one adds ${r.file_opened_kb} KB; tree of ${r.files} files shown ${range(r.tree_shown_ms)} (of which the API's listing ${range(r.tree_listing_answer_ms)}, the app after it ${range(r.tree_app_after_listing_ms)}), 1,000-entry folder opened ${range(r.tree_expand_ms)} (budget 1000 ms: ${met(r.met.tree)}); ${r.log_lines} live log lines: longest task ${range(r.log_longest_task_ms)} (budget 200 ms: ${met(r.met.log)}); load ${r.load_1min.join('/')}`;
    }
    default:
      return JSON.stringify(r);
  }
}

async function main() {
  const wanted = process.argv.slice(2).map((a) => a.toUpperCase());
  const unknown = wanted.filter((w) => !BENCHES[w]);
  if (unknown.length) {
    console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  const names = wanted.length ? wanted : Object.keys(BENCHES);
  const results = { machine: machine() };
  let failed = false;
  for (const name of names) {
    process.stdout.write(`${name} ${BENCHES[name].title} ...\n`);
    try {
      results[name] = await BENCHES[name].run();
      process.stdout.write(`${name} ${headline(name, results[name])}\n`);
    } catch (err) {
      failed = true;
      results[name] = {
        error: String(err && err.stack ? err.stack : err),
        cause: err && err.cause ? String(err.cause.stack ?? err.cause) : undefined,
      };
      process.stdout.write(
        `${name} FAILED: ${err && err.message ? err.message : err}${err && err.cause ? ` (${err.cause.message ?? err.cause})` : ''}\n`,
      );
    }
  }
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(results, null, 2);
  const file = path.join(dir, `bench-${results.machine.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, json);
  fs.writeFileSync(path.join(dir, 'latest.json'), json);

  console.log('\n| bench | figure | target |\n| --- | --- | --- |');
  for (const name of names) {
    const r = results[name];
    console.log(`| ${name} | ${r.error ? 'FAILED' : headline(name, r)} | ${r.target ?? ''} |`);
  }
  console.log(
    `\nmachine: ${results.machine.cpus} × ${results.machine.cpu_model}, ${results.machine.memory_gb} GiB, node ${results.machine.node}`,
  );
  console.log(`results: ${path.relative(process.cwd(), file)}`);
  process.exit(failed ? 1 : 0);
}

main();
