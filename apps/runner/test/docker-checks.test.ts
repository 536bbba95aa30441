import { toJobDetail } from '@cwo/jobs';
import type { CheckSpec } from '@cwo/contracts';
import { createDockerExecutor } from '../src/executors/docker';
import {
  createProject,
  quietLogger,
  readJobLog,
  testConfig,
  useRunnerHarness,
  waitForJob,
} from '../src/__tests__/helpers';
import { ENGINE, requireDockerApi, TEST_ENV } from './docker-helpers';

// Checks through the docker executor: the worker runs them in the agent's container, so they get
// its image (python3, pytest, git), its user, its read-only root and its network (none here).

const CONTAINER_WAIT_MS = 120_000;
jest.setTimeout(300_000);

describe(`checks in the worker container (${ENGINE})`, () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  const config = testConfig({ USE_DUMMY_WORKER: 'false', WORKER_ENV_PASSTHROUGH: 'WORKER_TEST_AGENTS' });
  const queue = harness.queue(config);

  beforeAll(async () => {
    await requireDockerApi(config.CODEX_WORKER_IMAGE);
    const logger = quietLogger();
    const executor = createDockerExecutor({ config, logger, env: { ...process.env, ...TEST_ENV } });
    await harness.startRunner(config, executor, { logger });
  });

  async function runWith(checks: CheckSpec[], fixAttempts = 0) {
    const { projectId, jobId } = await createProject(db, config);
    await db.job.update({ where: { id: jobId }, data: { checks, fixAttempts } });
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId, CONTAINER_WAIT_MS);
    return { job, detail: toJobDetail(job), log: await readJobLog(config, projectId, jobId) };
  }

  it('the dummy agent’s project passes its pytest check, run in the container (its user, read-only root, no network)', async () => {
    const { job, detail, log } = await runWith([
      { name: 'tests', run: 'python3 -m pytest -q' },
      {
        name: 'sandbox',
        run: [
          'echo "uid=$(id -u) git=$(git --version | cut -d" " -f3) node=$(node --version)"',
          'test "$(id -u)" = "1000"',
          'test -f /opt/cwo-worker/dist/main.js',
          '! touch /outside 2>/dev/null',
          '! python3 -c "import socket; socket.create_connection((\'1.1.1.1\', 53), 3)" 2>/dev/null',
          'echo sealed',
        ].join(' && '),
      },
    ]);
    expect(job).toMatchObject({ status: 'completed', errorCode: null, errors: [] });
    expect(job.createdFiles).toEqual(['README.md', 'app.py', 'tests/test_cli.py']);
    const [tests, sandbox] = detail.check_results!.rounds[0]!.results;
    expect(tests).toMatchObject({ passed: true, exit_code: 0 });
    expect(tests!.output).toMatch(/2 passed/);
    expect(sandbox).toMatchObject({ passed: true, exit_code: 0 });
    expect(sandbox!.output).toMatch(/^uid=1000 git=2\.\d+\.\d+ node=v\d+/);
    expect(sandbox!.output).toMatch(/sealed\n$/);
    expect(log).toMatch(/\[agent\] check tests: .*2 passed/);
    expect(log).toMatch(/\[runner\] checks passed/);
  });

  it('a failing check ends the job in error with its output; one past its time limit is stopped', async () => {
    const { job, detail, log } = await runWith([
      { name: 'fails', run: 'python3 -c "import sys; print(\'boom\'); sys.exit(4)"' },
      { name: 'hangs', run: 'echo hanging; sleep 300', timeout_seconds: 2 },
    ]);
    expect(job).toMatchObject({ status: 'error', errorCode: 'checks_failed' });
    expect(job.errors).toEqual([
      'check "fails" failed with exit code 4 (python3 -c "import sys; print(\'boom\'); sys.exit(4)")',
      'check "hangs" ran past its time limit and was stopped (echo hanging; sleep 300)',
    ]);
    const [fails, hangs] = detail.check_results!.rounds[0]!.results;
    expect(fails).toMatchObject({ exit_code: 4, output: 'boom\n', timed_out: false });
    expect(hangs).toMatchObject({ exit_code: null, timed_out: true, output: 'hanging\n' });
    expect(hangs!.duration_ms).toBeGreaterThanOrEqual(2000);
    expect(log).toMatch(/\[agent\] check fails: boom/);
  });

  it('a fix attempt in the container: the agent’s fix round, then the checks again', async () => {
    const { job, detail, log } = await runWith([{ name: 'edited', run: 'grep -q "^# Edit: The project" app.py' }], 1);
    expect(job).toMatchObject({ status: 'completed' });
    expect(detail.check_results!.rounds.map((r) => r.passed)).toEqual([false, true]);
    expect(log).toMatch(/checks: fix attempt 1 of 1/);
  });
});
