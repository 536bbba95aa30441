import { z } from './zod';

// Signing in to the web app (docs/http-api.md, "Authentication"): an API key exchanged for a
// session cookie, so that the page never holds the key.

const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-12-01T20:00:00.000Z' });

/** POST /session: the API key to sign in with. */
export const SessionCreate = z
  .object({ api_key: z.string().min(1).max(200) })
  .openapi('SessionCreate', { example: { api_key: 'cwo_AbCdEfGh_…' } });
export type SessionCreate = z.infer<typeof SessionCreate>;

/** Who is calling, and how: GET /session (and POST /session once signed in). */
export const SessionInfo = z
  .object({
    auth_mode: z.enum(['api_key', 'none']),
    user: z.object({ id: z.uuid(), name: z.string() }),
    /** The key the caller uses (directly or through the session); null with AUTH_MODE=none. */
    api_key: z.object({ id: z.uuid(), prefix: z.string(), name: z.string(), is_admin: z.boolean() }).nullable(),
    /** cookie: a session of the web app; bearer: an Authorization header; none: AUTH_MODE=none. */
    via: z.enum(['cookie', 'bearer', 'none']),
    /** When the session ends (cookie only). */
    expires_at: Timestamp.nullable(),
  })
  .openapi('SessionInfo');
export type SessionInfo = z.infer<typeof SessionInfo>;
