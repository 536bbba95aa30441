import { z } from './zod';

// Previews (docs/previews.md): a project's workspace served as a site at an origin of its own, or
// its server run in a preview container and reached through the API.

const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-12-01T12:00:00.000Z' });

/** Longest preview command (run by `sh -c` in the preview container). */
export const PREVIEW_COMMAND_MAX_CHARS = 1000;

/** How to run what was built: a command that serves HTTP on a port, inside the preview container. */
export const PreviewSpec = z
  .object({
    command: z.string().trim().min(1).max(PREVIEW_COMMAND_MAX_CHARS),
    port: z.number().int().min(1).max(65535),
  })
  .openapi('PreviewSpec', { example: { command: 'node server.js', port: 3000 } });
export type PreviewSpec = z.infer<typeof PreviewSpec>;

/** POST /projects/{id}/preview: the server to start; without a body, the agent's or a static preview. */
export const PreviewStart = PreviewSpec.partial()
  .refine((v) => (v.command === undefined) === (v.port === undefined), {
    message: 'give command and port together, or neither',
    path: ['port'],
  })
  .openapi('PreviewStart');
export type PreviewStart = z.infer<typeof PreviewStart>;

export const PREVIEW_STATUSES = ['starting', 'running', 'stopped', 'failed'] as const;
export const PreviewStatus = z.enum(PREVIEW_STATUSES).openapi('PreviewStatus');
export type PreviewStatus = z.infer<typeof PreviewStatus>;

export const Preview = z
  .object({
    project_id: z.uuid(),
    /** static: the workspace's files as a site; server: the project's server in a preview container. */
    kind: z.enum(['static', 'server']),
    status: PreviewStatus,
    /** Open this. With AUTH_MODE=api_key it is a signed link that expires at `expires_at`. */
    preview_url: z.string(),
    expires_at: Timestamp.nullable(),
    command: z.string().nullable(),
    port: z.number().int().nullable(),
    started_at: Timestamp.nullable(),
    stopped_at: Timestamp.nullable(),
    /** Why it stopped or failed (idle, deleted, the workspace changed, the server exited…). */
    reason: z.string().nullable(),
    /** The end of the preview container's output (at most PREVIEW_LOG_MAX_BYTES kept). */
    log: z.string(),
  })
  .openapi('Preview');
export type Preview = z.infer<typeof Preview>;
