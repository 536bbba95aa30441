import fs from 'node:fs/promises';
import path from 'node:path';
import { WorkerRequest, WorkerResult } from '@cwo/contracts';
import { APP_PY, README_MD, TEST_CLI_PY } from '../../../packages/dummy-agent/src/templates';
import { projectWorkspace } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import {
  addEdit,
  createProject,
  readJobLog,
  testConfig,
  useRunnerHarness,
  waitForBullState,
  waitForJob,
} from './__tests__/helpers';

describe('the runner with the dummy executor, end to end against Postgres and Redis', () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  const config = testConfig();
  const queue = harness.queue(config);

  beforeAll(async () => {
    await harness.startRunner(config, createDummyExecutor());
  });

  const ws = (projectId: string) => projectWorkspace(config.workspaceRoot, projectId);
  const read = (projectId: string, rel: string) => fs.readFile(path.join(ws(projectId), rel), 'utf8');

  it('runs an initial job: the dummy agent’s three files, request.json, result.json, a log, and the job and project completed', async () => {
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId);

    expect(job).toMatchObject({
      status: 'completed',
      attempts: 1,
      createdFiles: ['README.md', 'app.py', 'tests/test_cli.py'],
      modifiedFiles: [],
      deletedFiles: [],
      errors: [],
      errorCode: null,
      resultPath: `.codex/jobs/${jobId}/result.json`,
      logsPath: `.codex/jobs/${jobId}/job.log`,
    });
    expect(job.summary).toMatch(/Fibonacci/);
    expect(job.startedAt!.getTime()).toBeLessThanOrEqual(job.finishedAt!.getTime());
    const project = await db.project.findUniqueOrThrow({ where: { id: projectId } });
    expect(project.status).toBe('completed');
    expect(project.summary).toBe(job.summary);

    expect(await read(projectId, 'app.py')).toBe(APP_PY);
    expect(await read(projectId, 'README.md')).toBe(README_MD);
    expect(await read(projectId, 'tests/test_cli.py')).toBe(TEST_CLI_PY);
    const request = WorkerRequest.parse(JSON.parse(await read(projectId, '.codex/request.json')));
    expect(request).toMatchObject({ project_id: projectId, job_id: jobId, job_type: 'initial_project', history: [] });
    expect(await read(projectId, `.codex/jobs/${jobId}/request.json`)).toBe(
      await read(projectId, '.codex/request.json'),
    );
    const result = WorkerResult.parse(JSON.parse(await read(projectId, '.codex/result.json')));
    expect(result.status).toBe('success');
    expect(await read(projectId, `.codex/jobs/${jobId}/result.json`)).toBe(await read(projectId, '.codex/result.json'));

    const log = await readJobLog(config, projectId, jobId);
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[runner\] attempt 1 of job/m);
    expect(log).toMatch(/\[agent\] dummy agent: wrote app\.py/);
    expect(log).toMatch(/\[runner\] finished: completed/);
  });

  it('runs an edit: app.py listed as modified, the earlier result.json moved into its job’s directory, history in request.json', async () => {
    const { projectId, jobId: first } = await createProject(db, config);
    await queue.enqueue(first);
    await waitForJob(db, first);
    // The first job's own copy is removed so that the move of the top-level file is what restores it.
    await fs.rm(path.join(ws(projectId), `.codex/jobs/${first}/result.json`));
    const firstResult = await read(projectId, '.codex/result.json');

    const edit = await addEdit(db, projectId, 'Add a --count flag');
    await queue.enqueue(edit);
    const job = await waitForJob(db, edit);

    expect(job).toMatchObject({
      status: 'completed',
      createdFiles: [],
      modifiedFiles: ['app.py'],
      deletedFiles: [],
      attempts: 1,
    });
    expect(await read(projectId, 'app.py')).toBe(`${APP_PY}# Edit: Add a --count flag\n`);
    expect(await read(projectId, `.codex/jobs/${first}/result.json`)).toBe(firstResult);
    const request = WorkerRequest.parse(JSON.parse(await read(projectId, '.codex/request.json')));
    expect(request.history).toEqual([
      expect.objectContaining({ job_id: first, job_type: 'initial_project', status: 'completed' }),
    ]);
    expect(JSON.parse(await read(projectId, '.codex/result.json')).modified_files).toEqual(['app.py']);
  });

  it('ends a force_error job in error with errors ["forced_error"], and the project too', async () => {
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    await waitForJob(db, jobId);
    const edit = await addEdit(db, projectId, 'force_error please');
    await queue.enqueue(edit);
    const job = await waitForJob(db, edit);
    expect(job).toMatchObject({
      status: 'error',
      errors: ['forced_error'],
      errorCode: 'forced_error',
      attempts: 1,
      modifiedFiles: [],
    });
    expect((await db.project.findUniqueOrThrow({ where: { id: projectId } })).status).toBe('error');
  });

  it('has the log’s last line in the file by the time the job’s status is final (a client reads the log on that status)', async () => {
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    // Polled without pause, so that the moment the row turns final is caught.
    const deadline = Date.now() + 20_000;
    let status = 'queued';
    while (Date.now() < deadline) {
      status = (await db.job.findUniqueOrThrow({ where: { id: jobId }, select: { status: true } })).status;
      if (status !== 'queued' && status !== 'in_progress') break;
    }
    const log = await readJobLog(config, projectId, jobId);
    expect(status).toBe('completed');
    expect(log).toMatch(/\[runner\] finished: completed\n$/);
  });

  it('acknowledges a job delivered again after it finished, without running it again', async () => {
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    const done = await waitForJob(db, jobId);
    await (await waitForBullState(queue, jobId, 'completed')).remove();
    await queue.enqueue(jobId);
    await waitForBullState(queue, jobId, 'completed');
    const again = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(again.attempts).toBe(1);
    expect(again.finishedAt).toEqual(done.finishedAt);
    expect((await readJobLog(config, projectId, jobId)).match(/attempt \d+ of job/g)).toHaveLength(1);
  });

  it('runs again from the start a job found in_progress (its runner died), counting the attempt', async () => {
    const { projectId, jobId } = await createProject(db, config);
    await db.job.update({ where: { id: jobId }, data: { status: 'in_progress', attempts: 1, startedAt: new Date() } });
    await queue.enqueue(jobId);
    const job = await waitForJob(db, jobId);
    expect(job).toMatchObject({
      status: 'completed',
      attempts: 2,
      createdFiles: ['README.md', 'app.py', 'tests/test_cli.py'],
    });
    expect(await readJobLog(config, projectId, jobId)).toMatch(/attempt 2 of job/);
  });

  it('drops a job whose row is gone (its project was deleted)', async () => {
    const { projectId, jobId } = await createProject(db, config);
    await db.project.delete({ where: { id: projectId } });
    await queue.enqueue(jobId);
    expect((await waitForBullState(queue, jobId, 'completed')).returnvalue).toBe('missing');
  });
});
