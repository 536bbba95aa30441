// Ten edits posted at once to one project, taken by two runner processes with two slots each:
// they complete in creation order and never overlap.
import type { ApiClient } from './helpers/api-client';
import { Stack } from './helpers/stack';

describe('one project’s jobs across two runner processes', () => {
  let stack: Stack;
  let api: ApiClient;

  beforeAll(async () => {
    stack = await Stack.create('order');
    api = await stack.startApi();
    // A short pause in the agent gives overlapping runs, if there were any, the time to show.
    const env = { RUNNER_CONCURRENCY: '2', DUMMY_WORKER_DELAY_MS: '150' };
    await Promise.all([stack.startRunner('runner-a', env), stack.startRunner('runner-b', env)]);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('completes ten edits posted at once in creation order, one at a time', async () => {
    const project = await api.createProject('A Python CLI that prints Fibonacci numbers');
    await api.waitForJob(project.id, project.job.id);

    const instructions = Array.from({ length: 10 }, (_, i) => `concurrent edit ${i + 1}`);
    const posted = await Promise.all(instructions.map((text) => api.addJob(project.id, text)));
    for (const job of posted)
      expect(await api.waitForJob(project.id, job.id, 90_000)).toMatchObject({ status: 'completed' });

    // Creation order is the database's (jobs.seq): the order in which the API stored the posts.
    const rows = await stack.db.job.findMany({ where: { projectId: project.id }, orderBy: { seq: 'asc' } });
    expect(rows).toHaveLength(11);
    const jobs = await Promise.all(rows.map((r) => api.job(project.id, r.id)));
    for (let i = 1; i < jobs.length; i++) {
      const previousEnd = Date.parse(jobs[i - 1].finished_at);
      expect(Date.parse(jobs[i].started_at)).toBeGreaterThanOrEqual(previousEnd);
    }
    expect(jobs.every((j) => j.status === 'completed' && j.modified_files.length <= 1)).toBe(true);

    // app.py carries the edits' comments in the same order.
    const app = (await api.get(`/api/v1/${project.id}/files/app.py`)).body.contents as string;
    const comments = app
      .split('\n')
      .filter((l) => l.startsWith('# Edit: '))
      .map((l) => l.slice('# Edit: '.length));
    expect(comments).toEqual(rows.slice(1).map((r) => r.instruction));
  });
});
