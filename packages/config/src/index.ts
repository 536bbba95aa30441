import path from 'node:path';
import { z } from 'zod';
import { defaultEgressAllow, parseEgressAllow } from '@cwo/contracts';

/** Booleans as Python writes them (True/False) and as shells do (1/0, yes/no). */
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

/** HISTORY_IGNORE's default: dependency and cache folders, at any depth. */
export const DEFAULT_HISTORY_IGNORE = [
  'node_modules/',
  '.venv/',
  '__pycache__/',
  '.pytest_cache/',
  '.mypy_cache/',
  '.ruff_cache/',
  '.tox/',
  '.gradle/',
  '.next/',
  '.turbo/',
  '.parcel-cache/',
];

/** Comma-separated lists (the CORS settings); a JSON array works too; "" is an empty list. */
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

/** A boolean that may be left unset, for settings whose default depends on others. */
const optionalBool = () =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const s = v.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
      return z.NEVER;
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

/** Sizes as Docker writes them: "512m", "2g", "1.5g", or bytes; parsed to bytes. */
const byteSize = (fallback: string, minBytes: number) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(v.trim());
      const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m?.[2] ?? '').toLowerCase()];
      const bytes = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
      if (!Number.isFinite(bytes) || bytes < minBytes) {
        ctx.addIssue({ code: 'custom', message: `expected a size like 512m or 2g, at least ${minBytes / 1024 ** 2}m` });
        return z.NEVER;
      }
      return bytes;
    });

/** A string that may be unset; empty counts as unset (compose passes `${X:-}` as ""). */
const optionalText = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v));

