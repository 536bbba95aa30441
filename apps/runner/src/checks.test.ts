import { CheckResults, type CheckSpec } from '@cwo/contracts';
import { toJobDetail } from '@cwo/jobs';
import { createDummyExecutor } from './executors/dummy';
import { createProject, readJobLog, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

// Checks with the dummy agent and the dummy executor (the checks run on this host, as the runner's
// user): the job completes only when they pass; their results are on the job and in its log.

describe('checks after the dummy agent, end to end against Postgres and Redis', () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  const config = testConfig();
  const queue = harness.queue(config);

  beforeAll(async () => {
    await harness.startRunner(config, createDummyExecutor());
  });

  async function runWith(checks: CheckSpec[], fixAttempts = 0) {
    const { projectId, jobId } = await createProject(db, config);
    await db.job.update({ where: { id: jobId }, data: { checks, fixAttempts } });
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId, 30_000);
    return { job, detail: toJobDetail(job), log: await readJobLog(config, projectId, jobId) };
  }

  it('the dummy agent’s initial project with a pytest check passes, with its result stored and its output in the log', async () => {
    const { job, detail, log } = await runWith([{ name: 'tests', run: 'python3 -m pytest -q' }]);
    expect(job).toMatchObject({ status: 'completed', errorCode: null, errors: [] });
    // Running the tests left no cache the job would count as its own.
    expect(job.createdFiles).toEqual(['README.md', 'app.py', 'tests/test_cli.py']);
    const results = CheckResults.parse(job.checkResults);
    expect(results.passed).toBe(true);
    expect(results.rounds).toHaveLength(1);
    expect(results.rounds[0]!.results[0]).toMatchObject({
      name: 'tests',
      passed: true,
      exit_code: 0,
      timed_out: false,
    });
    expect(results.rounds[0]!.results[0]!.output).toMatch(/2 passed/);
    expect(detail.check_results).toEqual(results);
    expect(detail.checks).toEqual([{ name: 'tests', run: 'python3 -m pytest -q' }]);
    expect(log).toMatch(/\[agent\] checks: round 1: running "tests": python3 -m pytest -q/);
    expect(log).toMatch(/\[agent\] check tests: .*2 passed/);
    expect(log).toMatch(/\[runner\] checks passed \(1 round\(s\)\)/);
  });

  it('a check that fails ends the job in error (checks_failed), naming it, with its output kept', async () => {
    const { job, detail, log } = await runWith([
      { name: 'tests', run: 'python3 -m pytest -q' },
      { name: 'lint', run: 'echo "app.py:1: too clever" >&2; exit 2' },
    ]);
    expect(job).toMatchObject({ status: 'error', errorCode: 'checks_failed' });
    expect(job.errors).toEqual(['check "lint" failed with exit code 2 (echo "app.py:1: too clever" >&2; exit 2)']);
    const round = detail.check_results!.rounds[0]!;
    expect(detail.check_results!.passed).toBe(false);
    expect(round.results.map((r) => [r.name, r.passed, r.exit_code])).toEqual([
      ['tests', true, 0],
      ['lint', false, 2],
    ]);
    expect(round.results[1]!.output).toBe('app.py:1: too clever\n');
    // The agent's work is kept (committed), only the verdict changes.
    expect(job.createdFiles).toEqual(['README.md', 'app.py', 'tests/test_cli.py']);
    expect(log).toMatch(/\[agent\] check lint: app\.py:1: too clever/);
    expect(log).toMatch(/\[runner\] finished: error \(check "lint" failed with exit code 2/);
  });

  it('a check past its time limit is stopped and reported', async () => {
    const started = Date.now();
    const { job, detail } = await runWith([{ name: 'hangs', run: 'echo starting; sleep 120', timeout_seconds: 1 }]);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(job).toMatchObject({ status: 'error', errorCode: 'checks_failed' });
    expect(job.errors).toEqual(['check "hangs" ran past its time limit and was stopped (echo starting; sleep 120)']);
    expect(detail.check_results!.rounds[0]!.results[0]).toMatchObject({
      exit_code: null,
      timed_out: true,
      output: 'starting\n',
    });
  });

  it('with fix_attempts the agent gets the failing check as its next instruction, and the checks run again', async () => {
    // The dummy agent's edit appends "# Edit: <instruction>" to app.py: the fix round makes this pass.
    const { job, detail, log } = await runWith([{ name: 'edited', run: 'grep -q "^# Edit: The project" app.py' }], 2);
    expect(job).toMatchObject({ status: 'completed', errorCode: null });
    expect(detail.check_results!.rounds.map((r) => r.passed)).toEqual([false, true]);
    expect(log).toMatch(/checks: fix attempt 1 of 2: the agent is given the failing checks/);
    expect(log).toMatch(/dummy agent: edit job/);
    expect(log).toMatch(/checks: round 2: "edited" passed/);
  });

  it('fix attempts that do not fix it end in checks_failed after the last round', async () => {
    const { job, detail } = await runWith([{ name: 'never', run: 'false' }], 1);
    expect(job).toMatchObject({ status: 'error', errorCode: 'checks_failed' });
    expect(detail.check_results!.rounds).toHaveLength(2);
    expect(job.errors).toEqual(['check "never" failed with exit code 1 (false)']);
  });

  it('a job without checks is as before: no results', async () => {
    const { job, detail } = await runWith([]);
    expect(job.status).toBe('completed');
    expect(detail.check_results).toBeNull();
  });
});
