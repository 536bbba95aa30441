import { randomUUID } from 'node:crypto';
import type { Webhook, WebhookCreate, WebhookEventType } from '@cwo/contracts';
import { isUuid } from '@cwo/jobs';
import { sqlPool, sqlTransaction, type Db } from '@cwo/db';
import { generateSecret } from './signature';

// A user's endpoints, as the API manages them. Every query is scoped by the owner: another
// user's endpoint reads as missing, exactly like one that never existed (as projects do).

/** How many endpoints one user may have: each one multiplies every event's deliveries. */
export const MAX_ENDPOINTS_PER_USER = 20;

/** How long the secret before a rotation keeps signing deliveries beside the new one. */
export const ROTATION_GRACE_MS = 24 * 3600 * 1000;

interface EndpointRow {
  id: string;
  url: string;
  events: string[];
  created_at: Date;
  updated_at: Date;
  failed_deliveries: number;
  disabled_at: Date | null;
  disabled_reason: string | null;
}

const COLUMNS = 'id, url, events, created_at, updated_at, failed_deliveries, disabled_at, disabled_reason';

export function toWebhook(row: EndpointRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    events: row.events as WebhookEventType[],
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    failed_deliveries: row.failed_deliveries,
    disabled_at: row.disabled_at?.toISOString() ?? null,
    disabled_reason: row.disabled_reason,
  };
}

export type CreateEndpointResult =
  { kind: 'created'; endpoint: Webhook; secret: string } | { kind: 'limit_reached'; limit: number };

/** A new endpoint of the owner with a fresh secret (returned once), unless they have too many. */
export async function createEndpoint(db: Db, ownerId: string, input: WebhookCreate): Promise<CreateEndpointResult> {
  const secret = generateSecret();
  return sqlTransaction(db, async (client) => {
    // Concurrent creations of one owner count one after the other.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints:' || $1::text))`, [ownerId]);
    const { rows } = await client.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (id, owner_id, url, events, secret, updated_at)
       SELECT $1::uuid, $2::uuid, $3, $4::text[], $5, now()
        WHERE (SELECT count(*) FROM webhook_endpoints WHERE owner_id = $2::uuid) < $6
       RETURNING ${COLUMNS}`,
      [randomUUID(), ownerId, input.url, input.events, secret, MAX_ENDPOINTS_PER_USER],
    );
    const row = rows[0];
    return row
      ? { kind: 'created', endpoint: toWebhook(row), secret }
      : { kind: 'limit_reached', limit: MAX_ENDPOINTS_PER_USER };
  });
}

export async function listEndpoints(db: Db, ownerId: string): Promise<Webhook[]> {
  const { rows } = await sqlPool(db).query<EndpointRow>(
    `SELECT ${COLUMNS} FROM webhook_endpoints WHERE owner_id = $1::uuid ORDER BY created_at, id`,
    [ownerId],
  );
  return rows.map(toWebhook);
}

export async function findEndpoint(db: Db, ownerId: string, id: string): Promise<Webhook | null> {
  if (!isUuid(id)) return null;
  const { rows } = await sqlPool(db).query<EndpointRow>(
    `SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1::uuid AND owner_id = $2::uuid`,
    [id, ownerId],
  );
  return rows[0] ? toWebhook(rows[0]) : null;
}

/** Removes the endpoint, its deliveries and their attempts; false when the owner has no such endpoint. */
export async function deleteEndpoint(db: Db, ownerId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rowCount } = await sqlPool(db).query(
    'DELETE FROM webhook_endpoints WHERE id = $1::uuid AND owner_id = $2::uuid',
    [id, ownerId],
  );
  return rowCount === 1;
}

/**
 * A new secret (returned once). The previous one keeps signing deliveries beside it for
 * ROTATION_GRACE_MS, so receivers can switch without losing a delivery.
 */
export async function rotateSecret(
  db: Db,
  ownerId: string,
  id: string,
): Promise<{ endpoint: Webhook; secret: string } | null> {
  if (!isUuid(id)) return null;
  const secret = generateSecret();
  const { rows } = await sqlPool(db).query<EndpointRow>(
    `UPDATE webhook_endpoints
        SET previous_secret = secret, previous_secret_expires_at = now() + $4 * interval '1 millisecond',
            secret = $3, updated_at = now()
      WHERE id = $1::uuid AND owner_id = $2::uuid
     RETURNING ${COLUMNS}`,
    [id, ownerId, secret, ROTATION_GRACE_MS],
  );
  return rows[0] ? { endpoint: toWebhook(rows[0]), secret } : null;
}

/** Enables a disabled endpoint again, its count of failed deliveries back to 0. */
export async function enableEndpoint(db: Db, ownerId: string, id: string): Promise<Webhook | null> {
  if (!isUuid(id)) return null;
  const { rows } = await sqlPool(db).query<EndpointRow>(
    `UPDATE webhook_endpoints
        SET disabled_at = NULL, disabled_reason = NULL, failed_deliveries = 0, updated_at = now()
      WHERE id = $1::uuid AND owner_id = $2::uuid
     RETURNING ${COLUMNS}`,
    [id, ownerId],
  );
  return rows[0] ? toWebhook(rows[0]) : null;
}