/** Why a PREVIEW_BASE_URL cannot be used, or null when it can. */
function previewTemplateProblem(template: string): string | null {
  let url: URL;
  try {
    url = new URL(template.replaceAll('{projectId}', 'p'));
  } catch {
    return 'not a URL';
  }
  if (!['http:', 'https:'].includes(url.protocol)) return 'not http(s)';
  if (!/^[^/]*\{projectId\}/.test(template.replace(/^https?:\/\//, ''))) return 'no {projectId} in the host name';
  if (url.pathname !== '/' || url.search || url.hash || url.username) return 'more than an origin';
  return null;
}

/** Names of environment variables (WORKER_ENV_PASSTHROUGH). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const ConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: int(8000, 0, 65535),
    /** The API's listening address; unset: 127.0.0.1 with AUTH_MODE=none, 0.0.0.0 with api_key. */
    HOST: optionalText(),
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
    ALLOW_METHODS: list(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']),
    ALLOW_HEADERS: list(['Authorization', 'Content-Type']),
    ALLOW_CREDENTIALS: bool(false),
    /** Unset: on with AUTH_MODE=none on a loopback HOST, off with api_key (apps/api/src/admin/board-setting.ts). */
    BULL_BOARD_ENABLED: optionalBool(),
    /** Largest file returned as JSON `{path, contents}`; larger or binary files come raw. */
    MAX_TEXT_FILE_BYTES: int(1024 * 1024, 1),
    // The runner.
    USE_DUMMY_WORKER: bool(true),
    CODEX_WORKER_IMAGE: z.string().min(1).default('codex-worker:latest'),
    RUNNER_CONCURRENCY: int(2, 1, 256),
    /** Agent output a job's log keeps, over all its attempts; the runner's own lines still follow. */
    JOB_LOG_MAX_BYTES: int(8 * 1024 * 1024, 64 * 1024),
    JOB_TIMEOUT_SECONDS: int(1800, 1),
    RUNNER_MAX_ATTEMPTS: int(3, 1, 100),
    /**
     * How long, in all, a job waits out Postgres or the container engine not answering without
     * using an attempt (put back with growing delays); past it, failures use attempts again.
     */
    OUTAGE_RETRY_SECONDS: int(120, 0),
    RECONCILE_INTERVAL_SECONDS: int(30, 1),
    SHUTDOWN_GRACE_SECONDS: int(30, 0),
    /** TTL of a project's lock in Redis (one job per project at a time); renewed every third of it. */
    PROJECT_LOCK_TTL_SECONDS: int(30, 1),
    /** How long a job whose project is busy (or has older unfinished jobs) waits before trying again. */
    PROJECT_BUSY_RETRY_MS: int(1000, 10),
    /** BullMQ's job lock and stalled-job check: a dead runner's job moves on within about twice this. */
    STALLED_CHECK_SECONDS: int(30, 1),
    /**
     * The longest the runner's queue worker, its webhook dispatcher (queue and delivery worker) and
     * the API's jobs queue wait before trying Redis again once it went away: between reconnects,
     * and after a failed fetch (BullMQ's own: up to 20 s and 15 s).
     */
    RUNNER_REDIS_RETRY_MS: int(1000, 10, 60_000),
    /** Fallback poll of jobs.cancel_requested_at for running jobs (the pub/sub message can be missed). */
    CANCEL_POLL_SECONDS: int(5, 1),
    /** The reconciler leaves alone queued jobs younger than this (the API may be enqueueing them). */
    RECONCILE_GRACE_SECONDS: int(5, 0),
    /** Tests and demos only: the dummy executor waits this long before running the dummy agent. */
    DUMMY_WORKER_DELAY_MS: int(0, 0),
    // The docker executor (USE_DUMMY_WORKER=false). DOCKER_HOST is read by dockerode itself.
    /** Docker network of the worker containers: none (no network at all) unless an agent needs one. */
    WORKER_NETWORK: z
      .string()
      .default('none')
      .refine((v) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v), {
        message: 'expected a Docker network name: none, bridge, host or a network of yours',
      }),
    /** Memory limit of a worker container (swap included: no swap beyond it). */
    WORKER_MEMORY: byteSize('2g', 6 * 1024 ** 2),
    WORKER_CPUS: z.coerce.number().positive('expected a positive number of CPUs, e.g. 1 or 0.5').max(1024).default(1),
    WORKER_PIDS: int(256, 8, 1_000_000),
    /** uid:gid the worker runs as; files it writes in the workspace belong to it on the host. */
    WORKER_UID: z
      .string()
      .default('1000:1000')
      .refine((v) => /^\d+(:\d+)?$/.test(v.trim()), { message: 'expected uid:gid in numbers, e.g. 1000:1000' })
      .transform((v) => {
        const [uid, gid = uid] = v.trim().split(':');
        return { uid: Number(uid), gid: Number(gid) };
      }),
    // The codex agent's settings: read by the worker, checked here at start-up, and passed into the
    // worker when set (unset: the worker's defaults, which the README lists).
    CODEX_MODEL: optionalText().pipe(
      z
        .string()
        .regex(/^[\w.:/-]{1,200}$/, 'expected a model name')
        .optional(),
    ),
    CODEX_BASE_URL: optionalText().pipe(
      z
        .string()
        .refine((v) => URL.canParse(v) && ['http:', 'https:'].includes(new URL(v).protocol), {
          message: 'expected an http(s) URL',
        })
        .optional(),
    ),
    CODEX_SANDBOX: optionalText().pipe(z.enum(['read-only', 'workspace-write', 'danger-full-access']).optional()),
    CODEX_TIMEOUT_SECONDS: optionalText().pipe(z.coerce.number<string | undefined>().int().min(1).optional()),
    /** How long the model endpoint may stay unreachable before the job ends in error (worker default 30). */
    CODEX_CONNECT_TIMEOUT_SECONDS: optionalText().pipe(z.coerce.number<string | undefined>().int().min(1).optional()),
    CODEX_MAX_RETRIES: optionalText().pipe(z.coerce.number<string | undefined>().int().min(0).max(20).optional()),
    /** Runner variables passed into the worker besides OPENAI_API_KEY, OPENAI_ORG_ID, OPENAI_PROJECT and the CODEX_* settings. */
    WORKER_ENV_PASSTHROUGH: list([]).refine((names) => names.every((n) => ENV_NAME.test(n)), {
      message: 'expected names of environment variables, comma-separated',
    }),
    /**
     * WORKSPACE_ROOT as the Docker host sees it, when the runner itself runs in a container (the
     * bind mount's source is a path on the Docker host). Unset: the same path.
     */
    WORKSPACE_HOST_ROOT: z
      .string()
      .optional()
      .transform((v) => (v?.trim() ? v.trim() : undefined))
      .refine((v) => v === undefined || v.startsWith('/'), { message: 'expected an absolute path on the Docker host' }),
    /** The agent the worker container runs (worker-image/src/agents). */
    WORKER_AGENT: z
      .string()
      .default('dummy')
      .refine((v) => /^[a-z][a-z0-9_-]*$/.test(v), { message: 'expected an agent name such as dummy or codex' }),
    /**
     * The agent's network. none: WORKER_NETWORK as set (no network at all by default); allowlist: a
     * sealed network whose only way out is the job's egress proxy, which lets through only
     * WORKER_EGRESS_ALLOW. Unset: allowlist for an agent that needs the network (codex) in a
     * container with no WORKER_NETWORK of its own, none otherwise.
     */
    WORKER_EGRESS: optionalText().pipe(z.enum(['none', 'allowlist']).optional()),
    /** host:port entries the egress proxy lets through; unset: the model endpoint's (CODEX_BASE_URL). */
    WORKER_EGRESS_ALLOW: optionalText().transform((v, ctx) => {
      if (v === undefined) return undefined;
      const entries = v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      try {
        parseEgressAllow(entries);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `expected host:port entries, comma-separated: ${(err as Error).message}`,
        });
        return z.NEVER;
      }
      return entries;
    }),
    /** The normal network the egress proxies reach out through (a network of the engine). */
    WORKER_EGRESS_NETWORK: z
      .string()
      .default('bridge')
      .refine((v) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v), { message: 'expected a Docker network name' }),
    /**
     * First characters of the sealed networks' bridge names: the host firewall rules that seal
     * them match this prefix (scripts/runtime/egress-firewall.sh; see the README).
     */
    WORKER_EGRESS_BRIDGE_PREFIX: z
      .string()
      .default('cwoeg')
      .refine((v) => /^[a-z][a-z0-9]{1,6}$/.test(v), { message: 'expected 2-7 lower-case letters or digits' }),
    /** How often the runner removes worker containers left behind by crashed runners. */
    ORPHAN_REAP_INTERVAL_SECONDS: int(60, 1),
    // Authentication and limits (the API).
    /** api_key: every API request needs `Authorization: Bearer <key>`; none: one implicit local user (development). */
    AUTH_MODE: z.enum(['api_key', 'none']).default('none'),
    /** HTTP basic auth for Bull Board and other admin routes; both set, or neither. */
    ADMIN_USER: optionalText().refine((v) => v === undefined || !v.includes(':'), {
      message: 'expected a user name without ":" (basic auth separates user and password with it)',
    }),
    ADMIN_PASSWORD: optionalText().refine((v) => v === undefined || v.length >= 12, {
      message: 'expected at least 12 characters (it guards the queue admin)',
    }),
    /** Projects and jobs one API key (one user in AUTH_MODE=none) may create per window; 0: no limit. */
    RATE_LIMIT_CREATE_PER_MINUTE: int(30, 0),
    /** The rate limit's window; a minute unless tests need a shorter one. */
    RATE_LIMIT_WINDOW_SECONDS: int(60, 1),
    /** Jobs one user may have queued or in_progress at once; 0: no cap. */
    MAX_ACTIVE_JOBS_PER_USER: int(20, 0),
    /** How long a web app session (POST /session, a cookie) lasts before signing in again. */
    SESSION_TTL_SECONDS: int(12 * 3600, 1, 90 * 86_400),
    /** Sign-in attempts (POST /session) one client address may make per RATE_LIMIT_WINDOW_SECONDS; 0: no limit. */
    SIGN_IN_ATTEMPTS_PER_MINUTE: int(10, 0),
    /**
     * Express's `trust proxy`: whose X-Forwarded-For/-Proto/-Host headers count (the client's
     * address for rate limits, https for Secure cookies). Unset: nobody's; true, a hop count, or
     * addresses and subnets (loopback, 10.0.0.0/8, ...), comma-separated.
     */
    TRUST_PROXY: optionalText().transform((v, ctx): boolean | number | string[] => {
      if (v === undefined) return false;
      const s = v.trim().toLowerCase();
      if (['true', 'yes', 'on'].includes(s)) return true;
      if (['false', 'no', 'off', '0'].includes(s)) return false;
      if (/^\d+$/.test(s)) return Number(s);
      const entries = s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      if (entries.every((e) => /^[0-9a-f.:/]+$/.test(e) || ['loopback', 'linklocal', 'uniquelocal'].includes(e))) {
        return entries;
      }
      ctx.addIssue({
        code: 'custom',
        message: 'expected true, false, a number of hops, or addresses/subnets (loopback, 10.0.0.0/8, ...)',
      });
      return z.NEVER;
    }),
    // The project history (the runner commits each job's changes; the API serves their diffs).
    /** Author and committer of the runner's commits. */
    GIT_AUTHOR_NAME: z.string().trim().min(1).max(200).default('Codex Workspace Orchestrator'),
    GIT_AUTHOR_EMAIL: z
      .string()
      .trim()
      .default('orchestrator@localhost')
      .refine((v) => /^[^\s<>@]+@[^\s<>@]+$/.test(v), {
        message: 'expected an email address such as orchestrator@localhost',
      }),
    /**
     * Gitignore patterns the history leaves out (under the project's own .gitignore files, which
     * can take one back with `!`): dependency and cache folders, stored once per job otherwise.
     * The workspace listing and reads still show them. "" leaves nothing out.
     */
    HISTORY_IGNORE: list(DEFAULT_HISTORY_IGNORE).refine((patterns) => patterns.every((p) => !/[\r\n]/.test(p)), {
      message: 'a pattern cannot hold a line break',
    }),
    /**
     * Where the worker runs when USE_DUMMY_WORKER=false: docker (a container per job, isolated) or
     * host (the worker entrypoint as a child process of the runner, no isolation: development and tests).
     */
    WORKER_EXECUTOR: z.enum(['docker', 'host']).default('docker'),
    // Bringing code in and taking it out (docs/code-io.md).
    /** Files (and links) an archive download may hold; more: 409. */
    EXPORT_MAX_FILES: int(100_000, 1),
    /** Their total size before compression; more: 409. */
    EXPORT_MAX_BYTES: byteSize('2g', 1024 ** 2),
    /** Largest archive upload, and largest repository fetch, of an import. */
    MAX_IMPORT_BYTES: byteSize('100m', 1024),
    /** Files, links and directories an imported tree may hold. */
    IMPORT_MAX_FILES: int(50_000, 1),
    /** An imported tree's size once unpacked or checked out. */
    IMPORT_MAX_UNPACKED_BYTES: byteSize('1g', 1024),
    /** Unpacked bytes per archive byte past which an upload is a compression bomb. */
    IMPORT_MAX_RATIO: int(200, 1),
    /** The import step's own time limit (the agent's is JOB_TIMEOUT_SECONDS). */
    IMPORT_TIMEOUT_SECONDS: int(600, 1),
    /** Sources and push targets on private, loopback or link-local addresses; off: refused. */
    IMPORT_ALLOW_PRIVATE_HOSTS: bool(false),
    /** http:// sources and push targets (tests, private networks); off: https, ssh and git only. */
    IMPORT_ALLOW_HTTP: bool(false),
    // Webhooks (docs/webhooks.md): the API registers endpoints, the runners deliver.
    /** Endpoints on private, loopback, link-local or metadata addresses; off: refused (SSRF). */
    WEBHOOK_ALLOW_PRIVATE_HOSTS: bool(false),
    /** http:// endpoints; off: https only. */
    WEBHOOK_ALLOW_HTTP: bool(false),
    /** Attempts per delivery, the first included (12, with the default backoff: about a day). */
    WEBHOOK_MAX_ATTEMPTS: int(12, 1, 100),
    /** The first retry's delay; each next one doubles it (with up to 20% jitter). */
    WEBHOOK_BACKOFF_SECONDS: z.coerce.number().positive().max(86_400).default(40),
    /** An endpoint is disabled after this many deliveries in a row failed all their attempts. */
    WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES: int(5, 1),
    /** Deliveries one runner makes at once; 0: this runner delivers none (others do). */
    WEBHOOK_CONCURRENCY: int(8, 0, 256),
    /**
     * Deliveries one runner makes at once to one endpoint (at most WEBHOOK_CONCURRENCY - 1): a slow
     * receiver holds no more slots than this, and the others are left for every other endpoint.
     */
    WEBHOOK_ENDPOINT_CONCURRENCY: int(2, 1, 256),
    /** How often a runner moves recorded events from Postgres onto the webhooks queue. */
    WEBHOOK_RELAY_INTERVAL_MS: int(1000, 10, 60_000),
    /** Events, deliveries and attempts older than this are removed. */
    WEBHOOK_RETENTION_DAYS: int(30, 1),
    // Previews (docs/previews.md): a project's workspace served at an origin of its own.
    /**
     * Where previews are served: an origin whose host name contains {projectId} (a wildcard DNS
     * name in real deployments). Unset: http://{projectId}.preview.localhost:<PORT>.
     */
    PREVIEW_BASE_URL: optionalText().refine((v) => v === undefined || previewTemplateProblem(v) === null, {
      message:
        'expected an http(s) origin whose host name holds {projectId}, e.g. https://{projectId}.preview.example.com',
    }),
    /** Key of the signed preview links (AUTH_MODE=api_key); unset: a random one per API process. */
    PREVIEW_SECRET: optionalText().refine((v) => v === undefined || v.length >= 32, {
      message: 'expected at least 32 characters',
    }),
    /** How long a signed preview link stays good. */
    PREVIEW_LINK_SECONDS: int(3600, 10, 30 * 86_400),
    /** A running preview (a server in a preview container) is stopped after this long without a request. */
    PREVIEW_IDLE_SECONDS: int(600, 1),
    /** How long a preview server gets to answer on its port before the preview counts as failed. */
    PREVIEW_START_SECONDS: int(60, 1, 3600),
    /**
     * How long a running preview's server gets to start its answer (its status line and headers)
     * before the preview origin answers 504; an answer that has started is never cut.
     */
    PREVIEW_PROXY_TIMEOUT_SECONDS: int(60, 1, 3600),
    /**
     * The network of preview containers. sealed: a network of its own per preview, cut off from
     * the host and the internet like the agent's (its bridge named WORKER_EGRESS_BRIDGE_PREFIX…,
     * which the host firewall rules match); otherwise an existing Docker network (e.g. one with
     * internet access, if the servers need it). The port is published on 127.0.0.1 only.
     */
    PREVIEW_NETWORK: z
      .string()
      .default('sealed')
      .refine((v) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v) && v !== 'none' && v !== 'host', {
        message: 'expected sealed, or a Docker network that can publish a port (not none or host), e.g. bridge',
      }),
    /** The end of a preview container's output kept and shown (GET /projects/{id}/preview `log`). */
    PREVIEW_LOG_MAX_BYTES: int(64 * 1024, 1024, 16 * 1024 * 1024),
  })
  .superRefine((c, ctx) => {
    if (c.WORKER_EGRESS === 'allowlist' && c.WORKER_NETWORK !== 'none') {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_EGRESS'],
        message: `allowlist puts the worker on a sealed network of its own: leave WORKER_NETWORK unset (got ${c.WORKER_NETWORK})`,
      });
    }
    if ((c.ADMIN_USER === undefined) !== (c.ADMIN_PASSWORD === undefined)) {
      const missing = c.ADMIN_USER === undefined ? 'ADMIN_USER' : 'ADMIN_PASSWORD';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'set ADMIN_USER and ADMIN_PASSWORD together, or neither',
      });
    }
  });

