import winston from 'winston';

export type Logger = winston.Logger;

const SECRET_KEY = /(pass(word)?|secret|token|api[_-]?key|authorization|cookie|credential)/i;
// Values that look like secrets wherever they appear: OpenAI-style keys, bearer tokens, URL passwords.
const SECRET_VALUES: Array<[RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_-]{8,}/g, 'sk-[REDACTED]'],
  // Our own API keys (cwo_<prefix>_<secret>): the prefix stays, so a key can still be told apart.
  [/\b(cwo_[A-Za-z0-9]{8})_[A-Za-z0-9_-]{20,}/g, '$1_[REDACTED]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [REDACTED]'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^@\s/]+@/gi, '$1[REDACTED]@'],
];

export const REDACTED = '[REDACTED]';

export function redactString(s: string): string {
  return SECRET_VALUES.reduce((acc, [re, rep]) => acc.replace(re, rep), s);
}

/** Deep copy with secret-looking keys and values replaced; used on every log entry. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { name: value.name, message: redactString(value.message), stack: value.stack && redactString(value.stack) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY.test(k) && v !== undefined && v !== null && typeof v !== 'boolean' ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

const redaction = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const v = info[key];
    info[key] = SECRET_KEY.test(key) && typeof v !== 'boolean' && v != null ? REDACTED : redact(v);
  }
  return info;
});

export interface LoggerOptions {
  level?: string;
  /** JSON lines for machines (production); coloured single lines for people (development). */
  format?: 'json' | 'pretty';
  service?: string;
  /** Where to write; defaults to the console (stdout). Tests pass their own stream. */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const pretty = opts.format === 'pretty';
  return winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent,
    defaultMeta: opts.service ? { service: opts.service } : undefined,
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      redaction(),
      winston.format.timestamp(),
      pretty
        ? winston.format.combine(
            winston.format.colorize(),
            winston.format.printf(({ timestamp, level, message, service, stack, ...rest }) => {
              const meta = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
              const where = typeof service === 'string' ? service : 'app';
              const trace = typeof stack === 'string' ? `\n${stack}` : '';
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
