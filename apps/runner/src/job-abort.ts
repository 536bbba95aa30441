// Why a running job's AbortController fired. The first reason wins; each ends the job differently.
export type AbortReason =
  /** JOB_TIMEOUT_SECONDS passed: the job ends in error "timeout". */
  | 'timeout'
  /** A user asked to cancel it: the job ends cancelled. */
  | 'cancel'
  /** This runner is shutting down: the job goes back to the queue for another runner. */
  | 'shutdown'
  /** The project's lock could not be kept: another job of the project might start, so stop and retry. */
  | 'lock_lost';

export class JobAbort extends Error {
  constructor(readonly reason: AbortReason) {
    super(`job aborted: ${reason}`);
    this.name = 'JobAbort';
  }
}

/** Thrown when the job goes back to the queue unfinished: this runner is stopping. */
export class RunnerStopping extends Error {
  constructor() {
    super('the runner is shutting down');
    this.name = 'RunnerStopping';
  }
}

export function abortReasonOf(signal: AbortSignal): AbortReason | null {
  if (!signal.aborted) return null;
  return signal.reason instanceof JobAbort ? signal.reason.reason : 'shutdown';
}