export type Config = z.infer<typeof ConfigSchema> & {
  /** WORKSPACE_ROOT made absolute. */
  workspaceRoot: string;
  /** WORKER_EGRESS with its default applied. */
  workerEgress: 'none' | 'allowlist';
  /** WORKER_EGRESS_ALLOW with its default applied (the model endpoint's host:port). */
  workerEgressAllow: string[];
  /** PREVIEW_BASE_URL with its default applied, without a trailing slash. */
  previewBaseUrl: string;
  /** HOST with its default applied: where the API listens. */
  apiHost: string;
};

/** Whether an address (or name) is this machine's loopback: only local processes reach it. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Why the API must not start with this configuration, or null. AUTH_MODE=none asks for no key and
 * makes every request the one local user's, so it is only safe where nobody else can connect.
 */
export function apiListenProblem(config: Pick<Config, 'AUTH_MODE' | 'apiHost'>): string | null {
  if (config.AUTH_MODE !== 'none' || isLoopbackHost(config.apiHost)) return null;
  return (
    `HOST=${config.apiHost} is not a loopback address, and AUTH_MODE=none asks for no key: anyone who can ` +
    'reach the API would act as its one user. Unset HOST (the API then listens on 127.0.0.1 only), or set ' +
    'AUTH_MODE=api_key (pnpm admin create-user / create-key).'
  );
}

