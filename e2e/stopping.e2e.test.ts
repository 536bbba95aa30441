// A job that runs too long, and jobs cancelled while queued or running; the running one's log
// followed live over server-sent events until it ends. DUMMY_WORKER_DELAY_MS (test-only) keeps
// the dummy agent busy long enough to be stopped.
import { logLines, type ApiClient, type SseEvent } from './helpers/api-client';
import { eventually, Stack } from './helpers/stack';

const SLOW = { DUMMY_WORKER_DELAY_MS: '60000' };

describe('time limit and cancel, over HTTP', () => {
  let stack: Stack;
  let api: ApiClient;

  beforeAll(async () => {
    stack = await Stack.create('stopping');
    api = await stack.startApi();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('ends a job that runs past JOB_TIMEOUT_SECONDS in error "timeout"', async () => {
    const runner = await stack.startRunner('runner-timeout', { ...SLOW, JOB_TIMEOUT_SECONDS: '2' });
    const project = await api.createProject('A Python CLI that prints Fibonacci numbers');
    const job = await api.waitForJob(project.id, project.job.id, 30_000);
    expect(job).toMatchObject({ status: 'error', errors: ['timeout'], attempts: 1 });
    expect(Date.parse(job.finished_at) - Date.parse(job.started_at)).toBeGreaterThanOrEqual(2000);
    expect((await api.get(`/api/v1/projects/${project.id}`)).body.status).toBe('error');
    const log = (await api.get(`/api/v1/projects/${project.id}/jobs/${job.id}/logs`)).text;
    expect(log).toMatch(/stopped: the time limit of 2 s passed/);
    expect((await runner.stop()).code).toBe(0);
  });

  it('cancels a queued job at once and a running one within seconds; the followed log ends with the job', async () => {
    await stack.startRunner('runner-cancel', SLOW);
    const project = await api.createProject('A Python CLI that prints Fibonacci numbers');
    const running = project.job.id;
    await api.waitForJob(project.id, running, 30_000, 'in_progress');

    // Follow the running job's log from now until it ends.
    const seen: SseEvent[] = [];
    const followed = api.followLog(project.id, running, { timeoutMs: 30_000, onEvent: (e) => seen.push(e) });
    await eventually('the live log to show the agent', async () =>
      logLines(seen).some((l) => /dummy executor: waiting/.test(l)),
    );

    // An edit queued behind it (same project) is cancelled at once.
    const queued = await api.addJob(project.id, 'never runs');
    const cancelQueued = await api.post(`/api/v1/projects/${project.id}/jobs/${queued.id}/cancel`);
    expect(cancelQueued.status).toBe(200);
    expect(cancelQueued.body.status).toBe('cancelled');

    // The running one is stopped by its runner.
    const asked = Date.now();
    const cancelRunning = await api.post(`/api/v1/projects/${project.id}/jobs/${running}/cancel`);
    expect(cancelRunning.status).toBe(202);
    const done = await api.waitForJob(project.id, running, 15_000);
    expect(done).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(Date.now() - asked).toBeLessThan(15_000);

    const { events } = await followed;
    expect(events[events.length - 1]).toMatchObject({ event: 'end', data: JSON.stringify({ status: 'cancelled' }) });
    expect(logLines(events).some((l) => /\[runner\] stopped: cancelled on request/.test(l))).toBe(true);
    // Nothing the stopped agent would have written exists.
    expect((await api.get(`/api/v1/projects/${project.id}/files/app.py`)).status).toBe(404);
    expect(await api.job(project.id, queued.id)).toMatchObject({ status: 'cancelled', attempts: 0, started_at: null });
  });
});
