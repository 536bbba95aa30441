import { AgentThreadId, type ErrorCode, type TokenUsage, type WorkerRequest, type WorkerResult } from '@cwo/contracts';
import { codexEnvironment, newThreadArgs, resolveCodexBinary, resumeArgs, writeConfig } from './codex-cli';
import { CodexEventReader, type CodexRunState } from './codex-events';
import { runSupervised, type RunOutcome } from './codex-process';
import { buildPrompt } from './codex-prompt';
import { ReachabilityWatch } from './codex-reachability';
import { readCodexSettings, type CodexSettings } from './codex-settings';
import { readThreadTotals, usageSince, writeThreadTotals } from './codex-usage';

export interface CodexAgentOptions {
  /** Where CODEX_* settings and OPENAI_API_KEY are read from; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Aborting stops Codex and everything it started (cancel, shutdown). */
  signal?: AbortSignal;
  /** The codex binary; the pinned @openai/codex package's by default. */
  codexBinary?: string;
  /** Called with the pid of each codex process started. */
  onSpawn?: (pid: number) => void;
}

interface Attempt {
  state: CodexRunState;
  outcome: RunOutcome;
  stderr: string[];
  /** Stopped because the model endpoint could not be connected to (CODEX_CONNECT_TIMEOUT_SECONDS). */
  unreachable: boolean;
}

const MAX_RESULT_LOG_LINES = 10_000;
const MAX_RESULT_LINE_CHARS = 10_000;
const MAX_SUMMARY_CHARS = 20_000;
const STDERR_TAIL = 20;
// Said on every run: stdin is closed on purpose, and `.codex/` (our protocol directory) is
// rightly not trusted as project configuration; the advice to pass --trust would mislead.
const STDERR_NOISE =
  /^(Reading additional input from stdin\.\.\.|warning: Untrusted project-local configuration is disabled\b.*)$/;
// What `codex exec resume` says when the session's files are gone.
const SESSION_GONE = /no rollout found|thread not found|session not found|no (such )?(thread|session)/i;

/**
 * The real Codex agent: runs `codex exec` (or `codex exec resume` for the project's thread) in the
 * workspace and returns the result the worker writes to `.codex/result.json`. Every failure —
 * bad settings, no key, an API error, a failed turn, a timeout, a cancel — comes back as an
 * error result with its cause in `errors` and in the log; it never throws and never hangs.
 * File lists come from Codex's file_change events; the runner's snapshots are the truth.
 */
export async function runCodexAgent(
  workspace: string,
  request: WorkerRequest,
  log: (line: string) => void = () => {},
  options: CodexAgentOptions = {},
): Promise<WorkerResult> {
  const logs: string[] = [];
  // The log takes single lines; an error message may hold several.
  const emit = (text: string) => {
    for (const line of text.split('\n')) {
      logs.push(line.length > MAX_RESULT_LINE_CHARS ? line.slice(0, MAX_RESULT_LINE_CHARS) : line);
      if (logs.length > MAX_RESULT_LOG_LINES) logs.shift();
      log(line);
    }
  };
  const fail = (cause: string, code: ErrorCode): WorkerResult => {
    emit(`error: ${cause}`);
    return errorResult(cause, logs, code);
  };

  let settings: CodexSettings;
  let binary: string;
  try {
    settings = readCodexSettings(options.env ?? process.env, workspace);
    binary = options.codexBinary ?? resolveCodexBinary();
  } catch (error) {
    return fail((error as Error).message, 'configuration');
  }
  if (!settings.apiKey) return fail('OPENAI_API_KEY is not set: the codex agent needs an API key', 'configuration');
  if (options.signal?.aborted) return fail('codex was cancelled', 'agent_error');

  try {
    await writeConfig(settings);
  } catch (error) {
    return fail(
      `could not write the codex configuration in ${settings.codexHome}: ${(error as Error).message}`,
      'agent_error',
    );
  }
  emit(
    `codex: ${request.job_type} job, model ${settings.model ?? '(codex default)'} at ${new URL(settings.baseUrl).host}, sandbox ${settings.sandbox}`,
  );

  const deadline = Date.now() + settings.timeoutMs;
  const env = codexEnvironment(settings, options.env ?? process.env);
  const attempt = (args: string[]): Promise<Attempt> =>
    runAttempt({
      binary,
      args,
      workspace,
      env,
      deadline,
      connectTimeoutMs: settings.connectTimeoutMs,
      emit,
      signal: options.signal,
      onSpawn: options.onSpawn,
    });

  let resumed = false;
  let run: Attempt;
  if (request.thread_id) {
    emit(`codex: resuming thread ${request.thread_id}`);
    run = await attempt(resumeArgs(settings, workspace, request.thread_id, buildPrompt(request, true)));
    resumed = true;
    if (sessionGone(run)) {
      emit(`codex: thread ${request.thread_id} is gone; starting a new thread`);
      resumed = false;
      run = await attempt(newThreadArgs(settings, workspace, buildPrompt(request, false)));
    }
  } else {
    run = await attempt(newThreadArgs(settings, workspace, buildPrompt(request, false)));
  }

  const usage = await jobUsage(settings.codexHome, run.state, resumed);
  if (usage) {
    emit(
      `usage: ${usage.input_tokens} input tokens (${usage.cached_input_tokens} cached), ${usage.output_tokens} output tokens`,
    );
  }
  const errors = [...run.state.errors];
  const cause = outcomeError(run, settings);
  if (cause && !errors.includes(cause)) {
    errors.push(cause);
    emit(`error: ${cause}`);
  }
  const success = errors.length === 0 && run.state.turnCompleted;
  const answer = run.state.messages.at(-1) ?? '';
  const threadId = AgentThreadId.safeParse(run.state.threadId);
  return {
    status: success ? 'success' : 'error',
    summary: (success ? answer : `Codex failed: ${errors[0] ?? 'unknown error'}`).slice(0, MAX_SUMMARY_CHARS),
    created_files: run.state.created,
    modified_files: run.state.modified,
    deleted_files: run.state.deleted,
    errors: errors.map((e) => e.slice(0, 10_000)),
    logs,
    ...(usage ? { usage } : {}),
    ...(threadId.success ? { thread_id: threadId.data } : {}),
    ...(success ? {} : { error_code: outcomeCode(run) }),
  };
}