const SECRET_NAME = /PASSWORD|SECRET|TOKEN|API_KEY/i;

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
        // Secrets are never echoed (this message goes to the console and to logs).
        const shown = raw !== undefined && !SECRET_NAME.test(name) ? ` (got "${raw}")` : '';
        return `${name}: ${i.message}${shown}`;
      }),
    );
  }
  const c = parsed.data;
  const agentNeedsNetwork = c.WORKER_AGENT === 'codex';
  const inContainers = !c.USE_DUMMY_WORKER && c.WORKER_EXECUTOR === 'docker';
  const workerEgress =
    c.WORKER_EGRESS ?? (agentNeedsNetwork && inContainers && c.WORKER_NETWORK === 'none' ? 'allowlist' : 'none');
  const workerEgressAllow = c.WORKER_EGRESS_ALLOW ?? defaultEgressAllow(c.CODEX_BASE_URL);
  const previewBaseUrl = (c.PREVIEW_BASE_URL ?? `http://{projectId}.preview.localhost:${c.PORT}`).replace(/\/$/, '');
  return {
    ...c,
    workspaceRoot: path.resolve(cwd, c.WORKSPACE_ROOT),
    workerEgress,
    workerEgressAllow,
    previewBaseUrl,
    apiHost: c.HOST ?? (c.AUTH_MODE === 'none' ? '127.0.0.1' : '0.0.0.0'),
  };
}
