// Gateway-wide counters across node:cluster workers (DECISIONS.md §32). The counts live in one
// place, the primary's LocalCounters; each worker borrows small batches of a key's window
// ("leases") and spends them locally, so most takes are synchronous and never cross the IPC
// channel. Units are lent before they are spent, so a window never admits more than its limit;
// what a batch costs is the opposite error: units lent to one worker and not spent there before
// the window ends are lost to the others (at most one batch per worker and key: 1% of the limit,
// and one request when the limit is under 200).
//
// Besides, each of the gateway's W workers owns a slice of every key's window that it spends
// without asking: 1% of the limit (none under 100), and the primary lends only the rest
// (limit - W x slice). A limit per client address sees most keys once or twice per window: those
// requests never wait for the primary. The slice costs the same kind of error as a batch (a
// worker that never sees the key leaves its slice unused), within the same 1%.

import type { Worker } from 'node:cluster';
import type { CounterOptions, CounterResult, SharedCounters } from '../../plugins/runtime/define-plugin.js';
import type { LocalCounters } from './local-counters.js';

/** One lease: borrow units of a key's window. */
export interface LeaseRequest {
  id: number;
  key: string;
  cost: number;
  want: number;
  limit: number;
  windowMs: number;
  /** The worker's clock (the window it means). */
  at: number;
  sketch?: string;
  slotsK?: number;
}

/** The primary's answer to one lease. */
export interface LeaseReply {
  id: number;
  granted: number;
  count: number;
  resetAt: number;
}

/**
 * Worker → primary: the leases asked for during one turn of the worker's event loop, in one
 * message. Many keys (a limit per client address) mean a lease for most requests; one message
 * per lease would cost each of them a round of serialising, a pipe write and a wake-up of the
 * primary, which is more than the rest of the request.
 */
export interface LeaseRequests {
  t: 'leases';
  q: LeaseRequest[];
}

/** Primary → worker: the answers to one LeaseRequests message, in one message. */
export interface LeaseReplies {
  t: 'lease-replies';
  r: LeaseReply[];
}

interface Lease {
  windowStart: number;
  windowMs: number;
  /** Units borrowed and not spent yet. */
  left: number;
  /** The window's global count the primary reported at the last grant. */
  count: number;
  /** The primary refused: every unit of this window is lent out. */
  exhausted: boolean;
  pending: Promise<void> | undefined;
  /** A top-up asked for while units are left (see prefetch). */
  topUp: boolean;
  /** Half a batch: the top-up size, and the level under which it is asked for. */
  half: number;
  /** Units of this worker's own slice spent in this window (see the header). */
  own: number;
}

/**
 * Batch size: 1% of the limit, at least the cost. No absolute cap: what a batch strands is bounded
 * by the 1%, and a busy key's round trips to the primary (a wake-up of another process each,
 * costly on a loaded machine) stay at about 150 per window whatever the limit.
 */
export function batchFor(limit: number, cost: number): number {
  return Math.max(cost, Math.floor(limit / 100));
}

/** A key's lease entry for a window, nothing borrowed or spent yet; `batch` sizes its top-ups. */
function newLease(windowStart: number, windowMs: number, batch: number): Lease {
  return { windowStart, windowMs, left: 0, count: 0, exhausted: false, pending: undefined, topUp: false, half: Math.floor(batch / 2), own: 0 };
}

/** Each worker's own slice of a key's window: 1% of the limit, none when the slices would not fit. */
export function sliceFor(limit: number, workers: number): number {
  const slice = Math.floor(limit / 100);
  return slice * workers <= limit ? slice : 0;
}

/** Lease entries kept per worker at most (keys past it ask the primary on every take). */
const MAX_LEASES = 100_000;
const IPC_TIMEOUT_MS = 2000;

/** The leases sent in one message: their timeout is cleared once all are answered. */
interface Batch {
  open: number;
  timer: NodeJS.Timeout | undefined;
}

/** A lease asked for and not answered yet. */
interface Waiting {
  done: (r: LeaseReply | undefined) => void;
  /** Unset until the lease leaves with the others of its turn. */
  batch?: Batch;
}

/** The leases of one counter space (a sketch name and window length: one RateLimit), by key. */
interface LeaseTable {
  readonly byKey: Map<string, Lease>;
}

export class ClusterCounters implements SharedCounters {
  /** Tables by `sketch|windowMs`; the options object a plugin passes on every take finds its table directly. */
  private readonly tables = new Map<string, LeaseTable>();
  private readonly tableOf = new WeakMap<CounterOptions, { windowMs: number; table: LeaseTable }>();
  private leaseCount = 0;
  private readonly waiting = new Map<number, Waiting>();
  /** Leases asked for during this turn of the event loop, sent together when it ends. */
  private outbox: LeaseRequest[] = [];
  private outboxWaiting: Waiting[] = [];
  private flushQueued = false;
  private nextId = 1;
  private lastSweep = 0;
  /** Takes answered without asking the primary, leases asked for, and messages sent for them (tests and metrics). */
  localHits = 0;
  roundTrips = 0;
  messages = 0;

