import type { Config } from '@cwo/config';
import { OPENAI_VARIABLES } from '@cwo/contracts';

// The worker's environment, the same for a container (docker) and a child process (host).

// OPENAI_VARIABLES are always passed through when the runner has them (set, not empty): what the
// codex agent needs for OpenAI.
export { OPENAI_VARIABLES };

/**
 * The codex agent's settings, which the runner's configuration checks: passed through when set,
 * without a second list (CODEX_HOME is not: it is a path of the worker's own).
 */
export const CODEX_SETTINGS = [
  'CODEX_MODEL',
  'CODEX_BASE_URL',
  'CODEX_SANDBOX',
  'CODEX_TIMEOUT_SECONDS',
  'CODEX_CONNECT_TIMEOUT_SECONDS',
  'CODEX_MAX_RETRIES',
] as const;

/**
 * The container's environment: an allowlist, never the runner's whole environment (which holds
 * DATABASE_URL and the like). Returns the names too, for a log line that shows no value.
 */
export function workerEnvironment(
  config: Pick<Config, 'WORKER_AGENT' | 'WORKER_ENV_PASSTHROUGH'>,
  env: NodeJS.ProcessEnv,
): { entries: string[]; names: string[] } {
  const names = [...new Set([...OPENAI_VARIABLES, ...CODEX_SETTINGS, ...config.WORKER_ENV_PASSTHROUGH])].filter(
    (name) => env[name] !== undefined && env[name] !== '' && name !== 'WORKER_AGENT',
  );
  return {
    entries: [`WORKER_AGENT=${config.WORKER_AGENT}`, ...names.map((name) => `${name}=${env[name]}`)],
    names: ['WORKER_AGENT', ...names],
  };
}
