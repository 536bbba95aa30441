import { Prisma } from '../generated/client';

// Errors that mean "Postgres is down, restarting or unreachable" (worth a 503, or a retry later),
// as opposed to a bug or a bad statement. They come in three forms: Prisma's own error codes, the
// pg driver adapter's error kinds, and the pg driver's errors as they are (SQLSTATE codes, socket
// codes, or, for its own timeouts and dead connections, only a message).

// Prisma: can't reach, timed out, connection pool exhausted, server closed the connection.
const PRISMA_UNAVAILABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
// The pg driver adapter's error kinds for the same situations.
const ADAPTER_UNAVAILABLE = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);
// Postgres: shutting down or ended by an administrator, crash recovery, starting up, out of
// connections; class 08 is "connection exception".
const POSTGRES_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const SOCKET_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);
// The pg driver and pool name these only in the message.
const PG_MESSAGES = [
  /^timeout exceeded when trying to connect$/,
  /^Connection terminated/, // unexpectedly, due to connection timeout
  /^Query read timeout$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
];

interface Inspectable {
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  meta?: { driverAdapterError?: { cause?: unknown } };
}

function unavailableHere(err: Inspectable): boolean {
  if (err instanceof Prisma.PrismaClientInitializationError) return true;
  if (err instanceof Prisma.PrismaClientKnownRequestError && PRISMA_UNAVAILABLE.has(err.code)) return true;
  if (typeof err.kind === 'string' && ADAPTER_UNAVAILABLE.has(err.kind)) return true;
  if (typeof err.code === 'string' && (POSTGRES_UNAVAILABLE.has(err.code) || SOCKET_ERRORS.has(err.code))) return true;
  return typeof err.message === 'string' && PG_MESSAGES.some((m) => m.test(err.message as string));
}

/** True when `err` (or what it wraps) says Postgres cannot be reached or cannot serve now. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 5) return false;
  const e = err as Inspectable;
  if (unavailableHere(e)) return true;
  const inner = [e.cause, e.meta?.driverAdapterError, e.meta?.driverAdapterError?.cause];
  if (Array.isArray(e.errors)) inner.push(...(e.errors as unknown[]));
  return inner.some((i) => i !== e && isDatabaseUnavailable(i, depth + 1));
}
