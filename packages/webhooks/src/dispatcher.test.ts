import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '@cwo/config';
import { WebhookPayload, type WebhookEventType } from '@cwo/contracts';
import { createDb, sqlPool, type Db } from '@cwo/db';
import { commitJob } from '@cwo/history';
import {
  cancelJob,
  createJob,
  createProjectWithInitialJob,
  deleteProject,
  finishJob,
  startJob,
  type JobOutcome,
} from '@cwo/jobs';
import { createLogger } from '@cwo/logger';
import { eventually } from '../../../e2e/helpers/poll';
import { TcpProxy } from '../../../e2e/helpers/tcp-proxy';
import { startReceiver, type Receiver } from '../../../e2e/helpers/webhook-receiver';
import { listDeliveries, redeliver } from './deliveries';
import { createWebhookDispatcher, type Dispatcher, type DispatcherDeps } from './dispatcher';
import { createEndpoint, enableEndpoint, findEndpoint, rotateSecret } from './endpoints';
import { createWebhooksQueue } from './queue';
import type { Lookup } from './target';

// The dispatcher against the real Postgres and Redis and a real receiver on 127.0.0.1 (so
// WEBHOOK_ALLOW_PRIVATE_HOSTS and WEBHOOK_ALLOW_HTTP are on unless a test says otherwise). Events
// come from the real transitions of @cwo/jobs, as the API and the runners make them. Each test
// has an owner of its own, so it sees only its own events.

const ALL_EVENTS: WebhookEventType[] = [
  'job.queued',
  'job.started',
  'job.completed',
  'job.failed',
  'job.cancelled',
  'project.deleted',
];

const db: Db = createDb(process.env.DATABASE_URL!);
const logger = createLogger({
  level: process.env.TEST_LOG_LEVEL ?? 'error',
  service: 'webhooks-test',
  format: 'pretty',
});
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo();
});
afterAll(() => db.$disconnect());

function testConfig(env: Record<string, string> = {}): Config {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwo-webhooks-'));
  cleanups.push(() => fs.promises.rm(root, { recursive: true, force: true }));
  return loadConfig({
    ...process.env,
    QUEUE_PREFIX: `${process.env.QUEUE_PREFIX}-wh-${randomBytes(3).toString('hex')}`,
    WORKSPACE_ROOT: root,
    WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true',
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_RELAY_INTERVAL_MS: '20',
    WEBHOOK_BACKOFF_SECONDS: '0.05',
    ...env,
  });
}

/** Names resolve only through what a test injects: no test sends a DNS query. */
const noNames: Lookup = (hostname) =>
  Promise.reject(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));

async function dispatcher(config: Config, extra: Partial<DispatcherDeps> = {}): Promise<Dispatcher> {
  const d = createWebhookDispatcher({ db, config, logger, lookup: noNames, ...extra });
  cleanups.push(async () => {
    await d.stop();
    const queue = createWebhooksQueue(config);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  });
  await d.start();
  return d;
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  cleanups.push(() => r.close());
  return r;
}

async function newOwner(): Promise<string> {
  const id = randomUUID();
  await sqlPool(db).query('INSERT INTO users (id, name, updated_at) VALUES ($1, $2, now())', [id, `wh-${id}`]);
  cleanups.push(() => sqlPool(db).query('DELETE FROM users WHERE id = $1', [id]));
  return id;
}

async function endpointFor(owner: string, r: Receiver, events = ALL_EVENTS, url = r.url) {
  const created = await createEndpoint(db, owner, { url, events });
  if (created.kind !== 'created') throw new Error(created.kind);
  r.secrets.push(created.secret);
  return created.endpoint;
}

async function newProject(owner: string, config: Config) {
  const id = randomUUID();
  const workspacePath = path.join(config.workspaceRoot, id);
  fs.mkdirSync(workspacePath);
  const created = await createProjectWithInitialJob(
    db,
    { id, ownerId: owner, instruction: 'a Fibonacci CLI', workspacePath },
    0,
  );
  if (created.kind !== 'created') throw new Error(created.kind);
  return { projectId: id, jobId: created.job.id, workspacePath };
}