  /**
   * @param workers the gateway's worker count: every worker spends its own slice of each window
   * without asking and the primary lends the rest. 0: no slices (every unit is borrowed).
   */
  constructor(
    private readonly send: (m: LeaseRequests) => boolean,
    private readonly now: () => number = Date.now,
    private readonly workers = 0,
  ) {}

  /** Feed every `lease-replies` message from the primary here. */
  onReplies(m: LeaseReplies): void {
    for (let i = 0; i < m.r.length; i++) this.settle(m.r[i]!.id, m.r[i]);
  }

  private settle(id: number, r: LeaseReply | undefined): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    if (w.batch !== undefined && --w.batch.open === 0) clearTimeout(w.batch.timer);
    w.done(r);
  }

  /** The lease table of a counter space; found without building a string when `opts` was seen before. */
  private table(windowMs: number, opts: CounterOptions | undefined): LeaseTable {
    if (opts !== undefined) {
      const known = this.tableOf.get(opts);
      if (known !== undefined && known.windowMs === windowMs) return known.table;
    }
    const name = `${opts?.sketch ?? ''}|${windowMs}`;
    let t = this.tables.get(name);
    if (t === undefined) {
      t = { byKey: new Map() };
      this.tables.set(name, t);
    }
    if (opts !== undefined) this.tableOf.set(opts, { windowMs, table: t });
    return t;
  }

  take(key: string, cost: number, limit: number, windowMs: number, opts?: CounterOptions): CounterResult | Promise<CounterResult> {
    const now = this.now();
    const windowStart = now - (now % windowMs);
    const resetAt = windowStart + windowMs;
    this.sweep(now);
    const table = this.table(windowMs, opts);
    let l = table.byKey.get(key);
    if (l !== undefined && l.windowStart !== windowStart) {
      if (l.pending === undefined) {
        table.byKey.delete(key);
        this.leaseCount--;
        l = undefined;
      }
    }
    const slice = this.workers > 0 ? sliceFor(limit, this.workers) : 0;
    /** What the primary lends: the limit less every worker's slice. */
    const pool = limit - this.workers * slice;
    if (slice > 0) {
      // This worker's own slice first: no lease, no wait (a new key in each window is the usual case of a limit per client).
      if (l === undefined && this.leaseCount < MAX_LEASES) {
        l = newLease(windowStart, windowMs, batchFor(pool, cost));
        table.byKey.set(key, l);
        this.leaseCount++;
      }
      if (l !== undefined && l.windowStart === windowStart && l.own + cost <= slice) {
        l.own += cost;
        this.localHits++;
        // A busy key: its first units from the primary are on their way before the slice is spent.
        if (slice - l.own < l.half) this.prefetch(l, table, key, cost, pool, windowMs, opts, now);
        const count = Math.min(limit, l.own + l.count - l.left);
        return { allowed: true, count, remaining: Math.max(0, limit - count), resetAt };
      }
    }
    if (l !== undefined && l.windowStart === windowStart) {
      if (l.left >= cost) {
        l.left -= cost;
        this.localHits++;
        const count = Math.min(pool, l.count - l.left);
        if (l.left < l.half) this.prefetch(l, table, key, cost, pool, windowMs, opts, now);
        return { allowed: true, count, remaining: Math.max(0, pool - count), resetAt };
      }
      if (l.exhausted) {
        this.localHits++;
        return { allowed: false, count: l.count, remaining: 0, resetAt };
      }
    }
    if (l !== undefined && l.pending !== undefined) {
      return l.pending.then(() => this.take(key, cost, limit, windowMs, opts));
    }
    return this.borrow(table, key, cost, pool, windowMs, opts, now, windowStart);
  }

  private borrow(table: LeaseTable, key: string, cost: number, limit: number, windowMs: number, opts: CounterOptions | undefined, now: number, windowStart: number): Promise<CounterResult> {
    const want = batchFor(limit, cost);
    let l = table.byKey.get(key);
    const cache = l !== undefined || this.leaseCount < MAX_LEASES;
    if (l === undefined || l.windowStart !== windowStart) {
      l = newLease(windowStart, windowMs, want);
      if (cache) {
        if (!table.byKey.has(key)) this.leaseCount++;
        table.byKey.set(key, l);
      }
    }
    const lease = l;
    const reply = new Promise<LeaseReply | undefined>((resolve) => this.ask(key, cost, want, limit, windowMs, opts, now, resolve));
    let result!: CounterResult;
    lease.pending = reply.then((r) => {
      lease.pending = undefined;
      if (r === undefined) {
        // The primary did not answer (it is stopping): let the request through rather than
        // refuse traffic because of the gateway's own trouble.
        result = { allowed: true, count: 0, remaining: limit, resetAt: windowStart + windowMs };
        return;
      }
      lease.count = r.count;
      if (r.granted === 0) {
        lease.exhausted = true;
        result = { allowed: false, count: r.count, remaining: 0, resetAt: r.resetAt };
        return;
      }
      lease.left += r.granted - cost;
      const count = Math.min(limit, r.count - lease.left);
      result = { allowed: true, count, remaining: Math.max(0, limit - count), resetAt: r.resetAt };
    });
    return lease.pending.then(() => result);
  }

  /**
   * Half a batch is asked for once less than half is left, so busy keys never wait for the
   * primary (every request for the key would queue behind the round trip). Units held stay under
   * one batch: less than half left plus half a batch.
   */
  private prefetch(l: Lease, table: LeaseTable, key: string, cost: number, limit: number, windowMs: number, opts: CounterOptions | undefined, now: number): void {
    const half = l.half;
    if (half < cost || l.topUp || l.exhausted || l.pending !== undefined) return;
    l.topUp = true;
    this.ask(key, 1, half, limit, windowMs, opts, now, (r) => {
      l.topUp = false;
      // A lease of a window that ended (dropped meanwhile) keeps nothing: those units go unused.
      if (r === undefined || table.byKey.get(key) !== l) return;
      l.count = r.count;
      if (r.granted === 0) l.exhausted = true; // the window is full: what is left is spent, then refused here
      else l.left += r.granted;
    });
  }

  /**
   * One lease request to the primary; `done` runs once, with undefined when no answer came in
   * time. It leaves with the others of this turn of the event loop (setImmediate: after the poll
   * phase that read the requests asking for them).
   */
  private ask(key: string, cost: number, want: number, limit: number, windowMs: number, opts: CounterOptions | undefined, now: number, done: (r: LeaseReply | undefined) => void): void {
    const id = this.nextId++;
    const req: LeaseRequest = { id, key, cost, want, limit, windowMs, at: now };
    if (opts?.sketch !== undefined) req.sketch = opts.sketch;
    if (opts?.slotsK !== undefined) req.slotsK = opts.slotsK;
    this.roundTrips++;
    const w: Waiting = { done };
    this.waiting.set(id, w);
    this.outbox.push(req);
    this.outboxWaiting.push(w);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    const q = this.outbox;
    if (q.length === 0) return;
    const ws = this.outboxWaiting;
    this.outbox = [];
    this.outboxWaiting = [];
    const batch: Batch = { open: q.length, timer: undefined };
    for (let i = 0; i < ws.length; i++) ws[i]!.batch = batch;
    this.messages++;
    if (!this.send({ t: 'leases', q })) {
      for (let i = 0; i < q.length; i++) this.settle(q[i]!.id, undefined);
      return;
    }
    batch.timer = setTimeout(() => {
      for (let i = 0; i < q.length; i++) this.settle(q[i]!.id, undefined);
    }, IPC_TIMEOUT_MS);
    batch.timer.unref();
  };

  /** Forgets leases of windows that ended, at most once a second. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const t of this.tables.values()) {
      for (const [key, l] of t.byKey) {
        if (l.pending === undefined && l.windowStart + l.windowMs <= now) {
          t.byKey.delete(key);
          this.leaseCount--;
        }
      }
    }
  }

  get size(): number {
    return this.leaseCount;
  }
}

/** Primary side: answers one worker's lease requests from the gateway's store, one message per message. */
export function serveCounterLeases(worker: Worker, store: LocalCounters): void {
  worker.on('message', (m: { t?: string }) => {
    if (m?.t !== 'leases') return;
    const reply: LeaseReplies = { t: 'lease-replies', r: answerLeases(store, (m as LeaseRequests).q) };
    if (worker.isConnected()) {
      try {
        worker.send(reply);
      } catch {
        // the worker is going away
      }
    }
  });
}

/** The store's answers to a batch of lease requests, in order. */
export function answerLeases(store: LocalCounters, q: readonly LeaseRequest[]): LeaseReply[] {
  const out: LeaseReply[] = [];
  for (let i = 0; i < q.length; i++) {
    const x = q[i]!;
    const opts: CounterOptions | undefined = x.sketch !== undefined ? { sketch: x.sketch, ...(x.slotsK !== undefined ? { slotsK: x.slotsK } : {}) } : undefined;
    const r = store.lease(x.key, x.cost, x.want, x.limit, x.windowMs, opts, x.at);
    out.push({ id: x.id, granted: r.granted, count: r.count, resetAt: r.resetAt });
  }
  return out;
}
