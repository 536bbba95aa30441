import { DelayedError, Worker, type Job as BullJob } from 'bullmq';
import type { Config } from '@cwo/config';
import { sqlTransaction, type Db } from '@cwo/db';
import type { Logger } from '@cwo/logger';
import { redisConnection, redisRetryStrategy } from '@cwo/queue';
import {
  abandonDelivery,
  keepBody,
  loadAttemptContext,
  MARK_ENQUEUED_SQL,
  OUTBOX_BATCH_SQL,
  overdueDeliveries,
  recordAttempt,
  removeEventsBefore,
  type AttemptContext,
} from './delivery-records';
import { buildPayload } from './payload';
import {
  createWebhooksQueue,
  DELIVER,
  deliveryJobOptions,
  retryDelayMs,
  WEBHOOK_BACKOFF,
  WEBHOOKS_QUEUE_NAME,
  type DeliveryPayload,
  type WebhooksQueue,
} from './queue';
import { sendWebhook, type SendResult } from './send';
import { signedHeaders } from './signature';
import { resolveTarget, systemLookup, TargetRefused, type Lookup } from './target';

// The webhook dispatcher, run by every runner (WEBHOOK_CONCURRENCY > 0). Three parts:
//   - the relay: every WEBHOOK_RELAY_INTERVAL_MS it takes the deliveries the transitions wrote to
//     the outbox (FOR UPDATE SKIP LOCKED, so N runners share them without taking one twice), adds
//     them to the webhooks queue (job id = delivery id: a second add is a no-op) and marks them
//     enqueued, in one transaction: a process that dies in between leaves them in the outbox;
//   - the delivery worker: a BullMQ worker on that queue makes one attempt per run, records it,
//     and either ends the delivery or throws so that BullMQ retries it after the delay it was
//     given (exponential, see retryDelayMs). At most WEBHOOK_ENDPOINT_CONCURRENCY of its slots
//     hold one endpoint's attempts: a delivery past that goes back to the queue for a moment
//     (not an attempt), so a slow receiver cannot keep every slot and starve the others;
//   - the recovery pass: pending deliveries long past their next attempt (Redis lost them) are
//     put on the queue again; events past WEBHOOK_RETENTION_DAYS are removed.
// Delivery never touches a job: it has its own queue, its own Postgres connections and only
// reads the rows the transitions recorded.

/** The time limit of one attempt, and how much of an answer is kept. */
export const ATTEMPT_TIMEOUT_MS = 10_000;
export const MAX_RESPONSE_BYTES = 1024;
const RELAY_BATCH = 200;
/** How long the relay waits for Redis to take a batch before it gives up (and rolls back) for now. */
const RELAY_ENQUEUE_TIMEOUT_MS = 5000;
const RECOVERY_BATCH = 500;
const RETENTION_BATCH = 1000;
/** How long a delivery waits (plus up to half again) when its endpoint already has its share of slots. */
const ENDPOINT_BUSY_DELAY_MS = 250;
const HOUR_MS = 3600 * 1000;

export type DispatcherConfig = Pick<
  Config,
  | 'REDIS_URL'
  | 'QUEUE_PREFIX'
  | 'workspaceRoot'
  | 'WEBHOOK_ALLOW_PRIVATE_HOSTS'
  | 'WEBHOOK_ALLOW_HTTP'
  | 'WEBHOOK_MAX_ATTEMPTS'
  | 'WEBHOOK_BACKOFF_SECONDS'
  | 'WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES'
  | 'WEBHOOK_CONCURRENCY'
  | 'WEBHOOK_ENDPOINT_CONCURRENCY'
  | 'WEBHOOK_RELAY_INTERVAL_MS'
  | 'WEBHOOK_RETENTION_DAYS'
  | 'RUNNER_REDIS_RETRY_MS'
>;

export interface DispatcherDeps {
  /** Its own connections: a delivery must never wait for, or hold, one a job needs. */
  db: Db;
  config: DispatcherConfig;
  logger: Logger;
  /** How names are resolved (tests make a name resolve anywhere); dns.lookup by default. */
  lookup?: Lookup;
  /** Tests: a shorter limit per attempt than ATTEMPT_TIMEOUT_MS. */
  attemptTimeoutMs?: number;
  /** How long past its due time a pending delivery counts as lost by the queue (default 5 min). */
  recoveryGraceMs?: number;
  /** How often the recovery pass runs (default every minute). */
  recoveryIntervalMs?: number;
}

export interface Dispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One relay pass: how many deliveries it put on the queue. */
  relayOnce(): Promise<number>;
  /** One recovery pass: how many lost deliveries it put back on the queue. */
  recoverOnce(): Promise<number>;
}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not take the deliveries within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Thrown by a failed attempt that has a next one: BullMQ retries after `delayMs`. */
class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