/** The error code of a run that did not succeed (docs/outcomes.md). */
function outcomeCode(run: Attempt): ErrorCode {
  if (run.unreachable || (run.state.unreachable && !run.outcome.aborted)) return 'model_unreachable';
  return run.outcome.timedOut ? 'timeout' : 'agent_error';
}

async function runAttempt(input: {
  binary: string;
  args: string[];
  workspace: string;
  env: NodeJS.ProcessEnv;
  deadline: number;
  connectTimeoutMs: number;
  emit: (line: string) => void;
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
}): Promise<Attempt> {
  const unreachable = new AbortController();
  const watch = new ReachabilityWatch(input.connectTimeoutMs, () => unreachable.abort());
  const reader = new CodexEventReader(input.workspace, watch);
  const stderr: string[] = [];
  const outcome = await runSupervised({
    command: input.binary,
    args: input.args,
    cwd: input.workspace,
    env: input.env,
    timeoutMs: Math.max(1, input.deadline - Date.now()),
    signal: input.signal ? AbortSignal.any([input.signal, unreachable.signal]) : unreachable.signal,
    onSpawn: input.onSpawn,
    onStdoutLine: (line) => reader.read(line).forEach(input.emit),
    onStderrLine: (line) => {
      if (line.trim() === '' || STDERR_NOISE.test(line)) return;
      stderr.push(line);
      if (stderr.length > STDERR_TAIL) stderr.shift();
      input.emit(`stderr: ${line}`);
    },
  });
  watch.dispose();
  // A cancel that came first stays a cancel.
  return { state: reader.state, outcome, stderr, unreachable: watch.unreachable && !input.signal?.aborted };
}

/** A resume that failed before the thread started, saying the session does not exist. */
function sessionGone(run: Attempt): boolean {
  return (
    !run.state.threadId &&
    !run.outcome.timedOut &&
    !run.outcome.aborted &&
    run.outcome.exitCode !== 0 &&
    SESSION_GONE.test(run.stderr.join('\n'))
  );
}

/** Why the process itself went wrong, when its events did not already say so. */
function outcomeError(run: Attempt, settings: CodexSettings): string | undefined {
  const { outcome, state, stderr } = run;
  if (outcome.spawnError) return `could not start codex: ${outcome.spawnError.message}`;
  if (run.unreachable) {
    return `model endpoint unreachable at ${settings.baseUrl} (${state.unreachable ?? 'no connection'}; none within ${settings.connectTimeoutMs / 1000} s, CODEX_CONNECT_TIMEOUT_SECONDS)`;
  }
  if (outcome.timedOut && state.unreachable) {
    return `could not reach the model at ${new URL(settings.baseUrl).host} (${state.unreachable}); gave up after ${settings.timeoutMs / 1000} s (CODEX_TIMEOUT_SECONDS)`;
  }
  if (outcome.timedOut) return `codex timed out after ${settings.timeoutMs / 1000} s (CODEX_TIMEOUT_SECONDS)`;
  if (outcome.aborted) return 'codex was cancelled';
  if (state.errors.length > 0) return undefined;
  const lastWords = stderr.filter((l) => /error/i.test(l)).at(-1) ?? stderr.at(-1);
  if (outcome.exitCode !== 0) {
    const how =
      outcome.exitCode === null ? `was killed by ${outcome.exitSignal}` : `exited with code ${outcome.exitCode}`;
    return `codex ${how}${lastWords ? `: ${lastWords}` : ''}`;
  }
  if (!state.turnCompleted) return 'codex ended without completing its turn';
  return undefined;
}

/** This job's tokens; the thread's totals are kept for the next job on it. */
async function jobUsage(codexHome: string, state: CodexRunState, resumed: boolean): Promise<TokenUsage | undefined> {
  if (!state.usage) return undefined;
  if (!state.threadId) return state.usage;
  const before = resumed ? await readThreadTotals(codexHome, state.threadId) : undefined;
  await writeThreadTotals(codexHome, state.threadId, state.usage).catch(() => {});
  return before ? usageSince(state.usage, before) : state.usage;
}

function errorResult(cause: string, logs: string[], code: ErrorCode): WorkerResult {
  return {
    status: 'error',
    error_code: code,
    summary: `Codex failed: ${cause}`.slice(0, MAX_SUMMARY_CHARS),
    created_files: [],
    modified_files: [],
    deleted_files: [],
    errors: [cause.slice(0, 10_000)],
    logs,
  };
}
