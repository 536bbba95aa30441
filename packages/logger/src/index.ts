import type { WriteStream } from 'node:tty';
import winston from 'winston';
import { MAX_MESSAGE_CHARS, summarizeError } from './error-summary';

export { errorLine, summarizeError, type ErrorSummary } from './error-summary';

export type Logger = winston.Logger;

const SECRET_KEY =
  /(pass(word)?|secret|token|api[_-]?key|ssh[_-]?key|private[_-]?key|authorization|cookie|credential)/i;
// Values that look like secrets wherever they appear: OpenAI-style keys, bearer tokens, URL passwords.
const SECRET_VALUES: Array<[RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_-]{8,}/g, 'sk-[REDACTED]'],
  // Our own API keys (cwo_<prefix>_<secret>): the prefix stays, so a key can still be told apart.
  [/\b(cwo_[A-Za-z0-9]{8})_[A-Za-z0-9_-]{20,}/g, '$1_[REDACTED]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [REDACTED]'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^@\s/]+@/gi, '$1[REDACTED]@'],
  // A private key (an import's or push's ssh deploy key) pasted whole, armour lines kept.
  [/(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----)/g, '$1 [REDACTED] $2'],
];

export const REDACTED = '[REDACTED]';

export function redactString(s: string): string {
  return SECRET_VALUES.reduce((acc, [re, rep]) => acc.replace(re, rep), s);
}

/** The longest string a log entry carries in one field; what a person can read, not a dump. */
export const MAX_FIELD_CHARS = 4 * MAX_MESSAGE_CHARS;

const clipField = (s: string) =>
  s.length > MAX_FIELD_CHARS ? `${s.slice(0, MAX_FIELD_CHARS)}… (${s.length - MAX_FIELD_CHARS} more characters)` : s;

/**
 * Deep copy with secret-looking keys and values replaced, errors as their summary (message, code,
 * a short stack) and long strings cut; used on every log entry.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(clipField(value));
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redact(summarizeError(value), depth + 1);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY.test(k) && v !== undefined && v !== null && typeof v !== 'boolean' ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

/** winston's key for the arguments after the message (triple-beam's SPLAT). */
const SPLAT = Symbol.for('splat');

/**
 * An error handed to the logger itself (`logger.error(err)`, `logger.warn('text', err)`) becomes
 * its summary, as an error inside the metadata does (winston would copy its whole text and stack).
 */
const errorsAsSummaries = winston.format((info, options: unknown) => {
  const keep = (options as { keep?: string[] } | undefined)?.keep ?? [];
  const err =
    info instanceof Error
      ? info
      : info.message instanceof Error
        ? info.message
        : (info as unknown as Record<symbol, unknown[] | undefined>)[SPLAT]?.[0];
  if (!(err instanceof Error)) return info;
  const { message, ...rest } = summarizeError(err);
  let text = message;
  if ((err as unknown) !== info && err !== info.message && typeof info.message === 'string') {
    // winston appended the error's message to ours: keep ours, then the summary's.
    const own = info.message.endsWith(` ${err.message}`)
      ? info.message.slice(0, -err.message.length - 1)
      : info.message;
    text = `${own}: ${message}`;
  }
  const out: winston.Logform.TransformableInfo = { level: info.level, message: text, error: rest };
  const fromError = (key: string) =>
    Object.hasOwn(err, key) && (err as unknown as Record<string, unknown>)[key] === info[key];
  for (const key of Object.keys(info)) {
    if (['message', 'stack', 'cause', 'level', 'name'].includes(key)) continue;
    // The error's own fields are in its summary; the logger's default fields (service) stay.
    if (keep.includes(key) || !fromError(key)) out[key] = info[key];
  }
  for (const symbol of Object.getOwnPropertySymbols(info)) {
    (out as unknown as Record<symbol, unknown>)[symbol] = (info as unknown as Record<symbol, unknown>)[symbol];
  }
  return out;
});

const redaction = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const v = info[key];
    info[key] = SECRET_KEY.test(key) && typeof v !== 'boolean' && v != null ? REDACTED : redact(v);
  }
  return info;
});

export interface LoggerOptions {
  level?: string;
  /** JSON lines for machines (production); single lines for people (development). */
  format?: 'json' | 'pretty';
  service?: string;
  /** Where to write; defaults to the console (stdout). Tests pass their own stream. */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
  /**
   * Colour the level names of the pretty format. By default only when writing to a terminal
   * (never into a file or a pipe) and NO_COLOR is not set.
   */
  colors?: boolean;
}

/** A terminal that shows colours: not a file, not a pipe, not NO_COLOR (no-color.org). */
export function colorsByDefault(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return (stream as Partial<WriteStream>).isTTY === true && !env.NO_COLOR;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const pretty = opts.format === 'pretty';
  const colors = opts.colors ?? colorsByDefault(opts.stream ?? process.stdout);
  const defaultMeta = opts.service ? { service: opts.service } : undefined;
  return winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent,
    defaultMeta,
    format: winston.format.combine(
      errorsAsSummaries({ keep: Object.keys(defaultMeta ?? {}) }),
      redaction(),
      winston.format.timestamp(),
      pretty
        ? winston.format.combine(
            ...(colors ? [winston.format.colorize()] : []),
            winston.format.printf(({ timestamp, level, message, service, ...rest }) => {
              // An error's frames go on the lines below, indented; the rest of it stays on the line.
              const error = rest.error as { stack?: unknown } | undefined;
              const trace = typeof error?.stack === 'string' ? `\n    ${error.stack.split('\n').join('\n    ')}` : '';
              if (trace) rest.error = { ...error, stack: undefined };
              const meta = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
              const where = typeof service === 'string' ? service : 'app';
              return `${String(timestamp)} ${level} [${where}] ${String(message)}${meta}${trace}`;
            }),
          )
        : winston.format.json(),
    ),
    transports: [
      opts.stream ? new winston.transports.Stream({ stream: opts.stream }) : new winston.transports.Console(),
    ],
  });
}

/** The format each environment logs in: JSON in production, readable elsewhere. */
export function logFormatFor(nodeEnv: string): 'json' | 'pretty' {
  return nodeEnv === 'production' ? 'json' : 'pretty';
}
export { connectionErrorLogger } from './connection-errors';
