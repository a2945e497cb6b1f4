// Workers serve traffic; the primary holds the config stream and the admin API and hands every
// snapshot to every worker. A WorkerHandle hides whether a worker is a node:cluster child or the
// data plane running in the primary's own process (`--workers 0`, handy for debugging).

import cluster, { type Worker } from 'node:cluster';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Snapshot } from '../ir/index.js';
import type { Logger } from '../shared/logger.js';
import type { ApplyResult, DataPlane } from './data-plane.js';
import { serveCounterLeases, type LeaseReplies, type LeaseRequests } from './plugins-engine/cluster-counters.js';
import type { LocalCounters } from './plugins-engine/local-counters.js';

export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

export interface WorkerHandle {
  readonly id: number;
  readonly pid: number;
  /** Last result the worker reported (undefined until it applied something). */
  applied: ApplyResult | undefined;
  apply(snapshot: Snapshot): Promise<ApplyResult>;
  metrics(): Promise<WorkerMetrics>;
  shutdown(graceMs: number): Promise<void>;
}

/** Messages between primary and cluster workers. */
export type PrimaryMessage =
  | { t: 'snapshot'; snapshot: Snapshot }
  | { t: 'metrics'; id: number }
  | { t: 'shutdown'; graceMs: number }
  | LeaseReplies;

export type WorkerMessage =
  | { t: 'booted' }
  | { t: 'applied'; result: ApplyResult }
  | { t: 'metrics'; id: number; data: WorkerMetrics }
  | LeaseRequests;

export class InProcessWorker implements WorkerHandle {
  readonly id = 0;
  readonly pid = process.pid;
  applied: ApplyResult | undefined;
  constructor(private readonly plane: DataPlane) {}

  async apply(snapshot: Snapshot): Promise<ApplyResult> {
    this.applied = await this.plane.apply(snapshot);
    return this.applied;
  }

  async metrics(): Promise<WorkerMetrics> {
    return (await this.plane.metrics.registry.getMetricsAsJSON()) as WorkerMetrics;
  }

  shutdown(graceMs: number): Promise<void> {
    return this.plane.close(graceMs);
  }
}

export class ClusterWorker implements WorkerHandle {
  applied: ApplyResult | undefined;
  private nextId = 1;
  private readonly pendingMetrics = new Map<number, (m: WorkerMetrics) => void>();
  private readonly pendingApply: { version: number; resolve: (r: ApplyResult) => void }[] = [];
  readonly booted: Promise<void>;
  readonly exited: Promise<number | null>;

  constructor(readonly worker: Worker) {
    let onBoot!: () => void;
    this.booted = new Promise((r) => (onBoot = r));
    this.exited = new Promise((r) => worker.once('exit', (code) => r(code)));
    worker.on('message', (m: WorkerMessage) => {
      if (m.t === 'booted') onBoot();
      else if (m.t === 'applied') {
        this.applied = m.result;
        while (this.pendingApply.length && this.pendingApply[0]!.version <= m.result.version) this.pendingApply.shift()!.resolve(m.result);
      } else if (m.t === 'metrics') {
        this.pendingMetrics.get(m.id)?.(m.data);
        this.pendingMetrics.delete(m.id);
      }
    });
    void this.exited.then(() => {
      for (const p of this.pendingApply.splice(0)) p.resolve({ version: 0, listeners: [], error: 'worker exited' });
      for (const [id, fn] of this.pendingMetrics) {
        fn([]);
        this.pendingMetrics.delete(id);
      }
    });
  }

  get id(): number {
    return this.worker.id;
  }

  get pid(): number {
    return this.worker.process.pid ?? 0;
  }

  private send(m: PrimaryMessage): boolean {
    if (!this.worker.isConnected()) return false;
    try {
      this.worker.send(m);
      return true;
    } catch {
      return false;
    }
  }

  apply(snapshot: Snapshot): Promise<ApplyResult> {
    return new Promise((resolve) => {
      if (!this.send({ t: 'snapshot', snapshot })) return resolve({ version: 0, listeners: [], error: 'worker not connected' });
      this.pendingApply.push({ version: snapshot.version, resolve });
    });
  }

  metrics(): Promise<WorkerMetrics> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pendingMetrics.delete(id);
        resolve([]);
      }, 2000);
      this.pendingMetrics.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      if (!this.send({ t: 'metrics', id })) {
        clearTimeout(timer);
        this.pendingMetrics.delete(id);
        resolve([]);
      }
    });
  }

  async shutdown(graceMs: number): Promise<void> {
    this.send({ t: 'shutdown', graceMs });
    const killer = setTimeout(() => this.worker.process.kill('SIGKILL'), graceMs + 3000);
    await this.exited;
    clearTimeout(killer);
  }
}

/** The environment variable that tells a worker how many workers the gateway runs. */
export const WORKER_COUNT_ENV = 'EDGION_GATEWAY_WORKERS';

/** Forks cluster workers, restarts the ones that die (with backoff) and keeps them fed. */
export class WorkerPool {
  readonly workers = new Map<number, WorkerHandle>();
  private stopping = false;
  private restartDelay = 500;
  private lastSnapshot: Snapshot | undefined;

  constructor(
    private readonly count: number,
    private readonly logger: Logger,
    private readonly onChange: () => void,
    /** The gateway-wide counters workers borrow from (rate limits). */
    private readonly counters?: LocalCounters,
  ) {}

  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.count }, () => this.fork()));
  }

  private async fork(): Promise<ClusterWorker> {
    // The worker count sizes each worker's own slice of every rate-limit window (cluster-counters.ts).
    const w = new ClusterWorker(cluster.fork({ [WORKER_COUNT_ENV]: String(this.count) }));
    if (this.counters) serveCounterLeases(w.worker, this.counters);
    this.workers.set(w.id, w);
    const startedAt = Date.now();
    void w.exited.then((code) => {
      this.workers.delete(w.id);
      this.onChange();
      if (this.stopping) return;
      const uptime = Date.now() - startedAt;
      if (uptime > 60_000) this.restartDelay = 500;
      const delay = this.restartDelay;
      this.restartDelay = Math.min(30_000, this.restartDelay * 2);
      this.logger.error({ worker: w.id, pid: w.pid, code }, `gateway worker exited with code ${code}; restarting in ${delay} ms (the other workers keep serving)`);
      setTimeout(() => {
        if (this.stopping) return;
        void this.fork().then(async (nw) => {
          if (this.lastSnapshot) await nw.apply(this.lastSnapshot);
          this.onChange();
        });
      }, delay).unref();
    });
    await Promise.race([w.booted, w.exited]);
    return w;
  }

  async apply(snapshot: Snapshot): Promise<ApplyResult[]> {
    this.lastSnapshot = snapshot;
    return Promise.all([...this.workers.values()].map((w) => w.apply(snapshot)));
  }

  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.workers.values()].map((w) => w.shutdown(graceMs)));
  }
}
