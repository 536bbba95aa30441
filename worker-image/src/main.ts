import { runWorker } from './worker';

// The worker container's entrypoint. Progress goes to stdout (the runner streams it into the job
// log); only a failure to write result.json makes the exit code non-zero.

const controller = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    process.stdout.write(`worker: received ${signal}, stopping the agent\n`);
    controller.abort();
    // The agent gets a moment to return what it has; then the process ends regardless.
    setTimeout(() => process.exit(143), 10_000).unref();
  });
}

runWorker({
  workspace: process.env.WORKSPACE_DIR || '/workspace',
  env: process.env,
  log: (line) => process.stdout.write(`${line}\n`),
  fail: (line) => process.stderr.write(`${line}\n`),
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `worker: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
