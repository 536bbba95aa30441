/**
 * How long a request waits on Redis or Postgres before answering 503. Their clients queue
 * commands while reconnecting instead of failing, so every call a request waits on is bounded.
 */
export const DEPENDENCY_TIMEOUT_MS = 2000;

/** How long a request waits for a new Postgres connection (Postgres down or unreachable). */
export const DATABASE_CONNECT_TIMEOUT_MS = 3000;

/**
 * How long one query may take before it is abandoned (and its connection dropped): the API's
 * queries take milliseconds, so only a Postgres that hangs gets near it.
 */
export const DATABASE_QUERY_TIMEOUT_MS = 5000;

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * The promise's outcome, or a TimeoutError after `ms`. The late outcome of the original promise
 * is swallowed (nobody waits for it any more).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
