import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkerRequest } from '@cwo/contracts';
import { executeJob } from './execute-job';
import { createDummyExecutor } from './executors/dummy';
import { createHostExecutor, DEFAULT_WORKER_ENTRY } from './executors/host';
import type { JobLog } from './job-log';
import { createProject, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

// The error code of each way a job can end that the other suites do not already show (they
// assert theirs beside the outcome: runner, stopping, infrastructure, disk-full, reconciler and
// docker tests). Every code is decided where the outcome is, not read back from `errors`.

describe('error codes decided by the runner', () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  const scripts = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-error-codes-'));
  afterAll(() => fs.rmSync(scripts, { recursive: true, force: true }));

  /** A worker entrypoint for the host executor: a real process that does only `body`. */
  function workerScript(name: string, body: string): string {
    const file = path.join(scripts, `${name}.js`);
    fs.writeFileSync(file, body);
    return file;
  }

  async function runOne(entry: string, env: Record<string, string> = {}) {
    const config = testConfig({ USE_DUMMY_WORKER: 'false', WORKER_EXECUTOR: 'host', ...env });
    const queue = harness.queue(config);
    await harness.startRunner(config, createHostExecutor({ config, entry, env: { ...process.env, ...env } }));
    const { jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    return waitForJob(db, jobId);
  }

  it('agent_error: the worker process exits non-zero without a result', async () => {
    const job = await runOne(workerScript('exit-1', 'process.exit(1);\n'));
    expect(job).toMatchObject({ status: 'error', errorCode: 'agent_error' });
    expect(job.errors.join(' ')).toMatch(/worker process exited with code 1 without writing a result/);
  });

  it('disk_full: the worker said it had no space for its result, though the disk has room by the time the runner looks', async () => {
    // What the worker says when result.json cannot be written (worker-image/src/worker.ts); the
    // chaos suite's disk fault frees the disk while a container is exiting so.
    const job = await runOne(
      workerScript(
        'enospc',
        "require('fs').writeFileSync(process.env.WORKSPACE_DIR + '/half-written.py', 'x = 1\\n');\n" +
          "process.stderr.write('worker: cannot write the result in /workspace: ENOSPC: no space left on device, write\\n');\n" +
          'process.exit(1);\n',
      ),
    );
    expect(job).toMatchObject({ status: 'error', errorCode: 'disk_full', attempts: 1 });
    expect(job.errors.join(' ')).toMatch(/the workspace disk is full.*cannot write the result.*ENOSPC/);
    // What it wrote is undone, as for any job that failed for lack of space.
    expect(job.createdFiles).toEqual([]);
  });

  it('invalid_result: the worker exits 0 but wrote no result.json, or one that is not JSON', async () => {
    const missing = await runOne(workerScript('no-result', 'process.exit(0);\n'));
    expect(missing).toMatchObject({ status: 'error', errorCode: 'invalid_result' });
    expect(missing.errors).toEqual(['result.json is missing: the agent wrote no .codex/result.json']);

    const garbage = await runOne(
      workerScript(
        'garbage',
        "require('fs').writeFileSync(process.env.WORKSPACE_DIR + '/.codex/result.json', '{not json');\n",
      ),
    );
    expect(garbage).toMatchObject({ status: 'error', errorCode: 'invalid_result' });
  });

  it('configuration: the worker entrypoint is not built', async () => {
    const job = await runOne(path.join(scripts, 'never-built.js'));
    expect(job).toMatchObject({ status: 'error', errorCode: 'configuration' });
    expect(job.errors.join(' ')).toMatch(/the worker entrypoint .* does not exist: build it/);
  });

  it('the code the worker states in result.json: an unknown WORKER_AGENT is configuration', async () => {
    if (!fs.existsSync(DEFAULT_WORKER_ENTRY)) {
      throw new Error(`The host executor runs ${DEFAULT_WORKER_ENTRY}: build it first (\`pnpm build\`).`);
    }
    const job = await runOne(DEFAULT_WORKER_ENTRY, { WORKER_AGENT: 'no-such-agent' });
    expect(job).toMatchObject({ status: 'error', errorCode: 'configuration' });
    expect(job.errors.join(' ')).toMatch(/WORKER_AGENT names no agent of this worker image: "no-such-agent"/);
  });

  it('a code the runner decides is not taken from result.json: a claimed `cancelled` reads as agent_error', async () => {
    const claim = JSON.stringify({ status: 'error', errors: ['it says so'], error_code: 'cancelled' });
    const job = await runOne(
      workerScript(
        'claims-cancelled',
        `require('fs').writeFileSync(process.env.WORKSPACE_DIR + '/.codex/result.json', ${JSON.stringify(claim)});\n`,
      ),
    );
    expect(job).toMatchObject({ status: 'error', errors: ['it says so'], errorCode: 'agent_error' });
  });
});

describe('error codes of executeJob', () => {
  const silent: JobLog = { step() {}, agent() {}, flush() {}, close() {} };

  it('workspace_too_large: the workspace has more entries than the snapshot may hold', async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-too-large-'));
    try {
      const request = WorkerRequest.parse({
        project_id: '00000000-0000-4000-8000-0000000000aa',
        job_id: '00000000-0000-4000-8000-0000000000bb',
        job_type: 'initial_project',
        instruction: 'Build the Fibonacci CLI',
      });
      const { outcome } = await executeJob({
        config: { JOB_TIMEOUT_SECONDS: 30, HISTORY_IGNORE: [] },
        executor: createDummyExecutor(),
        workspace,
        request,
        attempt: 1,
        log: silent,
        controller: new AbortController(),
        // The dummy agent writes three files (and a directory) into an empty workspace.
        maxSnapshotEntries: 2,
      });
      expect(outcome).toMatchObject({ status: 'error', error_code: 'workspace_too_large' });
      expect(outcome.errors).toEqual(['the workspace is too large to check: workspace has more than 2 entries']);
    } finally {
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });
});
