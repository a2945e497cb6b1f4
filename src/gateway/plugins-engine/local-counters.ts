// SharedCounters for one process: fixed windows aligned to the epoch (DECISIONS.md §32). The
// gateway's workers use a cluster-wide implementation backed by the primary; this one serves the
// in-process mode and is the primary's own store.

import type { CounterResult, SharedCounters } from '../../plugins/runtime/define-plugin.js';

export class LocalCounters implements SharedCounters {
  private readonly windows = new Map<string, { windowStart: number; count: number }>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  take(key: string, cost: number, limit: number, windowMs: number): CounterResult {
    const now = this.now();
    const windowStart = now - (now % windowMs);
    const k = `${windowMs}|${key}`;
    let w = this.windows.get(k);
    if (w === undefined || w.windowStart !== windowStart) {
      w = { windowStart, count: 0 };
      this.windows.set(k, w);
    }
    const resetAt = windowStart + windowMs;
    if (w.count + cost > limit) {
      this.sweep(now);
      return { allowed: false, count: w.count, remaining: Math.max(0, limit - w.count), resetAt };
    }
    w.count += cost;
    this.sweep(now);
    return { allowed: true, count: w.count, remaining: Math.max(0, limit - w.count), resetAt };
  }

  /** Drops windows that ended, at most once a second, so memory follows the live keys. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows) {
      const windowMs = Number(k.slice(0, k.indexOf('|')));
      if (w.windowStart + windowMs < now) this.windows.delete(k);
    }
  }

  get size(): number {
    return this.windows.size;
  }
}