const outcome = (extra: Partial<JobOutcome>): JobOutcome => ({
  status: 'completed',
  summary: 'done',
  errors: [],
  created_files: [],
  modified_files: [],
  deleted_files: [],
  result_path: null,
  usage: null,
  thread_id: null,
  commit_sha: null,
  error_code: null,
  ...extra,
});

/** What a runner does with a job: start it, then finish it with `result`. */
async function runJob(jobId: string, result: Partial<JobOutcome>): Promise<void> {
  const started = await startJob(db, jobId);
  if (started.kind !== 'started') throw new Error('not started');
  expect(await finishJob(db, jobId, started.attempt, outcome(result))).toBe('finished');
}

const waitFor = <T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 20_000) =>
  eventually(what, fn, ms, 20);

describe('webhook deliveries', () => {
  it('sends every event signed as Standard Webhooks says, with the job detail, error_code, usage, duration and diff stats', async () => {
    const config = testConfig();
    const r = await receiver();
    const owner = await newOwner();
    await endpointFor(owner, r);
    await dispatcher(config);

    const { projectId, jobId, workspacePath } = await newProject(owner, config);
    fs.writeFileSync(path.join(workspacePath, 'app.py'), 'print(1)\nprint(2)\n');
    const sha = await commitJob({
      workspaceRoot: config.workspaceRoot,
      projectId,
      workspace: workspacePath,
      job: { id: jobId, jobType: 'initial_project', instruction: 'a Fibonacci CLI' },
      author: { name: 't', email: 't@test.invalid' },
    });
    await runJob(jobId, {
      created_files: ['app.py'],
      usage: { input_tokens: 1200, cached_input_tokens: 200, output_tokens: 80 },
      commit_sha: sha,
    });
    const failed = await createJob(db, owner, projectId, { job_type: 'edit', instruction: 'force_error' }, 0);
    if (failed.kind !== 'created') throw new Error(failed.kind);
    await runJob(failed.job.id, { status: 'error', errors: ['forced_error'], error_code: 'forced_error' });
    const cancelled = await createJob(db, owner, projectId, { job_type: 'edit', instruction: 'never mind' }, 0);
    const stopped = await createJob(db, owner, projectId, { job_type: 'edit', instruction: 'left queued' }, 0);
    if (cancelled.kind !== 'created' || stopped.kind !== 'created') throw new Error('not created');
    expect((await cancelJob(db, owner, projectId, cancelled.job.id)).kind).toBe('cancelled');
    expect((await deleteProject(db, owner, projectId)).kind).toBe('deleted');

    // 4 job.queued, 2 job.started, one each of completed, failed, cancelled, project.deleted.
    await waitFor('10 deliveries', async () => r.arrivals.length >= 10);
    expect(r.arrivals.map((a) => a.verifyError)).toEqual(Array(10).fill(null));
    const events = r.verified();
    for (const e of events) expect(WebhookPayload.safeParse(e).success).toBe(true);
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect(ALL_EVENTS.map(count)).toEqual([4, 2, 1, 1, 1, 1]);
    expect(new Set(events.map((e) => e.id)).size).toBe(10);

    const completed = events.find((e) => e.type === 'job.completed')!;
    expect(completed.data).toMatchObject({
      id: jobId,
      project_id: projectId,
      status: 'completed',
      error_code: null,
      usage: { input_tokens: 1200, cached_input_tokens: 200, output_tokens: 80 },
      commit: sha,
      diff_stats: { files_changed: 1, insertions: 2, deletions: 0 },
    });
    expect(completed.data.duration_seconds).toEqual(expect.any(Number));
    expect(completed.data).not.toHaveProperty('queue_position');
    expect(events.find((e) => e.type === 'job.failed')!.data).toMatchObject({
      id: failed.job.id,
      status: 'error',
      error_code: 'forced_error',
      errors: ['forced_error'],
      diff_stats: null,
    });
    expect(events.find((e) => e.type === 'job.cancelled')!.data).toMatchObject({
      id: cancelled.job.id,
      status: 'cancelled',
      error_code: 'cancelled',
    });
    expect(events.find((e) => e.type === 'job.started' && e.data.id === jobId)!.data).toMatchObject({
      status: 'in_progress',
      attempts: 1,
    });
    expect(events.find((e) => e.type === 'project.deleted')!.data).toMatchObject({
      id: projectId,
      stopped_jobs: [{ id: stopped.job.id, status: 'queued' }],
    });
    const arrival = r.arrivals[0]!;
    expect(arrival.headers['content-type']).toBe('application/json');
    expect(arrival.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(arrival.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
  });

  it('sends only the events an endpoint subscribes to, and nothing for an owner without endpoints', async () => {
    const config = testConfig();
    const r = await receiver();
    const owner = await newOwner();
    await endpointFor(owner, r, ['job.completed']);
    const d = await dispatcher(config);
    const { jobId } = await newProject(owner, config);
    await runJob(jobId, {});
    const quiet = await newOwner();
    const before = (await sqlPool(db).query('SELECT count(*)::int AS n FROM webhook_events')).rows[0].n as number;
    await runJob((await newProject(quiet, config)).jobId, {});
    expect((await sqlPool(db).query('SELECT count(*)::int AS n FROM webhook_events')).rows[0].n).toBe(before);

    await waitFor('the completion', async () => r.arrivals.length >= 1);
    await d.relayOnce();
    expect(r.verified().map((e) => e.type)).toEqual(['job.completed']);
  });

  it('retries a receiver that answers 500 with backoff, then succeeds; every attempt recorded with its status and latency', async () => {
    const config = testConfig();
    const r = await receiver();
    r.script = [500, 500];
    const owner = await newOwner();
    const endpoint = await endpointFor(owner, r, ['job.queued']);
    await dispatcher(config);
    await newProject(owner, config);

    await waitFor('three attempts', async () => r.arrivals.length >= 3);
    expect(r.arrivals.map((a) => a.answered)).toEqual([500, 500, 200]);
    expect(new Set(r.arrivals.map((a) => a.headers['webhook-id'])).size).toBe(1);
    expect(r.arrivals.map((a) => a.body)).toEqual(Array(3).fill(r.arrivals[0]!.body));
    const page = await waitFor('the delivery to be recorded as succeeded', async () => {
      const p = await listDeliveries(db, owner, endpoint.id, { limit: 20, offset: 0 });
      return p?.items[0]?.status === 'succeeded' ? p : null;
    });
    const [delivery] = page.items;
    expect(delivery).toMatchObject({ event_type: 'job.queued', status: 'succeeded', next_attempt_at: null });
    expect(delivery!.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, 'answered 500'],
      [2, 500, 'answered 500'],
      [3, 200, null],
    ]);
    expect(delivery!.attempts[0]!.response).toBe('answered 500');
    for (const a of delivery!.attempts) expect(a.latency_ms).toBeGreaterThanOrEqual(0);
    // The second retry waited about twice as long as the first (exponential).
    const times = delivery!.attempts.map((a) => Date.parse(a.at));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(45);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(95);
  });

  it('disables an endpoint whose deliveries keep failing, says why, and sends it nothing more until it is enabled', async () => {
    const config = testConfig({ WEBHOOK_MAX_ATTEMPTS: '2', WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES: '2' });
    const r = await receiver();
    r.otherwise = 500;
    const owner = await newOwner();
    const endpoint = await endpointFor(owner, r, ['job.queued']);
    const d = await dispatcher(config);
    await newProject(owner, config);
    await newProject(owner, config);

    const disabled = await waitFor('the endpoint to be disabled', async () => {
      const e = await findEndpoint(db, owner, endpoint.id);
      return e?.disabled_at ? e : null;
    });
    expect(r.arrivals).toHaveLength(4);
    expect(disabled.failed_deliveries).toBe(2);
    expect(disabled.disabled_reason).toBe(
      'disabled after 2 deliveries in a row failed all their attempts (WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES); the last one: answered 500',
    );
    const page = await listDeliveries(db, owner, endpoint.id, { limit: 20, offset: 0 });
    expect(page!.items.map((i) => i.status)).toEqual(['failed', 'failed']);
    expect(page!.items.map((i) => i.error)).toEqual(['answered 500', 'answered 500']);

    // Disabled: an event records no delivery for it, and a redelivery is refused.
    await newProject(owner, config);
    await d.relayOnce();
    expect((await listDeliveries(db, owner, endpoint.id, { limit: 20, offset: 0 }))!.total).toBe(2);
    expect(await redeliver(db, owner, endpoint.id, page!.items[0]!.id)).toEqual({
      kind: 'disabled',
      reason: disabled.disabled_reason,
    });

    // Enabled again: events reach it.
    r.otherwise = 200;
    expect(await enableEndpoint(db, owner, endpoint.id)).toMatchObject({ disabled_at: null, failed_deliveries: 0 });
    await newProject(owner, config);
    await waitFor('a delivery after enabling', async () => r.arrivals.some((a) => a.answered === 200));
  });

  it('gives up an attempt that gets no answer within 10 s, and keeps at most 1 KB of an answer', async () => {
    const config = testConfig({ WEBHOOK_MAX_ATTEMPTS: '2' });
    const r = await receiver();
    const big = 'x'.repeat(64 * 1024);
    let calls = 0;
    // The first attempt gets no answer at all; the second a 500 with 64 KB of body.
    r.reply = (res) => {
      if (calls++ === 0) return;
      res.writeHead(500, { 'content-type': 'text/plain' }).end(big);
    };
    const owner = await newOwner();
    const endpoint = await endpointFor(owner, r, ['job.queued']);
    // The dispatcher's own time limit (no attemptTimeoutMs): the one a deployment has.
    await dispatcher(config);
    await newProject(owner, config);

    const delivery = await waitFor(
      'both attempts to be recorded',
      async () => {
        const p = await listDeliveries(db, owner, endpoint.id, { limit: 20, offset: 0 });
        return p?.items[0]?.status === 'failed' ? p.items[0] : null;
      },
      30_000,
    );
    const [timedOut, answered] = delivery.attempts;
    expect(timedOut).toMatchObject({ attempt: 1, status_code: null, response: null, error: 'no answer within 10 s' });
    expect(timedOut!.latency_ms).toBeGreaterThanOrEqual(9_900);
    expect(timedOut!.latency_ms).toBeLessThan(15_000);
    expect(answered).toMatchObject({ attempt: 2, status_code: 500, error: 'answered 500', response: 'x'.repeat(1024) });
    expect(r.arrivals).toHaveLength(2);
  }, 45_000);

  it('records an answer with NUL bytes in it (Postgres text cannot hold them) instead of sending it again', async () => {
    const config = testConfig();
    const r = await receiver();
    r.reply = (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\0\0ok');
    const owner = await newOwner();
    const endpoint = await endpointFor(owner, r, ['job.queued']);
    await dispatcher(config);
    await newProject(owner, config);

    const delivery = await waitFor('the delivery to be recorded as succeeded', async () => {
      const p = await listDeliveries(db, owner, endpoint.id, { limit: 20, offset: 0 });
      return p?.items[0]?.status === 'succeeded' ? p.items[0] : null;
    });
    expect(delivery.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 200, error: null, response: 'ok\uFFFD\uFFFDok' }),
    ]);
    expect(r.arrivals).toHaveLength(1);
  });

  it('redelivers on request: a new delivery of the same event, with the same webhook-id', async () => {
    const config = testConfig();
    const r = await receiver();
    const owner = await newOwner();
    const endpoint = await endpointFor(owner, r, ['job.queued']);
    await dispatcher(config);
    await newProject(owner, config);
    await waitFor('the first delivery', async () => r.arrivals.length === 1);
    const first = await waitFor('it to be recorded', async () => {
      const p = await listDeliveries(db, owner, endpoint.id, { limit: 20, offset: 0 });
      return p?.items[0]?.status === 'succeeded' ? p.items[0] : null;
    });

    const again = await redeliver(db, owner, endpoint.id, first.id);
    if (again.kind !== 'queued') throw new Error(again.kind);
    expect(again.delivery).toMatchObject({ event_id: first.event_id, status: 'pending', attempts: [] });
    await waitFor('the redelivery', async () => r.arrivals.length === 2);
    expect(r.arrivals.map((a) => a.headers['webhook-id'])).toEqual([first.event_id, first.event_id]);
    expect(r.arrivals[1]!.body).toBe(r.arrivals[0]!.body);
    expect(await redeliver(db, owner, endpoint.id, randomUUID())).toEqual({ kind: 'not_found', what: 'delivery' });
    expect(await redeliver(db, await newOwner(), endpoint.id, first.id)).toEqual({
      kind: 'not_found',
      what: 'endpoint',
    });
  });

  it('signs with the new secret and the previous one while the rotation’s grace lasts', async () => {
    const config = testConfig();
    const owner = await newOwner();
    const oldOnly = await receiver();
    const endpoint = await endpointFor(owner, oldOnly, ['job.queued']);
    const rotated = await rotateSecret(db, owner, endpoint.id);
    expect(rotated!.secret).not.toBe(oldOnly.secrets[0]);
    // The same URL's receiver checks with the old secret only; a second copy checks with the new.
    const newOnly = await receiver();
    newOnly.secrets.push(rotated!.secret);
    const second = await createEndpoint(db, owner, { url: newOnly.url, events: ['job.queued'] });
    if (second.kind !== 'created') throw new Error(second.kind);
    await sqlPool(db).query(
      `UPDATE webhook_endpoints SET secret = $2, previous_secret = $3, previous_secret_expires_at = now() + interval '1 day'
        WHERE id = $1`,
      [second.endpoint.id, rotated!.secret, oldOnly.secrets[0]],
    );
    await dispatcher(config);
    await newProject(owner, config);

    await waitFor('both deliveries', async () => oldOnly.arrivals.length === 1 && newOnly.arrivals.length === 1);
    expect(oldOnly.arrivals[0]!.verifyError).toBeNull();
    expect(newOnly.arrivals[0]!.verifyError).toBeNull();
    expect(String(oldOnly.arrivals[0]!.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });

  it('refuses at delivery time a name that now resolves to a loopback address (DNS rebinding), without the setting', async () => {
    const config = testConfig({ WEBHOOK_ALLOW_PRIVATE_HOSTS: 'false', WEBHOOK_MAX_ATTEMPTS: '1' });
    const r = await receiver();
    const owner = await newOwner();
    // Registered while the name pointed elsewhere; now it points at this machine.
    const endpoint = await endpointFor(owner, r, ['job.queued'], `http://rebound.example.test:${r.port}/hooks`);
    const lookup: Lookup = (hostname) =>
      Promise.resolve(hostname === 'rebound.example.test' ? [{ address: '127.0.0.1', family: 4 }] : []);
    await dispatcher(config, { lookup });
    await newProject(owner, config);

    const delivery = await waitFor('the refused attempt', async () => {
      const p = await listDeliveries(db, owner, endpoint.id, { limit: 20, offset: 0 });
      return p?.items[0]?.status === 'failed' ? p.items[0] : null;
    });
    expect(delivery.attempts).toEqual([
      expect.objectContaining({
        status_code: null,
        error:
          'refused: rebound.example.test resolves to 127.0.0.1, a loopback address: not allowed (WEBHOOK_ALLOW_PRIVATE_HOSTS)',
      }),
    ]);
    expect(r.arrivals).toEqual([]);
  });

  it('delivers events recorded while no dispatcher ran (the outbox), once one starts', async () => {
    const config = testConfig();
    const r = await receiver();
    const owner = await newOwner();
    await endpointFor(owner, r, ['job.queued', 'job.started', 'job.completed']);
    const { jobId } = await newProject(owner, config);
    await runJob(jobId, {});
    expect(r.arrivals).toEqual([]);

    await dispatcher(config);
    await waitFor('the three events', async () => r.arrivals.length === 3);
    expect(
      r
        .verified()
        .map((e) => e.type)
        .sort(),
    ).toEqual(['job.completed', 'job.queued', 'job.started']);
  });

  it('a slow endpoint takes at most its share of the slots: another endpoint’s delivery goes out at once', async () => {
    const config = testConfig({ WEBHOOK_CONCURRENCY: '4' });
    // A receiver that answers after 1.5 s (slow, but it succeeds: nothing is retried), counting
    // the requests it holds at once; and one that answers at once.
    const slow = await receiver();
    let holding = 0;
    let mostHeld = 0;
    slow.reply = (res, status) => {
      mostHeld = Math.max(mostHeld, ++holding);
      setTimeout(() => res.writeHead(status).end('slowly', () => holding--), 1500);
    };
    const fast = await receiver();
    const slowOwner = await newOwner();
    const fastOwner = await newOwner();
    await endpointFor(slowOwner, slow, ['job.queued']);
    await endpointFor(fastOwner, fast, ['job.queued']);
    // In the outbox before the dispatcher starts: 12 for the slow endpoint, then one for the fast.
    for (let i = 0; i < 12; i++) await newProject(slowOwner, config);
    await newProject(fastOwner, config);

    const started = Date.now();
    await dispatcher(config);
    await waitFor('the fast endpoint’s delivery', async () => fast.arrivals.length === 1);
    const fastMs = Date.now() - started;
    // Without a bound per endpoint it waited for 12 / 4 slots x 1.5 s = 4.5 s.
    expect(fastMs).toBeLessThan(1000);
    await waitFor('the slow endpoint’s 12 deliveries', async () => slow.arrivals.length === 12, 30_000);
    expect(mostHeld).toBe(2);
    expect(new Set(slow.arrivals.map((a) => a.headers['webhook-id'])).size).toBe(12);
  }, 45_000);

  it('shares the outbox among several runners: every event sent once when nothing fails', async () => {
    const config = testConfig();
    const r = await receiver();
    const owner = await newOwner();
    await endpointFor(owner, r, ['job.queued']);
    await Promise.all([dispatcher(config), dispatcher(config), dispatcher(config)]);
    for (let i = 0; i < 20; i++) await newProject(owner, config);

    await waitFor('20 deliveries', async () => r.arrivals.length >= 20);
    await new Promise((resolve) => setTimeout(resolve, 300)); // time for a duplicate to show up
    const ids = r.arrivals.map((a) => a.headers['webhook-id']);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });

  it('sends again a pending delivery the queue lost (Redis emptied after it was relayed)', async () => {
    const config = testConfig();
    const r = await receiver();
    r.otherwise = 500;
    const owner = await newOwner();
    const endpoint = await endpointFor(owner, r, ['job.queued']);
    // A dispatcher relays it and fails its first attempt, then is gone with the queue's contents.
    const first = await dispatcher(config, { recoveryIntervalMs: 3_600_000 });
    await newProject(owner, config);
    await waitFor('the first attempt', async () => r.arrivals.length === 1);
    await first.stop();
    const queue = createWebhooksQueue(config);
    await queue.obliterate({ force: true });
    await queue.close();

    r.otherwise = 200;
    const second = await dispatcher(config, { recoveryGraceMs: 0, recoveryIntervalMs: 3_600_000 });
    await waitFor('the delivery to be due', async () => {
      const p = await listDeliveries(db, owner, endpoint.id, { limit: 1, offset: 0 });
      const due = p?.items[0]?.next_attempt_at;
      return due && Date.parse(due) < Date.now();
    });
    expect(await second.recoverOnce()).toBe(1);
    await waitFor('the second attempt', async () => r.arrivals.length === 2);
    expect(r.arrivals.map((a) => a.answered)).toEqual([500, 200]);
  });
});

