import { JobAbort, type AbortReason } from './job-abort';

/**
 * The jobs this process is running, by job id, with the controller that stops each. Cancel
 * messages, the cancel poll, timeouts and shutdown all stop a job through here.
 */
export class RunningJobs {
  private readonly controllers = new Map<string, AbortController>();

  /** Registers a job and returns the signal its executor watches. */
  add(jobId: string): AbortController {
    const controller = new AbortController();
    this.controllers.set(jobId, controller);
    return controller;
  }

  remove(jobId: string): void {
    this.controllers.delete(jobId);
  }

  /** Stops one job; false when this process does not run it (or it was already stopped). */
  abort(jobId: string, reason: AbortReason): boolean {
    const controller = this.controllers.get(jobId);
    if (!controller || controller.signal.aborted) return false;
    controller.abort(new JobAbort(reason));
    return true;
  }

  abortAll(reason: AbortReason): number {
    let n = 0;
    for (const jobId of this.controllers.keys()) if (this.abort(jobId, reason)) n++;
    return n;
  }

  ids(): string[] {
    return [...this.controllers.keys()];
  }

  get size(): number {
    return this.controllers.size;
  }
}
