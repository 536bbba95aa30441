import path from 'node:path';
import { z } from '@cwo/contracts';

/** Codex's sandbox modes; inside the worker container the container is the sandbox. */
export const CodexSandbox = z.enum(['read-only', 'workspace-write', 'danger-full-access']);
export type CodexSandbox = z.infer<typeof CodexSandbox>;

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const SettingsSchema = z.object({
  /** Model name; unset leaves Codex's own default. */
  CODEX_MODEL: optionalText.pipe(
    z
      .string()
      .regex(/^[\w.:/-]{1,200}$/, 'expected a model name')
      .optional(),
  ),
  /** OpenAI-compatible endpoint speaking the Responses API (a gateway, or the test model server). */
  CODEX_BASE_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).default('https://api.openai.com/v1'),
  ),
  CODEX_SANDBOX: optionalText.pipe(CodexSandbox.default('workspace-write')),
  /** Codex's own limit; keep it below the job's timeout so the agent, not the runner, reports it. */
  CODEX_TIMEOUT_SECONDS: optionalText.pipe(z.coerce.number<string | undefined>().int().min(1).default(1500)),
  /** How long the model endpoint may stay unreachable (no connection at all) before the job ends in error. */
  CODEX_CONNECT_TIMEOUT_SECONDS: optionalText.pipe(z.coerce.number<string | undefined>().int().min(1).default(30)),
  /** Retries of a failed model request and of a broken stream (Codex's own; 0 fails fast). */
  CODEX_MAX_RETRIES: optionalText.pipe(z.coerce.number<string | undefined>().int().min(0).max(20).default(0)),
  /** Codex's state (sessions for resume); defaults to `<workspace>/.codex/home`. */
  CODEX_HOME: optionalText,
  OPENAI_API_KEY: optionalText,
});

export interface CodexSettings {
  model?: string;
  baseUrl: string;
  sandbox: CodexSandbox;
  timeoutMs: number;
  connectTimeoutMs: number;
  maxRetries: number;
  codexHome: string;
  apiKey?: string;
}

export class CodexSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid codex settings: ${problems.join('; ')}`);
    this.name = 'CodexSettingsError';
  }
}

/**
 * Reads the agent's settings from the environment. A missing API key is not an error here: the
 * agent reports it as the job's error, so the user sees it.
 */
export function readCodexSettings(env: NodeJS.ProcessEnv, workspace: string): CodexSettings {
  const parsed = SettingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new CodexSettingsError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const s = parsed.data;
  return {
    model: s.CODEX_MODEL,
    baseUrl: s.CODEX_BASE_URL,
    sandbox: s.CODEX_SANDBOX,
    timeoutMs: s.CODEX_TIMEOUT_SECONDS * 1000,
    connectTimeoutMs: s.CODEX_CONNECT_TIMEOUT_SECONDS * 1000,
    maxRetries: s.CODEX_MAX_RETRIES,
    // It must outlive the job (resume reads its sessions), so it lives with the workspace by default.
    codexHome: path.resolve(workspace, s.CODEX_HOME ?? path.join('.codex', 'home')),
    apiKey: s.OPENAI_API_KEY,
  };
}
