import { z } from './zod';

// How a finished job ended, for programs: a closed set of codes, each decided where the outcome is
// decided (the runner, the worker, a transition), never read back out of the `errors` text.
// docs/outcomes.md lists them; a test checks that the list and this table agree.
//
// Adding a code is one line here: its name and what it means (the OpenAPI enum, the web app,
// webhooks and the docs' check all read this table). The database stores the code as text, so no
// migration is needed.

/** Every error code, with what it means (shown in the OpenAPI document). */
export const ERROR_CODE_MEANINGS = {
  agent_error: 'The agent reported that it failed, or its process ended without writing a result.',
  forced_error: 'The instruction asked the dummy agent to fail (it contains `force_error`).',
  timeout:
    'The job ran past its time limit (JOB_TIMEOUT_SECONDS, or the agent’s own CODEX_TIMEOUT_SECONDS) and was stopped.',
  cancelled: 'The job was cancelled on request before or while it ran.',
  out_of_memory: 'The worker container was killed at its memory limit (WORKER_MEMORY).',
  image_missing: 'The worker image (CODEX_WORKER_IMAGE) does not exist on the container engine.',
  model_unreachable: 'The agent could not connect to the model endpoint (CODEX_BASE_URL).',
  invalid_result: 'The agent’s .codex/result.json was missing, too large or not valid.',
  workspace_too_large: 'The workspace exceeded the snapshot limits, so the job’s changes could not be checked.',
  disk_full: 'The workspace disk was full (no space left on WORKSPACE_ROOT).',
  configuration:
    'The deployment cannot run the job as configured: a worker setting the engine refused, a workspace the worker user cannot write, no API key for the agent, an unknown agent, an unbuilt worker.',
  checks_failed:
    'The agent finished, but one or more of the job’s checks failed or ran past their time limit (named in errors), after every fix attempt.',
  infrastructure:
    'Postgres, Redis or the container engine failed on every attempt, or the job’s runner was lost and its attempts ran out.',
  import_refused:
    'The project’s source was refused before anything was written: a URL or address not allowed (scheme, a private address without IMPORT_ALLOW_PRIVATE_HOSTS), or an archive entry that is unsafe (an absolute path, `..`, a link that escapes, a device or FIFO).',
  import_too_large:
    'The project’s source is over a limit: MAX_IMPORT_BYTES, IMPORT_MAX_FILES, IMPORT_MAX_UNPACKED_BYTES or IMPORT_MAX_RATIO (a compression bomb).',
  import_failed:
    'The project’s source could not be brought in: the repository or ref could not be fetched (unreachable, authentication, no such ref), the archive is corrupt, or the import ran past IMPORT_TIMEOUT_SECONDS.',
  revert_conflict:
    'A revert could not undo the job’s changes: later changes touch the same lines or files (named in errors). The workspace is unchanged.',
  revert_failed:
    'A revert could not be made from the project history: the job’s commit is not in the history the workspace stands on, or the history does not hold the workspace’s state. The workspace is unchanged.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODE_MEANINGS;

export const ERROR_CODES = Object.keys(ERROR_CODE_MEANINGS) as [ErrorCode, ...ErrorCode[]];

export const ErrorCode = z.enum(ERROR_CODES).openapi('ErrorCode', {
  description: `Why a finished job did not complete; null while it runs and when it completed. ${ERROR_CODES.map(
    (c) => `\`${c}\`: ${ERROR_CODE_MEANINGS[c]}`,
  ).join(' ')}`,
});

/**
 * The codes an agent may state in result.json (`error_code`): what only the agent can know. Any
 * other value (an unknown code, or one the runner decides, such as `cancelled`) reads as
 * `agent_error`: result.json is untrusted input.
 */
export const AGENT_ERROR_CODES: readonly ErrorCode[] = [
  'agent_error',
  'forced_error',
  'timeout',
  'model_unreachable',
  'invalid_result',
  'configuration',
];

/** The code an agent's failed result stands for (see AGENT_ERROR_CODES). */
export function agentErrorCode(stated: string | undefined): ErrorCode {
  return AGENT_ERROR_CODES.find((c) => c === stated) ?? 'agent_error';
}

/**
 * Where a queued job stands: how many jobs must finish before it can start. `in_project`: the
 * unfinished jobs of its project created before it (they all run first: a project runs one job at
 * a time, in order). `overall`: the unfinished jobs of every project created before it (queued
 * or running, its project's included); runners take jobs in creation order, so it starts once
 * enough of them have finished to free a runner slot, at the latest when all have.
 */
export const QueuePosition = z
  .object({
    in_project: z.number().int().nonnegative(),
    overall: z.number().int().nonnegative(),
  })
  .openapi('QueuePosition', { example: { in_project: 1, overall: 7 } });
export type QueuePosition = z.infer<typeof QueuePosition>;
