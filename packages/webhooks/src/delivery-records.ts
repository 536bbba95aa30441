import { sqlPool, sqlTransaction, type Db } from '@cwo/db';
import type { SendResult } from './send';

// What the dispatcher reads and writes of a delivery: the outbox (deliveries not yet on the
// queue), what an attempt needs, and the record of each attempt with its consequences (the
// delivery's state, the endpoint's count of failed deliveries, disabling it).

/** Deliveries not yet on the webhooks queue, oldest first, locked (SKIP LOCKED) for one relay. */
export const OUTBOX_BATCH_SQL = `
  SELECT id FROM webhook_deliveries WHERE enqueued_at IS NULL
   ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`;

export const MARK_ENQUEUED_SQL = `
  UPDATE webhook_deliveries SET enqueued_at = now(), next_attempt_at = COALESCE(next_attempt_at, now())
   WHERE id = ANY ($1::uuid[])`;

export interface AttemptContext {
  deliveryId: string;
  status: string;
  /** Attempts already made. */
  attempts: number;
  eventId: string;
  eventType: string;
  eventAt: Date;
  /** The rows the event is about (see WebhookEvent.data). */
  data: Record<string, unknown>;
  /** The payload, once built. */
  body: string | null;
  endpointId: string;
  url: string;
  /** The current secret first, then the previous one while its grace lasts. */
  secrets: string[];
  disabled: boolean;
}

/** What an attempt at `deliveryId` needs; null when it is gone (endpoint deleted, event expired). */
export async function loadAttemptContext(db: Db, deliveryId: string): Promise<AttemptContext | null> {
  const { rows } = await sqlPool(db).query<{
    id: string;
    status: string;
    attempts: number;
    event_id: string;
    type: string;
    event_at: Date;
    data: Record<string, unknown>;
    body: string | null;
    endpoint_id: string;
    url: string;
    secret: string;
    previous: string | null;
    disabled: boolean;
  }>(
    `SELECT d.id, d.status, d.attempts, e.id AS event_id, e.type, e.created_at AS event_at, e.data, e.body,
            w.id AS endpoint_id, w.url, w.secret,
            CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS previous,
            w.disabled_at IS NOT NULL AS disabled
       FROM webhook_deliveries d
       JOIN webhook_events e ON e.id = d.event_id
       JOIN webhook_endpoints w ON w.id = d.endpoint_id
      WHERE d.id = $1::uuid`,
    [deliveryId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    deliveryId: r.id,
    status: r.status,
    attempts: r.attempts,
    eventId: r.event_id,
    eventType: r.type,
    eventAt: r.event_at,
    data: r.data,
    body: r.body,
    endpointId: r.endpoint_id,
    url: r.url,
    secrets: r.previous ? [r.secret, r.previous] : [r.secret],
    disabled: r.disabled,
  };
}

/** Keeps the payload of an event for its other deliveries and attempts (the first one built wins). */
export async function keepBody(db: Db, eventId: string, body: string): Promise<void> {
  await sqlPool(db).query('UPDATE webhook_events SET body = $2 WHERE id = $1::uuid AND body IS NULL', [eventId, body]);
}

export interface RecordedAttempt {
  /** The delivery is over: it succeeded, or this was its last attempt. */
  final: boolean;
  /** Set when this attempt's failure disabled the endpoint. */
  disabledReason: string | null;
}

/**
 * Records attempt number `attempt` and what follows from it, in one transaction: the delivery
 * succeeded, failed for good (its last attempt), or waits for `retryAt`. A failed delivery counts
 * against its endpoint, which is disabled when `disableAfter` deliveries in a row have failed; a
 * success resets the count. An attempt recorded already (the same delivery run twice) changes
 * nothing.
 */
export async function recordAttempt(
  db: Db,
  input: {
    ctx: AttemptContext;
    attempt: number;
    startedAt: Date;
    result: SendResult;
    lastAttempt: boolean;
    retryAt: Date | null;
    disableAfter: number;
  },
): Promise<RecordedAttempt> {
  const { ctx, attempt, result } = input;
  const succeeded = result.error === null;
  const final = succeeded || input.lastAttempt;
  return sqlTransaction(db, async (client) => {
    const inserted = await client.query(
      `INSERT INTO webhook_attempts (id, delivery_id, attempt, started_at, duration_ms, status_code, error, response)
       VALUES (gen_random_uuid(), $1::uuid, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (delivery_id, attempt) DO NOTHING`,
      [ctx.deliveryId, attempt, input.startedAt, result.durationMs, result.statusCode, result.error, result.response],
    );
    if (inserted.rowCount !== 1) return { final, disabledReason: null };
    await client.query(
      `UPDATE webhook_deliveries
          SET attempts = $2, status = $3, last_error = $4, next_attempt_at = $5,
              finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
        WHERE id = $1::uuid AND status = 'pending'`,
      [
        ctx.deliveryId,
        attempt,
        succeeded ? 'succeeded' : final ? 'failed' : 'pending',
        result.error,
        final ? null : input.retryAt,
      ],
    );
    if (succeeded) {
      await client.query(
        'UPDATE webhook_endpoints SET failed_deliveries = 0 WHERE id = $1::uuid AND failed_deliveries <> 0',
        [ctx.endpointId],
      );
      return { final, disabledReason: null };
    }
    if (!final) return { final, disabledReason: null };
    const reason =
      `disabled after ${input.disableAfter} deliveries in a row failed all their attempts ` +
      `(WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES); the last one: ${result.error}`;
    const { rows } = await client.query<{ disabled_reason: string | null; newly: boolean }>(
      `UPDATE webhook_endpoints
          SET failed_deliveries = failed_deliveries + 1,
              disabled_at = CASE WHEN disabled_at IS NULL AND failed_deliveries + 1 >= $2 THEN now() ELSE disabled_at END,
              disabled_reason = CASE WHEN disabled_at IS NULL AND failed_deliveries + 1 >= $2 THEN $3 ELSE disabled_reason END,
              updated_at = now()
        WHERE id = $1::uuid
       RETURNING disabled_reason, (disabled_at IS NOT NULL AND disabled_reason = $3) AS newly`,
      [ctx.endpointId, input.disableAfter, reason],
    );
    return { final, disabledReason: rows[0]?.newly ? reason : null };
  });
}

/** Ends a delivery without an attempt: its endpoint was disabled since it was recorded. */
export async function abandonDelivery(db: Db, deliveryId: string, why: string): Promise<void> {
  await sqlPool(db).query(
    `UPDATE webhook_deliveries SET status = 'failed', last_error = $2, next_attempt_at = NULL, finished_at = now()
      WHERE id = $1::uuid AND status = 'pending'`,
    [deliveryId, why],
  );
}

/** Pending deliveries whose next attempt was due before `before`: the queue may have lost them. */
export async function overdueDeliveries(db: Db, before: Date, limit: number): Promise<string[]> {
  const { rows } = await sqlPool(db).query<{ id: string }>(
    `SELECT id FROM webhook_deliveries
      WHERE status = 'pending' AND enqueued_at IS NOT NULL AND next_attempt_at < $1
      ORDER BY next_attempt_at LIMIT $2`,
    [before, limit],
  );
  return rows.map((r) => r.id);
}

/** Removes events older than `before` with their deliveries and attempts, at most `limit` events a call. */
export async function removeEventsBefore(db: Db, before: Date, limit: number): Promise<number> {
  const { rowCount } = await sqlPool(db).query(
    `DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events WHERE created_at < $1 LIMIT $2)`,
    [before, limit],
  );
  return rowCount ?? 0;
}
