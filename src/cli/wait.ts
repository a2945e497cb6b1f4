// Polling until something is true, with a deadline and a progress callback, for
// `status --wait`, `apply --wait`, `up` and `down`. The sleep timers are ref'ed on
// purpose: a command awaiting a poll must stay alive even when nothing else is
// pending (`up --detach` has unref'ed its background child).

import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from './errors.js';

export type Attempt<T> = { done: true; value: T } | { done: false; reason: string; error?: CliError };

export type PollOutcome<T> =
  | { done: true; value: T; elapsedMs: number }
  | { done: false; reason: string; lastError: CliError | undefined; elapsedMs: number };

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called every `progressEveryMs` while still waiting, with whole seconds waited. */
  onProgress?: (elapsedSeconds: number, reason: string) => void;
  progressEveryMs?: number;
  signal?: AbortSignal;
}

export async function poll<T>(attempt: () => Promise<Attempt<T>>, options: PollOptions): Promise<PollOutcome<T>> {
  const started = Date.now();
  const interval = options.intervalMs ?? 200;
  const every = options.progressEveryMs ?? 3000;
  let nextProgress = every;
  let reason = 'not started';
  let lastError: CliError | undefined;
  for (;;) {
    const result = await attempt();
    const elapsedMs = Date.now() - started;
    if (result.done) return { done: true, value: result.value, elapsedMs };
    reason = result.reason;
    lastError = result.error;
    if (elapsedMs >= options.timeoutMs || options.signal?.aborted) return { done: false, reason, lastError, elapsedMs };
    if (options.onProgress && elapsedMs >= nextProgress) {
      options.onProgress(Math.floor(elapsedMs / 1000), reason);
      while (nextProgress <= elapsedMs) nextProgress += every;
    }
    const remaining = options.timeoutMs - elapsedMs;
    try {
      await sleep(Math.min(interval, Math.max(remaining, 0)), undefined, { signal: options.signal });
    } catch {
      return { done: false, reason: 'aborted', lastError, elapsedMs: Date.now() - started };
    }
  }
}

/**
 * Runs an admin API call as one poll attempt: "unreachable" (exit 3) and "timed out"
 * mean "not yet" (the process may still be starting); any other error is final.
 */
export async function attemptReachable<T>(call: () => Promise<Attempt<T>>): Promise<Attempt<T>> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof CliError && err.exitCode === 3) return { done: false, reason: err.message, error: err };
    throw err;
  }
}
