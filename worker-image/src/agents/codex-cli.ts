import fs from 'node:fs/promises';
import path from 'node:path';
import type { CodexSettings } from './codex-settings';

/** The id of our model provider entry. A thread remembers it: resume fails if it changes. */
export const PROVIDER_ID = 'cwo';
/** The variable Codex reads the API key from (named by `env_key`). */
export const API_KEY_VARIABLE = 'OPENAI_API_KEY';

const TARGETS: Record<string, string> = {
  'linux-x64': 'x86_64-unknown-linux-musl',
  'linux-arm64': 'aarch64-unknown-linux-musl',
  'darwin-x64': 'x86_64-apple-darwin',
  'darwin-arm64': 'aarch64-apple-darwin',
};

/**
 * The native `codex` binary of the pinned `@openai/codex` package. Its `bin/codex.js` launcher is
 * skipped: on Node 20 it runs the binary as a second process, which a kill would orphan.
 */
export function resolveCodexBinary(): string {
  const key = `${process.platform}-${process.arch}`;
  const target = TARGETS[key];
  if (!target) throw new Error(`codex has no binary for ${key}`);
  const launcher = require.resolve('@openai/codex/package.json');
  // The platform package is an optional dependency of @openai/codex, installed beside it.
  const platformPackage = require.resolve(`@openai/codex-${key}/package.json`, { paths: [path.dirname(launcher)] });
  return path.join(path.dirname(platformPackage), 'vendor', target, 'bin', 'codex');
}

/** A TOML basic string (JSON's escapes are a subset of TOML's). */
const tomlString = (value: string) => JSON.stringify(value);

/** `$CODEX_HOME/config.toml`: the model and our provider entry. */
export function renderConfig(settings: CodexSettings): string {
  const lines = [
    '# Written by the worker before each run; edits are overwritten.',
    ...(settings.model ? [`model = ${tomlString(settings.model)}`] : []),
    `model_provider = ${tomlString(PROVIDER_ID)}`,
    '',
    `[model_providers.${PROVIDER_ID}]`,
    `name = ${tomlString('Codex Workspace Orchestrator')}`,
    `base_url = ${tomlString(settings.baseUrl)}`,
    `env_key = ${tomlString(API_KEY_VARIABLE)}`,
    `wire_api = "responses"`,
    `request_max_retries = ${settings.maxRetries}`,
    `stream_max_retries = ${settings.maxRetries}`,
    '',
  ];
  return lines.join('\n');
}

/** Writes config.toml atomically, so a concurrent reader never sees half of it. */
export async function writeConfig(settings: CodexSettings): Promise<void> {
  await fs.mkdir(settings.codexHome, { recursive: true });
  const target = path.join(settings.codexHome, 'config.toml');
  const temporary = `${target}.${process.pid}.tmp`;
  await fs.writeFile(temporary, renderConfig(settings), { mode: 0o600 });
  await fs.rename(temporary, target);
}

/** Flags common to a new and a resumed thread. */
function commonFlags(): string[] {
  return [
    '--json',
    '--skip-git-repo-check',
    // Off the network except for the model: no analytics, no plugin lookups.
    '-c',
    'analytics.enabled=false',
    '--disable',
    'plugins',
  ];
}

/** `codex exec` for a new thread. `--` keeps an instruction starting with "-" from being a flag. */
export function newThreadArgs(settings: CodexSettings, workspace: string, prompt: string): string[] {
  return ['exec', ...commonFlags(), '-C', workspace, '--sandbox', settings.sandbox, '--', prompt];
}

/** `codex exec resume`: it has no --sandbox flag, so the mode goes in as configuration. */
export function resumeArgs(settings: CodexSettings, workspace: string, threadId: string, prompt: string): string[] {
  return [
    'exec',
    ...commonFlags(),
    '-C',
    workspace,
    '-c',
    `sandbox_mode=${tomlString(settings.sandbox)}`,
    'resume',
    '--',
    threadId,
    prompt,
  ];
}

// Passed through to Codex from the worker's environment; everything else (database URLs, other
// services' secrets on a host run) stays out of the agent's reach.
const INHERITED =
  /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|TZ|TERM|TMPDIR|LC_\w+|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy|SSL_CERT_(FILE|DIR)|NODE_EXTRA_CA_CERTS)$/;

/** The environment of the codex process: the key goes to it alone. */
export function codexEnvironment(settings: CodexSettings, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && INHERITED.test(name)) env[name] = value;
  }
  env.CODEX_HOME = settings.codexHome;
  if (settings.apiKey) env[API_KEY_VARIABLE] = settings.apiKey;
  env.RUST_BACKTRACE = '0'; // a stack trace on stderr says nothing to a user
  return env;
}
