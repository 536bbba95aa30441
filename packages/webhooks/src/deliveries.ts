import { randomUUID } from 'node:crypto';
import type { DeliveryListQuery, DeliveryStatus, WebhookDelivery, WebhookEventType } from '@cwo/contracts';
import { sqlPool, type Db } from '@cwo/db';
import { isUuid } from '@cwo/jobs';

// What the API shows of an endpoint's deliveries, and redelivery on request. A redelivery is a
// new delivery of the same event (same webhook-id, so a receiver that already processed it can
// tell), written to the outbox like any other: the runners' relay sends it.

interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  status: string;
  created_at: Date;
  finished_at: Date | null;
  next_attempt_at: Date | null;
  last_error: string | null;
  attempts: Array<{
    attempt: number;
    at: string;
    status_code: number | null;
    latency_ms: number;
    error: string | null;
    response: string | null;
  }>;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    event_id: row.event_id,
    event_type: row.event_type as WebhookEventType,
    status: row.status as DeliveryStatus,
    created_at: row.created_at.toISOString(),
    finished_at: iso(row.finished_at),
    next_attempt_at: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    error: row.status === 'failed' ? row.last_error : null,
    attempts: row.attempts.map((a) => ({ ...a, at: iso(a.at)! })),
  };
}

const DELIVERY_SELECT = `
  SELECT d.id, d.event_id, e.type AS event_type, d.status, d.created_at, d.finished_at, d.next_attempt_at, d.last_error,
         COALESCE((SELECT json_agg(json_build_object(
                     'attempt', a.attempt, 'at', a.started_at, 'status_code', a.status_code,
                     'latency_ms', a.duration_ms, 'error', a.error, 'response', a.response) ORDER BY a.attempt)
                     FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]'::json) AS attempts
    FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id`;

/** The endpoint's deliveries, newest first, each with its attempts; null when the owner has no such endpoint. */
export async function listDeliveries(
  db: Db,
  ownerId: string,
  endpointId: string,
  page: DeliveryListQuery,
): Promise<{ items: WebhookDelivery[]; total: number } | null> {
  if (!isUuid(endpointId)) return null;
  const pool = sqlPool(db);
  const owned = await pool.query<{ total: number }>(
    `SELECT (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = w.id)::int AS total
       FROM webhook_endpoints w WHERE w.id = $1::uuid AND w.owner_id = $2::uuid`,
    [endpointId, ownerId],
  );
  if (!owned.rows[0]) return null;
  const { rows } = await pool.query<DeliveryRow>(
    `${DELIVERY_SELECT}
      WHERE d.endpoint_id = $1::uuid
      ORDER BY d.created_at DESC, d.id
      LIMIT $2 OFFSET $3`,
    [endpointId, page.limit, page.offset],
  );
  return { items: rows.map(toDelivery), total: owned.rows[0].total };
}

export type RedeliverResult =
  | { kind: 'queued'; delivery: WebhookDelivery }
  | { kind: 'not_found'; what: 'endpoint' | 'delivery' }
  | { kind: 'disabled'; reason: string | null };

/** Sends a delivery's event to its endpoint again, as a new delivery with attempts of its own. */
export async function redeliver(
  db: Db,
  ownerId: string,
  endpointId: string,
  deliveryId: string,
): Promise<RedeliverResult> {
  if (!isUuid(endpointId)) return { kind: 'not_found', what: 'endpoint' };
  const pool = sqlPool(db);
  const endpoint = await pool.query<{ disabled: boolean; reason: string | null }>(
    `SELECT disabled_at IS NOT NULL AS disabled, disabled_reason AS reason
       FROM webhook_endpoints WHERE id = $1::uuid AND owner_id = $2::uuid`,
    [endpointId, ownerId],
  );
  const found = endpoint.rows[0];
  if (!found) return { kind: 'not_found', what: 'endpoint' };
  if (found.disabled) return { kind: 'disabled', reason: found.reason };
  if (!isUuid(deliveryId)) return { kind: 'not_found', what: 'delivery' };
  const id = randomUUID();
  const inserted = await pool.query(
    `INSERT INTO webhook_deliveries (id, event_id, endpoint_id)
     SELECT $1::uuid, event_id, endpoint_id FROM webhook_deliveries WHERE id = $2::uuid AND endpoint_id = $3::uuid`,
    [id, deliveryId, endpointId],
  );
  if (inserted.rowCount !== 1) return { kind: 'not_found', what: 'delivery' };
  const { rows } = await pool.query<DeliveryRow>(`${DELIVERY_SELECT} WHERE d.id = $1::uuid`, [id]);
  return { kind: 'queued', delivery: toDelivery(rows[0]!) };
}
