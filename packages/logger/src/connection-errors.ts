import type { Logger } from 'winston';

/** How long the same message from one connection is not logged again. */
const REPEAT_AFTER_MS = 30_000;

/**
 * A listener for a connection's 'error' events (Postgres, Redis) that logs each distinct message
 * once per half-minute instead of on every reconnect attempt. Listening at all is what matters:
 * an 'error' event nobody listens to kills the process.
 */
export function connectionErrorLogger(logger: Logger, source: string): (err: Error) => void {
  const lastLogged = new Map<string, number>();
  return (err) => {
    const message = err?.message || String(err);
    const now = Date.now();
    if (now - (lastLogged.get(message) ?? -Infinity) < REPEAT_AFTER_MS) return;
    if (lastLogged.size > 100) lastLogged.clear();
    lastLogged.set(message, now);
    logger.warn(`${source}: connection problem`, { error: message });
  };
}
