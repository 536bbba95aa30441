import fs from 'node:fs';
import path from 'node:path';
import { createDummyExecutor } from './executors/dummy';
import type { Executor } from './executors/types';
import { addEdit, createProject, readJobLog, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

// A job's "before" snapshot starts from the stat index the project's last commit left beside its
// history: the files nobody touched since are not read again, by the next job or a runner started
// later (issue 14: the cost of a job must not grow with the workspace).

describe('the stat index across jobs and runners', () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  const snapshotLine = (log: string) => /workspace snapshot: (\d+) files, (\d+) read/.exec(log)!.slice(1).map(Number);

  it('a later job, on a runner started afresh, reads again only the file the job before it changed', async () => {
    const config = testConfig();
    const queue = harness.queue(config);
    const dummy = createDummyExecutor();
    // The dummy agent, which on one job also installs 40 files (as an agent adds dependencies).
    let installOn = '';
    const executor: Executor = {
      name: 'dummy',
      async run(run) {
        await dummy.run(run);
        if (run.request.job_id !== installOn) return;
        for (let i = 0; i < 40; i++) {
          fs.mkdirSync(path.join(run.workspace, 'lib', `pkg${i % 4}`), { recursive: true });
          fs.writeFileSync(path.join(run.workspace, 'lib', `pkg${i % 4}`, `m${i}.js`), `module.exports = ${i};\n`);
        }
      },
    };
    const first = await harness.startRunner(config, executor);
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await waitForJob(db, jobId);
    const runEdit = async (instruction: string) => {
      const id = await addEdit(db, projectId, instruction);
      await queue.enqueue(id);
      expect(await waitForJob(db, id)).toMatchObject({ status: 'completed' });
      return snapshotLine(await readJobLog(config, projectId, id));
    };

    installOn = await addEdit(db, projectId, 'install');
    await queue.enqueue(installOn);
    expect(await waitForJob(db, installOn)).toMatchObject({ status: 'completed' });
    // The files are older than the racy window (2 s) by the time the next job's snapshots look.
    await new Promise((r) => setTimeout(r, 2_100));
    await runEdit('edit one');
    await first.stop(0);

    await harness.startRunner(config, executor);
    // Only app.py, which the job before edited just before its commit recorded it (racy), is read.
    expect(await runEdit('edit two')).toEqual([43, 1]);
  });
});
