import { isDatabaseUnavailable } from '@cwo/db';
import { TimeoutError } from '../timeouts';

// Errors that mean "a service we depend on is down" (503), as opposed to our own bugs (500).
// Postgres's many forms are told apart in @cwo/db, which the runner shares.

export { isDatabaseUnavailable };

export function isDependencyTimeout(err: unknown): boolean {
  return err instanceof TimeoutError;
}