export function createWebhookDispatcher(deps: DispatcherDeps): Dispatcher {
  const { db, config, logger } = deps;
  const lookup = deps.lookup ?? systemLookup;
  const rules = { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowPrivateHosts: config.WEBHOOK_ALLOW_PRIVATE_HOSTS };
  const timeoutMs = deps.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const recoveryGraceMs = deps.recoveryGraceMs ?? 5 * 60 * 1000;
  // Its queue's and its worker's reconnects to Redis no further apart than RUNNER_REDIS_RETRY_MS
  // (BullMQ's own back off to 20 s), as the runner's job worker's: deliveries go out again within
  // about that once Redis is back.
  const retryMs = config.RUNNER_REDIS_RETRY_MS;
  const retryStrategy = redisRetryStrategy(retryMs);
  const queue: WebhooksQueue = createWebhooksQueue(config, { retryStrategy });
  queue.on('error', (err) => logger.warn('webhooks queue: redis error', { error: err.message }));
  let worker: Worker<DeliveryPayload> | null = null;
  /** Attempts in progress in this process, per endpoint. */
  const inFlight = new Map<string, number>();
  // One slot is always left for the other endpoints (a single slot cannot be shared).
  const perEndpoint = Math.max(1, Math.min(config.WEBHOOK_ENDPOINT_CONCURRENCY, config.WEBHOOK_CONCURRENCY - 1));
  /** The next run of each periodic pass, and the passes running now. */
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  let stopped = false;

  async function relayOnce(): Promise<number> {
    let moved = 0;
    for (;;) {
      const n = await sqlTransaction(db, async (client) => {
        const { rows } = await client.query<{ id: string }>(OUTBOX_BATCH_SQL, [RELAY_BATCH]);
        if (rows.length === 0) return 0;
        // Within a time limit: the rows stay locked meanwhile, and Redis may be down.
        await within(
          RELAY_ENQUEUE_TIMEOUT_MS,
          queue.addBulk(
            rows.map((r) => ({ name: DELIVER, data: { deliveryId: r.id }, opts: deliveryJobOptions(config, r.id) })),
          ),
        );
        await client.query(MARK_ENQUEUED_SQL, [rows.map((r) => r.id)]);
        return rows.length;
      });
      moved += n;
      if (n < RELAY_BATCH) return moved;
    }
  }

  async function recoverOnce(): Promise<number> {
    let requeued = 0;
    for (const id of await overdueDeliveries(db, new Date(Date.now() - recoveryGraceMs), RECOVERY_BATCH)) {
      const job = await queue.getJob(id);
      const state = job ? await job.getState() : 'missing';
      if (['waiting', 'delayed', 'active', 'prioritized'].includes(state)) continue;
      await job?.remove().catch(() => undefined);
      await queue.add(DELIVER, { deliveryId: id }, deliveryJobOptions(config, id));
      requeued++;
      logger.warn('webhooks: a pending delivery the queue had lost was put back on it', { deliveryId: id, state });
    }
    const removed = await removeEventsBefore(
      db,
      new Date(Date.now() - config.WEBHOOK_RETENTION_DAYS * 24 * HOUR_MS),
      RETENTION_BATCH,
    );
    if (removed) logger.info('webhooks: removed old events', { events: removed });
    return requeued;
  }

  /** The payload of the attempt's event, built on its first attempt and kept for the others. */
  async function bodyOf(ctx: AttemptContext): Promise<string> {
    if (ctx.body !== null) return ctx.body;
    const body = JSON.stringify(await buildPayload(ctx, config.workspaceRoot));
    await keepBody(db, ctx.eventId, body);
    return body;
  }

  async function attempt(ctx: AttemptContext, number: number): Promise<SendResult> {
    const started = performance.now();
    let target;
    try {
      target = await resolveTarget(ctx.url, rules, lookup);
    } catch (err) {
      if (!(err instanceof TargetRefused)) throw err;
      const durationMs = Math.round(performance.now() - started);
      return { statusCode: null, durationMs, response: null, error: `refused: ${err.message}` };
    }
    const body = await bodyOf(ctx);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'codex-workspace-orchestrator-webhooks/1',
      ...signedHeaders(ctx.secrets, ctx.eventId, new Date(), body),
    };
    const result = await sendWebhook({ target, headers, body, timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES });
    logger.debug('webhook attempt', {
      deliveryId: ctx.deliveryId,
      attempt: number,
      statusCode: result.statusCode,
      error: result.error,
    });
    return result;
  }

  async function deliver(job: BullJob<DeliveryPayload>, token?: string): Promise<string> {
    const { deliveryId } = job.data;
    const ctx = await loadAttemptContext(db, deliveryId);
    if (!ctx) return 'gone';
    if (ctx.status !== 'pending') return ctx.status; // delivered twice by the queue: done already
    if (ctx.disabled) {
      await abandonDelivery(db, deliveryId, 'not sent: the endpoint is disabled');
      return 'abandoned';
    }
    const busy = inFlight.get(ctx.endpointId) ?? 0;
    if (busy >= perEndpoint) {
      // Its endpoint has its share of this worker's slots: back to the queue for a moment, not an
      // attempt (BullMQ counts none for a DelayedError), and the slot goes to another delivery.
      await job.moveToDelayed(Date.now() + ENDPOINT_BUSY_DELAY_MS * (1 + Math.random() / 2), token);
      throw new DelayedError();
    }
    inFlight.set(ctx.endpointId, busy + 1);
    try {
      return await attemptAndRecord(ctx);
    } finally {
      const left = (inFlight.get(ctx.endpointId) ?? 1) - 1;
      if (left > 0) inFlight.set(ctx.endpointId, left);
      else inFlight.delete(ctx.endpointId);
    }
  }

  /** One attempt of a pending delivery, recorded: its outcome, or RetryLater. */
  async function attemptAndRecord(ctx: AttemptContext): Promise<string> {
    const { deliveryId } = ctx;
    const number = ctx.attempts + 1;
    const startedAt = new Date();
    const result = await attempt(ctx, number);
    const lastAttempt = number >= config.WEBHOOK_MAX_ATTEMPTS;
    const delayMs = retryDelayMs(config.WEBHOOK_BACKOFF_SECONDS, number, deliveryId);
    const recorded = await recordAttempt(db, {
      ctx,
      attempt: number,
      startedAt,
      result,
      lastAttempt,
      retryAt: new Date(Date.now() + delayMs),
      disableAfter: config.WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES,
    });
    if (recorded.disabledReason) {
      logger.warn('webhooks: endpoint disabled', { endpointId: ctx.endpointId, reason: recorded.disabledReason });
    }
    if (result.error === null) return 'succeeded';
    if (recorded.final) return 'failed';
    throw new RetryLater(delayMs, `attempt ${number} failed: ${result.error}`);
  }

  /** Runs `pass` every `everyMs` after the last run ended (the first after `firstAfterMs`). */
  function every(what: string, everyMs: number, firstAfterMs: number, pass: () => Promise<unknown>): void {
    const tick = () => {
      const run = pass()
        .catch((err: unknown) => logger.warn(`webhooks: ${what} failed; it runs again shortly`, { error: err }))
        .finally(() => {
          running.delete(run);
          if (!stopped) timers.set(what, setTimeout(tick, everyMs));
        });
      running.add(run);
    };
    timers.set(what, setTimeout(tick, firstAfterMs));
  }

  return {
    relayOnce,
    recoverOnce,

    async start() {
      if (config.WEBHOOK_CONCURRENCY === 0) {
        logger.info('webhooks: this runner delivers none (WEBHOOK_CONCURRENCY=0)');
        return;
      }
      worker = new Worker<DeliveryPayload>(WEBHOOKS_QUEUE_NAME, deliver, {
        connection: redisConnection(config.REDIS_URL, { retryStrategy }),
        // After a failed fetch (Redis away), BullMQ's own wait is 15 s.
        runRetryDelay: retryMs,
        prefix: config.QUEUE_PREFIX,
        concurrency: config.WEBHOOK_CONCURRENCY,
        // An attempt is bounded by its time limit; the lock outlasts it.
        lockDuration: Math.max(30_000, timeoutMs * 3),
        settings: {
          backoffStrategy: (attemptsMade, type, err) =>
            type === WEBHOOK_BACKOFF && err instanceof RetryLater
              ? err.delayMs
              : // Anything else (Postgres refused the record): BullMQ's own exponential backoff.
                Math.min(HOUR_MS, 1000 * 2 ** attemptsMade),
        },
      });
      worker.on('error', (err) => logger.warn('webhooks worker error', { error: err.message }));
      await worker.waitUntilReady();
      every('relay', config.WEBHOOK_RELAY_INTERVAL_MS, 0, relayOnce);
      const recoveryEvery = deps.recoveryIntervalMs ?? 60_000;
      every('recovery', recoveryEvery, recoveryEvery, recoverOnce);
      logger.info('webhooks: delivering', { concurrency: config.WEBHOOK_CONCURRENCY, perEndpoint });
    },

    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      await Promise.all(running);
      await worker?.close();
      await queue.close().catch(() => undefined);
    },
  };
}
