import { createHash } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { Config } from '@cwo/config';
import { redisConnection } from '@cwo/queue';

// The webhooks' own BullMQ queue, beside the jobs' one: a slow or failing receiver never holds a
// job. It carries only delivery ids (nothing of the payload, no secret); Postgres has the rest.

export const WEBHOOKS_QUEUE_NAME = 'webhooks';
export const DELIVER = 'deliver';
/** The backoff type whose delays the dispatcher computes (retryDelayMs), not BullMQ. */
export const WEBHOOK_BACKOFF = 'webhook';

export interface DeliveryPayload {
  deliveryId: string;
}
export type WebhooksQueue = Queue<DeliveryPayload>;

export function createWebhooksQueue(
  config: Pick<Config, 'REDIS_URL' | 'QUEUE_PREFIX'>,
  connectionOverrides: Record<string, unknown> = {},
): WebhooksQueue {
  return new Queue<DeliveryPayload>(WEBHOOKS_QUEUE_NAME, {
    connection: redisConnection(config.REDIS_URL, connectionOverrides),
    prefix: config.QUEUE_PREFIX,
  });
}

/**
 * The BullMQ job of a delivery: its id is the delivery's, so relaying it twice is harmless. The
 * database says when a delivery is over (its attempts are counted there); BullMQ's attempts are
 * only the bound behind it.
 */
export function deliveryJobOptions(config: Pick<Config, 'WEBHOOK_MAX_ATTEMPTS'>, deliveryId: string): JobsOptions {
  return {
    jobId: deliveryId,
    attempts: config.WEBHOOK_MAX_ATTEMPTS,
    backoff: { type: WEBHOOK_BACKOFF },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/**
 * The delay before attempt `attempt + 1`, after attempt number `attempt` failed: the base doubled
 * at each attempt (40 s, 80 s, 160 s, … with the defaults: 12 attempts span about a day, 23-27 h), plus
 * up to 20% of jitter derived from the delivery's id, so that the deliveries one outage failed do
 * not all come back at the same second, and a delay computed twice is the same.
 */
export function retryDelayMs(baseSeconds: number, attempt: number, deliveryId: string): number {
  const exponential = baseSeconds * 1000 * 2 ** (attempt - 1);
  const spread = createHash('sha256').update(`${deliveryId}:${attempt}`).digest().readUInt16BE(0) / 0xffff;
  return Math.round(exponential * (1 + 0.2 * spread));
}
