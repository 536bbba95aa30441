import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectHistoryDir } from '@cwo/history';
import { listWorkspaceFiles, openWorkspaceFile, projectWorkspace, readSmallText } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import { InfrastructureError, type Executor } from './executors/types';
import { addEdit, createProject, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

// Dependencies an agent installs (node_modules, .venv: HISTORY_IGNORE's default) stay in the
// workspace, where the listing and reads show them, but out of the history and the job's file
// lists, and a retry's restore leaves them alone.

describe('dependency folders and the history', () => {
  const harness = useRunnerHarness();
  const { db } = harness;

  it('an install job records only its own files; the workspace keeps (and shows) the dependencies, a retry too', async () => {
    const config = testConfig({ RUNNER_MAX_ATTEMPTS: '2' });
    const queue = harness.queue(config);
    const dummy = createDummyExecutor();
    let install = '';
    let failOnce = true;
    const executor: Executor = {
      name: 'docker',
      async run(run) {
        await dummy.run(run);
        if (run.request.job_id !== install) return;
        const ws = run.workspace;
        fs.mkdirSync(path.join(ws, 'node_modules', 'left-pad'), { recursive: true });
        fs.writeFileSync(path.join(ws, 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1;\n');
        fs.mkdirSync(path.join(ws, '.venv', 'bin'), { recursive: true });
        fs.writeFileSync(path.join(ws, '.venv', 'bin', 'python'), '#!/bin/sh\n');
        fs.writeFileSync(path.join(ws, 'package.json'), '{"dependencies":{"left-pad":"1"}}\n');
        if (failOnce) {
          failOnce = false;
          throw new InfrastructureError('Docker API failed to run the worker container: socket hang up');
        }
      },
    };
    await harness.startRunner(config, executor);
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await waitForJob(db, jobId);

    install = await addEdit(db, projectId, 'install left-pad');
    await queue.enqueue(install);
    const job = await waitForJob(db, install);
    // The first attempt's install was undone except for what the history leaves out; the second ran on it.
    expect(job).toMatchObject({
      status: 'completed',
      attempts: 2,
      createdFiles: ['package.json'],
      modifiedFiles: ['app.py'],
    });
    const tree = execFileSync(
      'git',
      [
        `--git-dir=${projectHistoryDir(config.workspaceRoot, projectId)}`,
        'ls-tree',
        '-r',
        '--name-only',
        job.commitSha!,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' } },
    );
    expect(tree.split('\n').filter(Boolean)).toEqual(['README.md', 'app.py', 'package.json', 'tests/test_cli.py']);

    const workspace = projectWorkspace(config.workspaceRoot, projectId);
    const listed = (await listWorkspaceFiles(workspace)).map((f) => f.path);
    expect(listed).toEqual(expect.arrayContaining(['node_modules/left-pad/index.js', '.venv/bin/python']));
    const opened = await openWorkspaceFile(workspace, 'node_modules/left-pad/index.js');
    try {
      expect(await readSmallText(opened, 1024)).toBe('module.exports = 1;\n');
    } finally {
      await opened.handle.close();
    }

    // The next job neither removes them nor lists them.
    const next = await addEdit(db, projectId, 'another edit');
    await queue.enqueue(next);
    expect(await waitForJob(db, next)).toMatchObject({ status: 'completed', createdFiles: [], deletedFiles: [] });
    expect(fs.existsSync(path.join(workspace, 'node_modules', 'left-pad', 'index.js'))).toBe(true);
  });
});
