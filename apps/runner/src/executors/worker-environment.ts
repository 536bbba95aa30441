import type { Config } from '@cwo/config';
import { OPENAI_VARIABLES } from '@cwo/contracts';

// The worker's environment, the same for a container (docker) and a child process (host).

// OPENAI_VARIABLES are always passed through when the runner has them (set, not empty): what the
// codex agent needs for OpenAI.
export { OPENAI_VARIABLES };

/**
 * The container's environment: an allowlist, never the runner's whole environment (which holds
 * DATABASE_URL and the like). Returns the names too, for a log line that shows no value.
 */
export function workerEnvironment(
  config: Pick<Config, 'WORKER_AGENT' | 'WORKER_ENV_PASSTHROUGH'>,
  env: NodeJS.ProcessEnv,
): { entries: string[]; names: string[] } {
  const names = [...new Set([...OPENAI_VARIABLES, ...config.WORKER_ENV_PASSTHROUGH])].filter(
    (name) => env[name] !== undefined && env[name] !== '' && name !== 'WORKER_AGENT',
  );
  return {
    entries: [`WORKER_AGENT=${config.WORKER_AGENT}`, ...names.map((name) => `${name}=${env[name]}`)],
    names: ['WORKER_AGENT', ...names],
  };
}
