// Webhooks end to end: endpoints registered over HTTP on the built API, jobs run by a runner
// process (which also delivers), and real receivers on 127.0.0.1 that verify every signature with
// the Standard Webhooks library. A local receiver needs WEBHOOK_ALLOW_PRIVATE_HOSTS and
// WEBHOOK_ALLOW_HTTP; the refusals without them are the API's and packages/webhooks' tests.
import type { ApiClient } from './helpers/api-client';
import { eventually, Stack } from './helpers/stack';
import { startReceiver, type Receiver } from './helpers/webhook-receiver';

const WEBHOOK_ENV = {
  WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_RELAY_INTERVAL_MS: '100',
  WEBHOOK_BACKOFF_SECONDS: '0.2',
  WEBHOOK_MAX_ATTEMPTS: '3',
  WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES: '2',
};
const ALL_EVENTS = ['job.queued', 'job.started', 'job.completed', 'job.failed', 'job.cancelled', 'project.deleted'];

describe('webhooks, with the API and a runner as processes', () => {
  let stack: Stack;
  let api: ApiClient;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    stack = await Stack.create('webhooks');
    api = await stack.startApi(WEBHOOK_ENV);
    // Each job takes a moment, so that one can be cancelled while it runs and another while queued.
    await stack.startRunner('runner', { ...WEBHOOK_ENV, DUMMY_WORKER_DELAY_MS: '1500' });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await stack?.stop();
  });

  async function register(answering: number, events = ALL_EVENTS): Promise<{ receiver: Receiver; id: string }> {
    const receiver = await startReceiver();
    receivers.push(receiver);
    receiver.otherwise = answering;
    const res = await api.post('/api/v1/webhooks', { url: receiver.url, events });
    expect(res.status).toBe(201);
    receiver.secrets.push(res.body.secret);
    return { receiver, id: res.body.id };
  }

  it('tells a receiver of every outcome, each delivery signed; one that always fails changes no job and is disabled', async () => {
    const good = await register(200);
    const failing = await register(500);

    const project = await api.createProject('Generate a minimal Python CLI that prints Fibonacci numbers');
    const done = await api.waitForJob(project.id, project.job.id);
    const failed = await api.addJob(project.id, 'force_error please');
    const running = await api.addJob(project.id, 'an edit cancelled while it runs');
    const queued = await api.addJob(project.id, 'an edit cancelled while it waits');
    expect((await api.post(`/api/v1/projects/${project.id}/jobs/${queued.id}/cancel`)).status).toBe(200);
    await api.waitForJob(project.id, running.id, 30_000, 'in_progress');
    expect((await api.post(`/api/v1/projects/${project.id}/jobs/${running.id}/cancel`)).status).toBe(202);
    const jobs = {
      done,
      failed: await api.waitForJob(project.id, failed.id),
      running: await api.waitForJob(project.id, running.id),
      queued: await api.job(project.id, queued.id),
    };
    // The failing receiver changed nothing about the jobs.
    expect(done).toMatchObject({ status: 'completed', error_code: null, attempts: 1 });
    expect(jobs.failed).toMatchObject({ status: 'error', error_code: 'forced_error', attempts: 1 });
    expect(jobs.running).toMatchObject({ status: 'cancelled', error_code: 'cancelled', attempts: 1 });
    expect(jobs.queued).toMatchObject({ status: 'cancelled', error_code: 'cancelled', attempts: 0 });

    // A job still unfinished when its project goes (queued, or just started: the runner may be quick).
    const left = await api.addJob(project.id, 'unfinished when the project goes');
    expect((await api.request('DELETE', `/api/v1/projects/${project.id}`)).status).toBe(204);

    // queued x5, started x3 (done, failed, running; maybe `left` too), completed, failed,
    // cancelled x2, project.deleted.
    const events = await eventually(
      'every event at the good receiver',
      async () => {
        const all = good.receiver.verified();
        return all.some((e) => e.type === 'project.deleted') && all.length >= 13 ? all : null;
      },
      60_000,
    );
    expect(good.receiver.arrivals.every((a) => a.verifyError === null)).toBe(true);
    const of = (type: string) => events.filter((e) => e.type === type).map((e) => e.data.id);
    expect(of('job.queued').sort()).toEqual([project.job.id, failed.id, running.id, queued.id, left.id].sort());
    expect(
      of('job.started')
        .filter((id) => id !== left.id)
        .sort(),
    ).toEqual([project.job.id, failed.id, running.id].sort());
    expect(of('job.completed')).toEqual([project.job.id]);
    expect(of('job.failed')).toEqual([failed.id]);
    expect(of('job.cancelled').sort()).toEqual([running.id, queued.id].sort());
    expect(of('project.deleted')).toEqual([project.id]);
    const completed = events.find((e) => e.type === 'job.completed')!;
    expect(completed.data).toMatchObject({
      status: 'completed',
      error_code: null,
      created_files: ['README.md', 'app.py', 'tests/test_cli.py'],
      diff_stats: { files_changed: 3, insertions: expect.any(Number), deletions: 0 },
      duration_seconds: expect.any(Number),
      usage: null,
    });
    expect(events.find((e) => e.type === 'job.failed')!.data).toMatchObject({ error_code: 'forced_error' });
    expect(events.find((e) => e.type === 'project.deleted')!.data.stopped_jobs).toEqual([
      { id: left.id, status: expect.stringMatching(/^(queued|in_progress)$/) },
    ]);

    // The failing endpoint: every delivery tried 3 times, then it was disabled, saying why.
    const endpoint = await eventually(
      'the failing endpoint to be disabled',
      async () => {
        const res = await api.get(`/api/v1/webhooks/${failing.id}`);
        return res.body.disabled_at ? res.body : null;
      },
      60_000,
    );
    expect(endpoint.disabled_reason).toMatch(/^disabled after 2 deliveries in a row failed all their attempts/);
    const deliveries = (await api.get(`/api/v1/webhooks/${failing.id}/deliveries?limit=100`)).body;
    // Deliveries that were tried failed all three attempts; those still waiting when the endpoint
    // was disabled were never sent, and say so.
    type Delivery = { status: string; error: string | null; attempts: Array<{ status_code: number }> };
    const over = (deliveries.items as Delivery[]).filter((d) => d.status === 'failed');
    const tried = over.filter((d) => d.attempts.length > 0);
    expect(tried.length).toBeGreaterThanOrEqual(2);
    for (const d of tried) {
      expect(d.attempts.map((a) => a.status_code)).toEqual([500, 500, 500]);
      expect(d.error).toMatch(/500/);
    }
    for (const d of over.filter((d) => d.attempts.length === 0)) {
      expect(d.error).toBe('not sent: the endpoint is disabled');
    }
    expect(failing.receiver.arrivals.every((a) => a.verifyError === null)).toBe(true);
  });

  it('retries a receiver that answers 500, then succeeds; the attempts are listed; a redelivery arrives with the same id', async () => {
    const flaky = await register(200, ['job.queued']);
    flaky.receiver.script = [500, 500];
    const project = await api.createProject('Another Fibonacci CLI, please');
    const queuedEvent = await eventually(
      'the job.queued delivery to succeed',
      async () => {
        const res = await api.get(`/api/v1/webhooks/${flaky.id}/deliveries?limit=100`);
        return res.body.items.find(
          (d: { event_type: string; status: string }) => d.event_type === 'job.queued' && d.status === 'succeeded',
        );
      },
      60_000,
    );
    expect(queuedEvent.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 500, 200]);
    const ids = flaky.receiver.arrivals.slice(0, 3).map((a) => a.headers['webhook-id']);
    expect(ids).toEqual([queuedEvent.event_id, queuedEvent.event_id, queuedEvent.event_id]);

    const again = await api.post(`/api/v1/webhooks/${flaky.id}/deliveries/${queuedEvent.id}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ event_id: queuedEvent.event_id, status: 'pending' });
    await eventually(
      'the redelivery',
      async () =>
        flaky.receiver.arrivals.filter((a) => a.headers['webhook-id'] === queuedEvent.event_id && a.answered === 200)
          .length === 2,
      30_000,
    );
    await api.waitForJob(project.id, project.job.id);
  });
});
