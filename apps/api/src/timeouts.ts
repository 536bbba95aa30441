/**
 * How long a request waits on Redis or Postgres before answering 503. Their clients queue
 * commands while reconnecting instead of failing, so every call a request waits on is bounded.
 */
export const DEPENDENCY_TIMEOUT_MS = 2000;

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
