import { runDummyAgent } from '@cwo/dummy-agent';
import { runCodexAgent } from './codex';
import { TEST_AGENTS } from './test-agents';
import type { Agent } from './types';

export type { Agent, AgentContext } from './types';

/** The agents WORKER_AGENT can name. Adding one is one line here. */
export const AGENTS: Readonly<Record<string, Agent>> = {
  dummy: ({ workspace, request, log }) => runDummyAgent(workspace, request, log),
  codex: ({ workspace, request, log, env, signal }) => runCodexAgent(workspace, request, log, { env, signal }),
};

/**
 * The agent named `name`, or undefined. The diagnostic agents of the container tests (test-agents.ts)
 * exist only when WORKER_TEST_AGENTS=true, so a production image never runs them by a typo.
 */
export function findAgent(name: string, env: NodeJS.ProcessEnv): Agent | undefined {
  if (Object.hasOwn(AGENTS, name)) return AGENTS[name];
  if (env.WORKER_TEST_AGENTS === 'true' && Object.hasOwn(TEST_AGENTS, name)) return TEST_AGENTS[name];
  return undefined;
}

export function agentNames(env: NodeJS.ProcessEnv): string[] {
  return [...Object.keys(AGENTS), ...(env.WORKER_TEST_AGENTS === 'true' ? Object.keys(TEST_AGENTS) : [])];
}
