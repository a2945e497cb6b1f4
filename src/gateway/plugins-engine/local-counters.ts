// SharedCounters for one process: fixed windows aligned to the epoch (DECISIONS.md §32). This is
// the single store of the gateway: the primary keeps one and lends batches of it to the workers
// (cluster-counters.ts); with `--workers 0` the data plane uses it directly.
//
// Two kinds of counters:
// - exact: one entry per (window length, key), dropped when the window ends;
// - estimated (`opts.sketch`): a count-min sketch per (sketch, window length) of `slotsK × 1000`
//   slots and 4 rows, reset when the window turns. Memory stays bounded whatever the number of
//   keys; a collision can only over-count (refuse early), never let more through.

import type { CounterOptions, CounterResult, SharedCounters } from '../../plugins/runtime/define-plugin.js';

const DEPTH = 4;
const MAX_SLOTS_K = 1024;
/** Exact entries kept at most; past it new keys share a fallback sketch. */
const MAX_EXACT = 200_000;

/** A count-min sketch for one window length. */
export class WindowSketch {
  windowStart = 0;
  lastUsed = 0;
  private readonly rows: Uint32Array;
  constructor(
    readonly width: number,
    readonly windowMs: number,
  ) {
    this.rows = new Uint32Array(width * DEPTH);
  }

  private index(key: string, out: Uint32Array): void {
    // Two 32-bit FNV-1a variants; rows use double hashing h1 + i*h2.
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193 ^ key.length;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h2 |= 1;
    const w = this.width;
    for (let r = 0; r < DEPTH; r++) out[r] = r * w + ((h1 + Math.imul(r, h2)) >>> 0) % w;
  }

  private readonly slots = new Uint32Array(DEPTH);

  /** Turns to the window starting at `windowStart` (clears the counts when it changed). */
  roll(windowStart: number): void {
    if (this.windowStart !== windowStart) {
      this.rows.fill(0);
      this.windowStart = windowStart;
    }
  }

  estimate(key: string): number {
    this.index(key, this.slots);
    let min = 0xffffffff;
    for (let r = 0; r < DEPTH; r++) {
      const v = this.rows[this.slots[r]!]!;
      if (v < min) min = v;
    }
    return min;
  }

  /** Conservative update: raises each row only as far as the new estimate. Returns the estimate. */
  add(key: string, n: number): number {
    this.index(key, this.slots);
    let min = 0xffffffff;
    for (let r = 0; r < DEPTH; r++) {
      const v = this.rows[this.slots[r]!]!;
      if (v < min) min = v;
    }
    const target = Math.min(0xffffffff, min + n);
    for (let r = 0; r < DEPTH; r++) {
      const i = this.slots[r]!;
      if (this.rows[i]! < target) this.rows[i] = target;
    }
    return target;
  }

  get bytes(): number {
    return this.rows.byteLength;
  }
}

export interface LeaseResult {
  /** Units granted (0 = refused). */
  granted: number;
  /** The window's count after the grant (or the count that refused it). */
  count: number;
  resetAt: number;
}

export class LocalCounters implements SharedCounters {
  private readonly windows = new Map<string, { windowStart: number; count: number }>();
  private readonly sketches = new Map<string, WindowSketch>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  take(key: string, cost: number, limit: number, windowMs: number, opts?: CounterOptions): CounterResult {
    const r = this.lease(key, cost, cost, limit, windowMs, opts);
    const allowed = r.granted > 0 || cost === 0;
    return { allowed, count: r.count, remaining: Math.max(0, limit - r.count), resetAt: r.resetAt };
  }

  /**
   * Grants between `cost` and `want` units of `key` in the current window, as many as the limit
   * leaves (0 when not even `cost` fits). Workers call this through the primary to take batches.
   */
  lease(key: string, cost: number, want: number, limit: number, windowMs: number, opts?: CounterOptions, at?: number): LeaseResult {
    const now = at ?? this.now();
    const windowStart = now - (now % windowMs);
    const resetAt = windowStart + windowMs;
    this.sweep(now);
    if (opts?.sketch !== undefined || this.windows.size >= MAX_EXACT) {
      const sk = this.sketch(opts?.sketch ?? '_overflow', windowMs, opts?.slotsK ?? 64, windowStart, now);
      const cur = sk.estimate(key);
      const room = limit - cur;
      if (room < cost) return { granted: 0, count: cur, resetAt };
      const granted = Math.min(Math.max(want, cost), room);
      return { granted, count: granted > 0 ? sk.add(key, granted) : cur, resetAt };
    }
    const k = `${windowMs}|${key}`;
    let w = this.windows.get(k);
    if (w === undefined || w.windowStart !== windowStart) {
      w = { windowStart, count: 0 };
      this.windows.set(k, w);
    }
    const room = limit - w.count;
    if (room < cost) return { granted: 0, count: w.count, resetAt };
    const granted = Math.min(Math.max(want, cost), room);
    w.count += granted;
    return { granted, count: w.count, resetAt };
  }

  private sketch(name: string, windowMs: number, slotsK: number, windowStart: number, now: number): WindowSketch {
    const width = Math.max(1, Math.min(MAX_SLOTS_K, Math.floor(slotsK))) * 1000;
    const id = `${name}|${windowMs}|${width}`;
    let sk = this.sketches.get(id);
    if (sk === undefined) {
      sk = new WindowSketch(width, windowMs);
      this.sketches.set(id, sk);
    }
    sk.roll(windowStart);
    sk.lastUsed = now;
    return sk;
  }

  /** Drops windows that ended and sketches unused for two windows, at most once a second. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows) {
      const windowMs = Number(k.slice(0, k.indexOf('|')));
      if (w.windowStart + windowMs <= now) this.windows.delete(k);
    }
    for (const [id, sk] of this.sketches) if (now - sk.lastUsed > 2 * sk.windowMs + 1000) this.sketches.delete(id);
  }

  get size(): number {
    return this.windows.size;
  }

  /** Bytes held by sketches (tests check memory stays bounded). */
  get sketchBytes(): number {
    let n = 0;
    for (const sk of this.sketches.values()) n += sk.bytes;
    return n;
  }
}
