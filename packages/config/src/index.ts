import path from 'node:path';
import { z } from 'zod';

/** Booleans as the seed wrote them (True/False) and as shells do (1/0, yes/no). */
const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const s = v.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
      return z.NEVER;
    });

/** Comma-separated lists (the seed's CORS settings); a JSON array works too; "" is an empty list. */
const list = (fallback: string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return fallback;
      const s = v.trim();
      if (s === '') return [];
      if (s.startsWith('[')) {
        try {
          const parsed: unknown = JSON.parse(s);
          if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed.map((x) => x.trim());
        } catch {
          /* reported below */
        }
        ctx.addIssue({ code: 'custom', message: 'expected a comma-separated list or a JSON array of strings' });
        return z.NEVER;
      }
      return s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    });

const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const url = (fallback: string, protocols: string[]) =>
  z
    .string()
    .default(fallback)
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
    );

export const ConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(8000, 0, 65535),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  DATABASE_URL: url('postgresql://postgres@127.0.0.1:5432/codex_orchestrator', ['postgresql:', 'postgres:']),
  REDIS_URL: url('redis://127.0.0.1:6379', ['redis:', 'rediss:']),
  /** Prefix of every BullMQ key: lets test runs and several deployments share one Redis. */
  QUEUE_PREFIX: z.string().min(1).default('cwo'),
  WORKSPACE_ROOT: z.string().min(1).default('./workspaces'),
  API_V1_STR: z
    .string()
    .default('/api/v1')
    .refine((v) => v.startsWith('/') && !v.endsWith('/'), { message: 'expected a path like /api/v1' }),
  ALLOW_ORIGINS: list(['http://localhost:3000', 'http://127.0.0.1:3000']),
  ALLOW_METHODS: list(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']),
  ALLOW_HEADERS: list(['Authorization', 'Content-Type']),
  ALLOW_CREDENTIALS: bool(false),
  BULL_BOARD_ENABLED: bool(false),
  /** Largest file returned as JSON `{path, contents}`; larger or binary files come raw. */
  MAX_TEXT_FILE_BYTES: int(1024 * 1024, 1),
  // The runner.
  USE_DUMMY_WORKER: bool(true),
  CODEX_WORKER_IMAGE: z.string().min(1).default('codex-worker:latest'),
  RUNNER_CONCURRENCY: int(2, 1, 256),
  JOB_TIMEOUT_SECONDS: int(1800, 1),
  RUNNER_MAX_ATTEMPTS: int(3, 1, 100),
  RECONCILE_INTERVAL_SECONDS: int(30, 1),
  SHUTDOWN_GRACE_SECONDS: int(30, 0),
});

export type Config = z.infer<typeof ConfigSchema> & {
  /** WORKSPACE_ROOT made absolute. */
  workspaceRoot: string;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the configuration from the environment. A wrong value throws a ConfigError naming each
 * variable and what was expected; entry points print it and exit.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = i.path.join('.');
        const raw = env[name];
        return `${name}: ${i.message}${raw !== undefined ? ` (got "${raw}")` : ''}`;
      }),
    );
  }
  return { ...parsed.data, workspaceRoot: path.resolve(cwd, parsed.data.WORKSPACE_ROOT) };
}
