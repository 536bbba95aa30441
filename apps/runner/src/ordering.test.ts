import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectWorkspace } from '@cwo/workspace';
import { createDummyExecutor } from './executors/dummy';
import type { Executor } from './executors/types';
import { addEdit, createProject, testConfig, useRunnerHarness, waitForJob } from './__tests__/helpers';

describe('jobs of one project run one at a time, in creation order, across runners', () => {
  const harness = useRunnerHarness();
  const { db } = harness;
  const config = testConfig({ RUNNER_CONCURRENCY: '3', PROJECT_BUSY_RETRY_MS: '1000' });
  const queue = harness.queue(config);

  // The dummy agent, slowed a little so that overlapping runs would be seen, recording what ran when.
  const dummy = createDummyExecutor();
  const active = new Map<string, number>(); // projectId -> jobs of it running now
  let maxPerProject = 0;
  let sawProjectsSideBySide = false;
  const started: Array<{ projectId: string; jobId: string }> = [];
  const recording: Executor = {
    name: 'dummy',
    async run(run) {
      const p = run.request.project_id;
      active.set(p, (active.get(p) ?? 0) + 1);
      maxPerProject = Math.max(maxPerProject, active.get(p)!);
      started.push({ projectId: p, jobId: run.request.job_id });
      try {
        if (run.request.instruction === 'Project A' || run.request.instruction === 'Project B') {
          // Each project's first job waits (up to 10 s) to see a job of the other project running
          // beside it: both can run at once only if projects do not wait for each other.
          for (let i = 0; i < 2000 && !sawProjectsSideBySide; i++) {
            sawProjectsSideBySide = [...active].some(([project, n]) => project !== p && n > 0);
            await sleep(5);
          }
        }
        await sleep(120);
        await dummy.run(run);
      } finally {
        active.set(p, active.get(p)! - 1);
      }
    },
  };

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) await harness.startRunner(config, recording);
  });

  it('runs ten edits of a project in order with no overlap, while another project’s jobs run beside them', async () => {
    const a = await createProject(db, config, 'Project A');
    const b = await createProject(db, config, 'Project B');
    const aJobs = [a.jobId];
    for (let i = 1; i <= 10; i++) aJobs.push(await addEdit(db, a.projectId, `edit number ${i}`));
    const bJobs = [b.jobId];
    for (let i = 1; i <= 3; i++) bJobs.push(await addEdit(db, b.projectId, `b edit ${i}`));

    // Enqueued newest first: the queue's order must not matter, only the jobs' creation order.
    for (const id of [...aJobs, ...bJobs].reverse()) await queue.enqueue(id);
    const done = await Promise.all([...aJobs, ...bJobs].map((id) => waitForJob(db, id, 60_000)));

    expect(done.every((j) => j.status === 'completed' && j.attempts === 1)).toBe(true);
    expect(started.filter((s) => s.projectId === a.projectId).map((s) => s.jobId)).toEqual(aJobs);
    expect(started.filter((s) => s.projectId === b.projectId).map((s) => s.jobId)).toEqual(bJobs);
    expect(maxPerProject).toBe(1);
    expect(sawProjectsSideBySide).toBe(true);

    // The database agrees: each job of A started after the previous one finished.
    const rows = await db.job.findMany({ where: { projectId: a.projectId }, orderBy: { seq: 'asc' } });
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.startedAt!.getTime()).toBeGreaterThanOrEqual(rows[i - 1]!.finishedAt!.getTime());
    }
    // And so does app.py: the edits' comments in creation order.
    const app = await fs.readFile(path.join(projectWorkspace(config.workspaceRoot, a.projectId), 'app.py'), 'utf8');
    const comments = app.split('\n').filter((l) => l.startsWith('# Edit: '));
    expect(comments).toEqual(Array.from({ length: 10 }, (_, i) => `# Edit: edit number ${i + 1}`));
  }, 90_000);
});
