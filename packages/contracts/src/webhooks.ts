import { z } from './zod';
import { Status } from './enums';
import { JobDetail, ProjectSummary } from './responses';

// Webhooks (docs/webhooks.md): what a user registers, what the API shows of it, and what a
// receiver gets, signed as the Standard Webhooks specification says.

const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-12-01T10:00:00.000Z' });

/** What can happen that a receiver is told about. */
export const WEBHOOK_EVENT_TYPES = [
  'job.queued',
  'job.started',
  'job.completed',
  'job.failed',
  'job.cancelled',
  'project.deleted',
] as const;
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES).openapi('WebhookEventType', {
  description:
    '`job.queued`: a job was created. `job.started`: an attempt of it started (`attempts` counts them). ' +
    '`job.completed`, `job.failed` (status error), `job.cancelled`: it ended. `project.deleted`: a project ' +
    'was deleted, with the jobs that were still queued or running.',
});
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** Longest URL an endpoint may have. */
export const WEBHOOK_URL_MAX_CHARS = 2048;

export const WebhookCreate = z
  .object({
    url: z
      .string()
      .trim()
      .min(1, { message: 'url must not be empty' })
      .max(WEBHOOK_URL_MAX_CHARS, { message: `String should have at most ${WEBHOOK_URL_MAX_CHARS} characters` })
      .openapi({ example: 'https://ci.example.com/hooks/codex' }),
    events: z
      .array(WebhookEventType)
      .min(1, { message: 'List should have at least 1 item' })
      .max(WEBHOOK_EVENT_TYPES.length * 4)
      // Each type once, in the order of WEBHOOK_EVENT_TYPES.
      .transform((types) => WEBHOOK_EVENT_TYPES.filter((t) => types.includes(t))),
  })
  .openapi('WebhookCreate', {
    example: { url: 'https://ci.example.com/hooks/codex', events: ['job.completed', 'job.failed'] },
  });
export type WebhookCreate = z.infer<typeof WebhookCreate>;

export const Webhook = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(WebhookEventType),
    created_at: Timestamp,
    updated_at: Timestamp,
    /** Deliveries in a row that failed after all their attempts (a success resets it). */
    failed_deliveries: z.number().int().nonnegative(),
    /** Set when the endpoint was disabled for failing; null while it is enabled. */
    disabled_at: Timestamp.nullable(),
    /** Why it was disabled. */
    disabled_reason: z.string().nullable(),
  })
  .openapi('Webhook');
export type Webhook = z.infer<typeof Webhook>;

/** The answer to creating an endpoint or rotating its secret: the only time the secret is shown. */
export const WebhookWithSecret = Webhook.extend({
  secret: z
    .string()
    .openapi({ description: 'The signing secret (Standard Webhooks `whsec_…`): shown only now; keep it.' }),
}).openapi('WebhookWithSecret');
export type WebhookWithSecret = z.infer<typeof WebhookWithSecret>;

export const WebhookList = z.object({ items: z.array(Webhook) }).openapi('WebhookList');
export type WebhookList = z.infer<typeof WebhookList>;

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export const DeliveryStatus = z.enum(DELIVERY_STATUSES).openapi('WebhookDeliveryStatus');
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const WebhookAttempt = z
  .object({
    attempt: z.number().int().min(1),
    at: Timestamp,
    /** The receiver's HTTP status; null when no answer came. */
    status_code: z.number().int().nullable(),
    latency_ms: z.number().int().nonnegative(),
    /** Why it failed (refused target, timeout, connection error, a non-2xx status); null on success. */
    error: z.string().nullable(),
    /** The start of the receiver's answer (at most 1 KB). */
    response: z.string().nullable(),
  })
  .openapi('WebhookAttempt');
export type WebhookAttempt = z.infer<typeof WebhookAttempt>;

export const WebhookDelivery = z
  .object({
    id: z.uuid(),
    /** The event's id: the `webhook-id` header of every attempt (receivers drop repeats by it). */
    event_id: z.uuid(),
    event_type: WebhookEventType,
    status: DeliveryStatus,
    created_at: Timestamp,
    finished_at: Timestamp.nullable(),
    next_attempt_at: Timestamp.nullable(),
    /** Why the delivery failed: its last attempt's error, or why it was never sent (its endpoint was disabled). */
    error: z.string().nullable(),
    attempts: z.array(WebhookAttempt),
  })
  .openapi('WebhookDelivery');
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const WebhookDeliveryList = z
  .object({
    items: z.array(WebhookDelivery),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  })
  .openapi('WebhookDeliveryList');
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryList>;

export const DeliveryListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .openapi('WebhookDeliveryListQuery');
export type DeliveryListQuery = z.infer<typeof DeliveryListQuery>;

// What a receiver gets: `{type, timestamp, data}`, as the Standard Webhooks specification
// recommends.

export const DiffStats = z
  .object({
    files_changed: z.number().int().nonnegative(),
    insertions: z.number().int().nonnegative(),
    deletions: z.number().int().nonnegative(),
  })
  .openapi('DiffStats');
export type DiffStats = z.infer<typeof DiffStats>;

/**
 * A job event's data: the job detail as it was when the event happened (its error_code, usage
 * and duration_seconds included) and the stats of its commit's diff; queue_position is left out,
 * since it would be stale by the time it arrives.
 */
export const WebhookJobData = JobDetail.omit({ queue_position: true })
  .extend({
    /** The job's commit against the previous one; null when it has none (yet). */
    diff_stats: z.union([DiffStats, z.null()]),
  })
  .openapi('WebhookJobData');
export type WebhookJobData = z.infer<typeof WebhookJobData>;

export const WebhookProjectDeletedData = ProjectSummary.extend({
  /** The jobs that were still queued or running: they will never finish, nor be announced. */
  stopped_jobs: z.array(z.object({ id: z.uuid(), status: Status })),
}).openapi('WebhookProjectDeletedData');
export type WebhookProjectDeletedData = z.infer<typeof WebhookProjectDeletedData>;

const jobEvent = <T extends WebhookEventType>(type: T) =>
  z.object({ type: z.literal(type), timestamp: Timestamp, data: WebhookJobData });

export const WebhookPayload = z
  .discriminatedUnion('type', [
    jobEvent('job.queued'),
    jobEvent('job.started'),
    jobEvent('job.completed'),
    jobEvent('job.failed'),
    jobEvent('job.cancelled'),
    z.object({ type: z.literal('project.deleted'), timestamp: Timestamp, data: WebhookProjectDeletedData }),
  ])
  .openapi('WebhookPayload');
export type WebhookPayload = z.infer<typeof WebhookPayload>;
