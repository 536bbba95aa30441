import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectWorkspace } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import { addEdit, createProject, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

// WORKSPACE_ROOT's disk filling up while jobs run (a small tmpfs made here, filled by a file):
// the job ends in error saying the disk is full, at once (no retries against a full disk), with
// nothing half-written kept (a small append can still land on tmpfs: it is undone); the earlier
// jobs' files are intact; once space is freed the next job runs.

describe('the workspace disk full', () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  let disk: string;
  beforeAll(() => {
    disk = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-small-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', disk]);
  });
  afterAll(() => {
    execFileSync('umount', ['-l', disk]);
    fs.rmSync(disk, { recursive: true, force: true });
  });

  const fill = () => {
    const fd = fs.openSync(path.join(disk, 'filler'), 'a');
    try {
      for (const size of [1024 * 1024, 4096, 512, 1]) {
        try {
          for (;;) fs.writeSync(fd, Buffer.alloc(size));
        } catch {
          // next, smaller
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  };

  it('a job on a full disk ends in error saying so; earlier files intact; the next job runs once space is freed', async () => {
    const config = testConfig({ WORKSPACE_ROOT: path.join(disk, 'root'), RUNNER_MAX_ATTEMPTS: '3' });
    const queue = harness.queue(config);
    await harness.startRunner(config, createDummyExecutor());
    const { projectId, jobId } = await createProject(db, config);
    await queue.enqueue(jobId);
    expect(await waitForJob(db, jobId)).toMatchObject({ status: 'completed' });
    const app = path.join(projectWorkspace(config.workspaceRoot, projectId), 'app.py');
    const before = fs.readFileSync(app, 'utf8');

    fill();
    const started = Date.now();
    const full = await addEdit(db, projectId, 'edit while the disk is full');
    await queue.enqueue(full);
    const failed = await waitForJob(db, full, 20_000);
    expect(failed.status).toBe('error');
    expect(failed.errors.join(' ')).toMatch(/the workspace disk is full/);
    expect(failed.errorCode).toBe('disk_full');
    expect(failed.attempts).toBe(1); // not retried against a full disk
    expect(Date.now() - started).toBeLessThan(10_000);
    // The edit's append landed (in its page's slack), and was undone.
    expect(fs.readFileSync(app, 'utf8')).toBe(before);
    expect(failed).toMatchObject({ modifiedFiles: [], commitSha: null });

    fs.rmSync(path.join(disk, 'filler'));
    const next = await addEdit(db, projectId, 'edit once space is back');
    await queue.enqueue(next);
    expect(await waitForJob(db, next)).toMatchObject({ status: 'completed', errors: [] });
    expect(fs.readFileSync(app, 'utf8')).toBe(`${before}# Edit: edit once space is back\n`);
  }, 60_000);
});