// Redis going away under an idle dispatcher and coming back: the dispatcher reaches Redis through
// a proxy the test cuts. BullMQ's own reconnects back off to 20 s, and its worker waits
// runRetryDelay (15 s by default) after a failed fetch: the dispatcher bounds both by
// RUNNER_REDIS_RETRY_MS, as the runner's job worker does.
describe('webhook deliveries after a Redis outage', () => {
  it('sends a delivery made right after Redis is back within a few seconds', async () => {
    const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const proxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
    await proxy.up();
    cleanups.push(() => proxy.down());
    const viaProxy = new URL(redis);
    viaProxy.port = String(proxy.port);
    const config = testConfig({ REDIS_URL: viaProxy.toString() });
    const r = await receiver();
    const owner = await newOwner();
    await endpointFor(owner, r, ['job.queued']);
    await dispatcher(config);

    await proxy.down();
    await new Promise((resolve) => setTimeout(resolve, 12_000)); // long enough for the reconnects to back off
    await proxy.up();
    const back = Date.now();
    await newProject(owner, config); // its job.queued event goes to the outbox, then the queue
    await waitFor('the delivery', async () => r.arrivals.length >= 1, 40_000);
    const tookMs = Date.now() - back;
    console.log(`webhook delivered ${tookMs} ms after Redis came back`);
    expect(r.arrivals.map((a) => a.answered)).toEqual([200]);
    expect(tookMs).toBeLessThan(3000);
  }, 70_000);
});
