import type { ConnectionListener } from './codex-events';

/**
 * Ends a run that cannot reach the model endpoint. Codex retries an endpoint it cannot connect to
 * for minutes ("Reconnecting... waiting for network"), which would hold the job until its time
 * limit; so once `timeoutMs` has passed without an answer from the model (since the run started,
 * or since the model last answered) while Codex's latest attempt failed to connect,
 * `onUnreachable` is called, once. A model that accepted the connection but is slow to answer is
 * not unreachable: CODEX_TIMEOUT_SECONDS is its limit.
 */
export class ReachabilityWatch implements ConnectionListener {
  private lastContact = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private fired = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly onUnreachable: () => void,
  ) {}

  get unreachable(): boolean {
    return this.fired;
  }

  connectionFailed(): void {
    if (this.timer || this.fired) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.fired = true;
        this.onUnreachable();
      },
      Math.max(0, this.lastContact + this.timeoutMs - Date.now()),
    );
  }

  modelReached(): void {
    this.lastContact = Date.now();
    this.dispose();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
