/** Variables the runner may pass for the OpenAI API; reported even when absent. */
const KNOWN_OPENAI_VARIABLES = ['OPENAI_API_KEY', 'OPENAI_ORG_ID', 'OPENAI_PROJECT'];

/**
 * One line per OPENAI_* variable saying whether it is set: never its value (seed rule L01), so a
 * job log can show what the agent was given without leaking a secret.
 */
export function describeOpenAiEnv(env: NodeJS.ProcessEnv): string[] {
  const names = new Set([...KNOWN_OPENAI_VARIABLES, ...Object.keys(env).filter((n) => n.startsWith('OPENAI_'))]);
  return [...names].sort().map((name) => `${name}: ${env[name] ? 'present' : 'absent'}`);
}
