// The environment of a check: the sandbox's own (the worker's allowlisted one in a container),
// without the agent's model credentials, which no check needs, and with Python told not to leave
// caches behind, so that running the tests does not count as a change the job made.

/** What the agent needs to reach its model and a check does not. */
const WITHHELD = /^(OPENAI_|CODEX_|LOCAL_MODEL_KEY$)/;

export const CHECK_SETTINGS: Readonly<Record<string, string>> = {
  PYTHONDONTWRITEBYTECODE: '1',
  // pytest's cache directory (.pytest_cache) would be a file the job created.
  PYTEST_ADDOPTS: '-p no:cacheprovider',
};

export function checkEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && !WITHHELD.test(name)) out[name] = value;
  return {
    ...out,
    ...CHECK_SETTINGS,
    PYTEST_ADDOPTS: [CHECK_SETTINGS.PYTEST_ADDOPTS, env.PYTEST_ADDOPTS].filter(Boolean).join(' '),
  };
}
