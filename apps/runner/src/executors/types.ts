import type { CheckResults, EgressRecord, ErrorCode, WorkerRequest } from '@cwo/contracts';
import type { Db } from '@cwo/db';
import type { Redis } from 'ioredis';

/** What an executor is given for one job. */
export interface ExecutorRun {
  /** Absolute path of the project's workspace on this host (request.json is already written). */
  workspace: string;
  request: WorkerRequest;
  /** Receives the executor's output as it streams, a line at a time (no trailing newline). */
  log: (line: string) => void;
  /** Aborted on cancel, timeout or shutdown: the executor stops the agent and returns quickly. */
  signal: AbortSignal;
  /**
   * Asked right before the agent starts changing the workspace: false (and the signal aborted)
   * when this runner may no longer hold the project, e.g. after it was frozen past the lock's TTL.
   */
  mayChangeWorkspace?: () => boolean;
  /** Receives the job's egress record once the agent has stopped, when it ran behind the egress proxy. */
  recordEgress?: (record: EgressRecord) => void;
  /**
   * Receives the job's check results (null: no round ran) from an executor that ran the checks
   * in this process, where it saw each exit code itself: the verdict then takes these, never the
   * `checks` of result.json, a file in the workspace that what the agent left running can write.
   */
  recordChecks?: (checks: CheckResults | null) => void;
}

/**
 * Runs the agent for one job. It resolves when the agent has stopped (the runner then reads and
 * checks `.codex/result.json`); it rejects with InfrastructureError when the job could not be run
 * for reasons outside the job (retried), or with JobFailure for a final failure whose cause it
 * knows (any other Error is final too, with the code `infrastructure`).
 */
export interface Executor {
  readonly name: 'dummy' | 'docker' | 'host';
  /** Called once by the runner as it starts, before any run, with what the executor may share. */
  start?(runner: RunnerContext): Promise<void>;
  run(run: ExecutorRun): Promise<void>;
  /**
   * Stops whatever an earlier run left writing in the project's workspace (the container of a
   * runner that died, froze past its lock, or lost its engine). Called while the project's lock
   * is held, before the workspace is checked against the project's history, so that nothing
   * writes in it behind that check. Rejects with InfrastructureError when it cannot be sure.
   */
  stopEarlierRuns?(run: Pick<ExecutorRun, 'request' | 'log'>): Promise<void>;
  /** Stops what start() started; called once by the runner as it stops, before its connections close. */
  close?(): Promise<void>;
}

/** What the runner shares with its executor: its one id and its connections. */
export interface RunnerContext {
  runnerId: string;
  db: Db;
  redis: Redis;
}

/** A failure of the infrastructure (database, Docker API), not of the job: worth a retry. */
export class InfrastructureError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfrastructureError';
  }
}

/**
 * A dependency that did not answer at all (the container engine's API down or restarting): an
 * outage to wait out rather than a failure of the attempt (see attempt-failure.ts).
 */
export class UnreachableError extends InfrastructureError {
  constructor(
    /** What did not answer, in words: "the container engine". */
    readonly dependency: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UnreachableError';
  }
}

/** A final failure of the job, with its error code (docs/outcomes.md): the executor knows the cause. */
export class JobFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JobFailure';
  }
}
