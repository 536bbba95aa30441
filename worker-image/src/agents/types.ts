import type { WorkerRequest, WorkerResult } from '@cwo/contracts';

/** What the worker gives an agent for one job. */
export interface AgentContext {
  /** The project's workspace (/workspace in the container). */
  workspace: string;
  /** `.codex/request.json`, schema-checked. */
  request: WorkerRequest;
  /** Progress for the job log: one line per call, printed on stdout as it happens. */
  log: (line: string) => void;
  /** The container's environment: the runner passes only an allowlist into it. */
  env: NodeJS.ProcessEnv;
  /** Aborted when the container is asked to stop (SIGTERM/SIGINT): stop and return what you have. */
  signal: AbortSignal;
}

/**
 * An agent does the job and says what it did. It may throw: the worker turns the error into an
 * error result, so the runner always gets a result.json when the worker could write one.
 */
export type Agent = (ctx: AgentContext) => Promise<WorkerResult>;
