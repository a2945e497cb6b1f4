// How long `edgion-ctl up` waits before restarting a process that died: 1 s, doubling
// up to 30 s, back to 1 s once a run lasted 60 s (a process that crashes once a day
// should come back at once; one that crashes at startup should not spin).

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** A run at least this long counts as healthy and resets the delay. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

export class RestartBackoff {
  private upcoming: number;

  constructor(private readonly policy: BackoffPolicy = DEFAULT_RESTART_BACKOFF) {
    this.upcoming = policy.initialMs;
  }

  /** The delay before the next start of a process whose last run lasted `uptimeMs`. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.policy.resetAfterMs) this.upcoming = this.policy.initialMs;
    const delay = this.upcoming;
    this.upcoming = Math.min(delay * 2, this.policy.maxMs);
    return delay;
  }
}

/** "1s", "2s", "0.5s": the delay as the console message shows it. */
export function formatDelay(ms: number): string {
  return Number.isInteger(ms / 1000) ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
