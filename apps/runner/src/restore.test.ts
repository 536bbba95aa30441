import fs from 'node:fs';
import path from 'node:path';
import { projectWorkspace } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import { InfrastructureError, type Executor } from './executors/types';
import { addEdit, createProject, readJobLog, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

// An attempt cut short after its edit landed (its container finished while the engine's API went
// away, its runner froze or died before it finished) must not leave that edit for the next run to
// apply a second time: every attempt starts from the workspace as the project's history recorded
// it, and a job that ends in error without its changes has them undone.

describe('the workspace as the history recorded it', () => {
  const harness = useRunnerHarness();
  const { db } = harness;

  /** The dummy agent, then (for the job named) a failure around it: the edit has landed. */
  function failingAfterTheEdit(failures: Map<string, number>): Executor & { runs: Map<string, number> } {
    const dummy = createDummyExecutor();
    const runs = new Map<string, number>();
    return {
      name: 'docker',
      runs,
      async run(run) {
        const id = run.request.job_id;
        runs.set(id, (runs.get(id) ?? 0) + 1);
        await dummy.run(run);
        const left = failures.get(id) ?? 0;
        if (left > 0) {
          failures.set(id, left - 1);
          throw new InfrastructureError('Docker API failed to run the worker container: socket hang up');
        }
      },
    };
  }

  const appOf = (config: { workspaceRoot: string }, projectId: string) =>
    fs.readFileSync(path.join(projectWorkspace(config.workspaceRoot, projectId), 'app.py'), 'utf8');

  it('a retry after an attempt whose edit landed applies the edit once, from the last commit', async () => {
    const config = testConfig({ RUNNER_MAX_ATTEMPTS: '3' });
    const queue = harness.queue(config);
    const failures = new Map<string, number>();
    const executor = failingAfterTheEdit(failures);
    await harness.startRunner(config, executor);
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await waitForJob(db, jobId);
    const before = appOf(config, projectId);

    const edit = await addEdit(db, projectId, 'count to 20');
    failures.set(edit, 1);
    await queue.enqueue(edit);

    const job = await waitForJob(db, edit);
    expect(job).toMatchObject({ status: 'completed', attempts: 2, modifiedFiles: ['app.py'] });
    expect(executor.runs.get(edit)).toBe(2);
    expect(appOf(config, projectId)).toBe(`${before}# Edit: count to 20\n`);
    expect(await readJobLog(config, projectId, edit)).toMatch(
      /attempt 2 .*\n(.*\n)*.*restored the workspace to commit \w{12} \(job [\w-]+\), undoing what an unfinished attempt left .*1 written back \(app\.py\)/,
    );
  });

  it('a job whose last attempt fails has its changes undone; the next job starts from the last commit', async () => {
    const config = testConfig({ RUNNER_MAX_ATTEMPTS: '1' });
    const queue = harness.queue(config);
    const failures = new Map<string, number>();
    await harness.startRunner(config, failingAfterTheEdit(failures));
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await waitForJob(db, jobId);
    const before = appOf(config, projectId);

    const failed = await addEdit(db, projectId, 'an edit whose run failed');
    failures.set(failed, 1);
    await queue.enqueue(failed);
    expect(await waitForJob(db, failed)).toMatchObject({ status: 'error', modifiedFiles: [], commitSha: null });
    expect(appOf(config, projectId)).toBe(before);

    const next = await addEdit(db, projectId, 'the next edit');
    await queue.enqueue(next);
    expect(await waitForJob(db, next)).toMatchObject({ status: 'completed' });
    expect(appOf(config, projectId)).toBe(`${before}# Edit: the next edit\n`);
  });

  it('a first job retried starts from no files; files the agent planted outside the commit are removed', async () => {
    const config = testConfig({ RUNNER_MAX_ATTEMPTS: '2' });
    const queue = harness.queue(config);
    const dummy = createDummyExecutor();
    let runs = 0;
    await harness.startRunner(config, {
      name: 'docker',
      async run(run) {
        runs++;
        if (runs === 1) {
          // Half a run: a file, and a link to outside the workspace.
          fs.writeFileSync(path.join(run.workspace, 'half.txt'), 'half-written');
          fs.symlinkSync('/etc', path.join(run.workspace, 'etc-link'));
          throw new InfrastructureError('Docker API failed to run the worker container: socket hang up');
        }
        await dummy.run(run);
      },
    });
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    expect(await waitForJob(db, jobId)).toMatchObject({
      status: 'completed',
      attempts: 2,
      createdFiles: ['README.md', 'app.py', 'tests/test_cli.py'],
    });
    const workspace = projectWorkspace(config.workspaceRoot, projectId);
    expect(fs.readdirSync(workspace).sort()).toEqual(['.codex', 'README.md', 'app.py', 'tests']);
    expect(fs.existsSync('/etc/hostname') || fs.existsSync('/etc/passwd')).toBe(true);
  });
});
