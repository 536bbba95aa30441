import fs from 'node:fs';
import path from 'node:path';
import { projectWorkspace } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import { createJobProcessor } from './processor';
import type { ProjectLock, ProjectLocks } from './project-lock';
import { RunningJobs } from './running-jobs';
import { createProject, quietLogger, testConfig, useRunnerHarness } from './__tests__/helpers';

// A runner frozen (SIGSTOP) after it took a project's lock, while it read the job's request from
// Postgres, wakes past the lock's TTL: another runner has the project now, and its agent may be
// about to read .codex/request.json. The woken attempt must stop before it writes anything of the
// project's (request.json, result.json), not only before its agent runs. The chaos suite's freeze
// found one edit applied twice and the next one never: the woken runner's request.json was read
// by the next job's agent. (e2e/recovery.e2e.test.ts freezes a real runner during its agent's wait.)

describe('a runner that wakes from a freeze past its project lock', () => {
  const harness = useRunnerHarness();
  const { db } = harness;

  it('writes nothing in the workspace: the request and result of the job that holds the lock now are left as they are', async () => {
    const config = testConfig();
    const queue = harness.queue(config);
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    // What the runner that took the project over has written for its own job.
    const workspace = projectWorkspace(config.workspaceRoot, projectId);
    fs.mkdirSync(path.join(workspace, '.codex'), { recursive: true });
    const theirs = { request: '{"job_id": "the job that holds the lock now"}\n', result: '{"status": "success"}\n' };
    fs.writeFileSync(path.join(workspace, '.codex', 'request.json'), theirs.request);
    fs.writeFileSync(path.join(workspace, '.codex', 'result.json'), theirs.result);

    // The lock as the woken runner finds it: taken, but not renewed within its TTL (its timers did
    // not run while it was frozen), so no longer certainly its own.
    const stale: ProjectLock = {
      projectId,
      token: `${jobId}:frozen`,
      lost: false,
      isFresh: () => false,
      onLost: () => undefined,
      release: async () => undefined,
    };
    const locks = { acquire: async () => stale } as unknown as ProjectLocks;
    const process = createJobProcessor({
      db,
      config,
      logger: quietLogger(),
      executor: createDummyExecutor(),
      locks,
      running: new RunningJobs(),
      runnerId: 'frozen-runner',
    });
    const bullJob = (await queue.getJob(jobId))!;
    const failed = await process(bullJob, 'token').then(
      () => null,
      (err: Error) => err,
    );

    expect(fs.readFileSync(path.join(workspace, '.codex', 'request.json'), 'utf8')).toBe(theirs.request);
    expect(fs.readFileSync(path.join(workspace, '.codex', 'result.json'), 'utf8')).toBe(theirs.result);
    expect(failed?.message).toMatch(/the project lock was lost before the workspace was prepared/);
    expect(fs.existsSync(path.join(workspace, 'app.py'))).toBe(false);
    // The job goes back to the queue for the runner that holds the project now.
    expect(await db.job.findUnique({ where: { id: jobId } })).toMatchObject({ status: 'queued' });
  });
});
