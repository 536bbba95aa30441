import { z } from './zod';
import { JobType, Status } from './enums';
import { CHECK_OUTPUT_MAX_BYTES, CheckList, CheckResults, FixAttempts, MAX_CHECKS, MAX_FIX_ATTEMPTS } from './checks';
import { TokenUsage } from './responses';
import { PreviewSpec } from './previews';

/** An earlier job of the same project, so the agent knows what was done before. */
export const JobHistoryEntry = z.object({
  job_id: z.uuid(),
  job_type: JobType,
  instruction: z.string(),
  status: Status,
  summary: z.string().nullable(),
});

/** A Codex conversation id (`thread.started`); kept per project so edit jobs can resume it. */
export const AgentThreadId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/);

/** `.codex/request.json`, written by the runner before the agent starts. */
export const WorkerRequest = z.object({
  project_id: z.uuid(),
  job_id: z.uuid(),
  job_type: JobType,
  instruction: z.string().min(1),
  history: z.array(JobHistoryEntry).default([]),
  /** The project's last agent thread, if any: the codex agent resumes it. */
  thread_id: AgentThreadId.optional(),
  /** Run after the agent, in its sandbox; the job completes only if all pass (docs/checks.md). */
  checks: CheckList.default([]),
  /** Rounds in which the agent is given the failing checks to fix, in the same conversation. */
  fix_attempts: FixAttempts.default(0),
});
export type WorkerRequest = z.infer<typeof WorkerRequest>;

/**
 * Largest result.json the runner will read: it is untrusted input. 1 MiB for the agent's part, plus
 * room for every check output of every round at its cap, escaped as JSON (up to 6 bytes a byte).
 */
export const RESULT_MAX_BYTES = 1024 * 1024 + MAX_CHECKS * (MAX_FIX_ATTEMPTS + 1) * CHECK_OUTPUT_MAX_BYTES * 6;

const RelativePath = z.string().min(1).max(4096);

/** Most lines result.json `logs` may hold. */
export const WORKER_RESULT_MAX_LOG_LINES = 10_000;

/** `.codex/result.json`, written by the agent; the runner validates it before trusting it. */
export const WorkerResult = z.object({
  status: z.enum(['success', 'error']),
  summary: z.string().max(20_000).default(''),
  created_files: z.array(RelativePath).max(100_000).default([]),
  modified_files: z.array(RelativePath).max(100_000).default([]),
  deleted_files: z.array(RelativePath).max(100_000).default([]),
  errors: z.array(z.string().max(10_000)).max(1_000).default([]),
  logs: z.array(z.string().max(10_000)).max(WORKER_RESULT_MAX_LOG_LINES).default([]),
  usage: TokenUsage.optional(),
  /** The agent thread this job ran in; the runner keeps it for the project's next job. */
  thread_id: AgentThreadId.optional(),
  /**
   * With status error: why, as one of AGENT_ERROR_CODES (outcomes.ts). Text, not the enum, so that
   * a worker image newer than the runner cannot make its whole result invalid; the runner reads
   * anything else as agent_error.
   */
  error_code: z.string().max(64).optional(),
  /** What the request's checks found, every round (the worker runs them after the agent). */
  checks: CheckResults.optional(),
  /** How to run what was built (docs/previews.md): POST /projects/{id}/preview starts it. */
  preview: PreviewSpec.optional(),
});
export type WorkerResult = z.infer<typeof WorkerResult>;

/** What Redis carries for a job: its id and nothing the user sent. */
export const QueuePayload = z.object({ jobId: z.uuid() });
export type QueuePayload = z.infer<typeof QueuePayload>;

/** The BullMQ queue every job goes through. */
export const JOBS_QUEUE_NAME = 'jobs';

/**
 * Redis pub/sub channel (under the queue prefix, `<prefix>:cancel`) on which the API announces a
 * cancel request with the job id as the message; the runner holding that job aborts it. The
 * request is also recorded in Postgres (jobs.cancel_requested_at), which stays the truth.
 */
export const CANCEL_CHANNEL = 'cancel';
export const cancelChannel = (queuePrefix: string): string => `${queuePrefix}:${CANCEL_CHANNEL}`;

/** The OpenAI variables a worker reports on, set or not (docs/worker-protocol.md). */
export const OPENAI_VARIABLES = ['OPENAI_API_KEY', 'OPENAI_ORG_ID', 'OPENAI_PROJECT'] as const;

/**
 * The presence lines a worker writes first, to the job log and to result.json `logs`:
 * `NAME=present` or `NAME=absent` for each OPENAI_* variable it was given, the three above always.
 * Never a value: a log shows what the agent had without leaking a secret.
 */
export function openAiPresenceLines(env: Readonly<Record<string, string | undefined>>): string[] {
  const names = new Set<string>([...OPENAI_VARIABLES, ...Object.keys(env).filter((n) => n.startsWith('OPENAI_'))]);
  return [...names].sort().map((name) => `${name}=${env[name] ? 'present' : 'absent'}`);
}

/** result.json `logs` with the presence lines first, within the protocol's limit (the agent's last lines kept). */
export function withPresenceLines(presence: string[], logs: string[]): string[] {
  const room = WORKER_RESULT_MAX_LOG_LINES - presence.length;
  return [...presence, ...(logs.length > room ? logs.slice(logs.length - room) : logs)];
}
