import { Prisma } from '@cwo/db';
import { TimeoutError } from '../timeouts';

// Errors that mean "a service we depend on is down" (503), as opposed to our own bugs (500).

// Prisma: can't reach, timed out, connection pool exhausted, server closed the connection.
const PRISMA_UNAVAILABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
// The pg driver adapter's error kinds for the same situations.
const ADAPTER_UNAVAILABLE = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);
// Postgres itself: shutting down, starting up, out of connections.
const POSTGRES_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE']);

interface AdapterCause {
  kind?: string;
  code?: string;
}

export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (PRISMA_UNAVAILABLE.has(err.code)) return true;
    const cause = (err.meta as { driverAdapterError?: { cause?: AdapterCause } } | undefined)?.driverAdapterError
      ?.cause;
    return !!cause && (ADAPTER_UNAVAILABLE.has(cause.kind ?? '') || POSTGRES_UNAVAILABLE.has(cause.code ?? ''));
  }
  if (err instanceof Prisma.PrismaClientInitializationError) return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && SOCKET_ERRORS.has(code);
}

export function isDependencyTimeout(err: unknown): boolean {
  return err instanceof TimeoutError;
}
