// The gateway's primary process: holds the config stream, hands snapshots to the workers, serves
// the admin API (/health, /ready, /metrics, /api/v1/...) and supervises the workers.

import os from 'node:os';
import type { Snapshot } from '../ir/index.js';
import type { Logger } from '../shared/logger.js';
import { AggregatorRegistry, Registry, Counter, Gauge } from 'prom-client';
import { AdminServer } from '../shared/admin-http.js';
import { writeRunFile, removeRunFile } from '../shared/run-files.js';
import { VERSION } from '../shared/version.js';
import { ConfigClient, type AppliedReport } from './sync/config-client.js';
import { gatewayAdminHandler } from './admin/admin-api.js';
import type { ApplyResult } from './data-plane.js';
import type { ListenerState } from './listeners/listener-manager.js';
import type { WorkerHandle, WorkerMetrics } from './workers.js';

export interface GatewayPrimaryOptions {
  controller: string;
  workDir: string;
  adminBind: string;
  adminPort: number;
  adminToken?: string;
  name: string;
  logger: Logger;
}

export interface WorkerSet {
  readonly workers: Map<number, WorkerHandle> | { values(): Iterable<WorkerHandle>; readonly size: number };
  apply(snapshot: Snapshot): Promise<ApplyResult[]>;
  shutdown(graceMs: number): Promise<void>;
}

export class GatewayPrimary {
  readonly startedAt = new Date();
  snapshot: Snapshot | undefined;
  appliedAt: Date | undefined;
  private firstVersion: number | undefined;
  private configClient: ConfigClient | undefined;
  private admin: AdminServer | undefined;
  private readonly registry = new Registry();
  private stopping = false;
  /** Backends refused because of an unusable BackendTLSPolicy, as last logged (logged when they change). */
  private refusedTls = new Set<string>();

  constructor(
    private readonly opts: GatewayPrimaryOptions,
    private readonly workers: WorkerSet,
  ) {
    this.registry.setDefaultLabels({ service: 'edgion-gateway' });
    const self = this;
    new Counter({
      name: 'edgion_config_relist_total',
      help: 'Reconnections of the config stream (each one resends the whole configuration)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(self.configClient?.reconnects ?? 0);
      },
    });
    new Gauge({
      name: 'edgion_controller_connected',
      help: '1 while the config stream to the controller is up',
      registers: [this.registry],
      collect() {
        this.set(self.configClient?.connected ? 1 : 0);
      },
    });
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.admin = new AdminServer({ bind: o.adminBind, port: o.adminPort, ...(o.adminToken ? { token: o.adminToken } : {}), handler: gatewayAdminHandler(this) });
    const port = await this.admin.listen();
    writeRunFile(o.workDir, {
      name: 'gateway',
      pid: process.pid,
      ports: { admin: port },
      adminUrl: `http://${o.adminBind.includes(':') ? `[${o.adminBind}]` : o.adminBind}:${port}`,
      startedAt: this.startedAt.toISOString(),
      version: VERSION,
      controller: o.controller,
    });
    o.logger.info({ admin: `${o.adminBind}:${port}`, controller: o.controller, workers: this.workerList().length }, 'gateway admin API listening');
    this.configClient = new ConfigClient({
      address: o.controller,
      gatewayId: `${os.hostname()}-${process.pid}`,
      gatewayName: o.name,
      logger: o.logger,
      onSnapshot: (s) => this.onSnapshot(s),
    });
    this.configClient.start();
  }

  private async onSnapshot(snapshot: Snapshot): Promise<AppliedReport> {
    const t0 = performance.now();
    const results = await this.workers.apply(snapshot);
    this.snapshot = snapshot;
    this.appliedAt = new Date();
    this.firstVersion ??= snapshot.version;
    const errors = results.map((r) => r.error).filter(Boolean);
    const listeners = this.listenerStates();
    this.opts.logger.info(
      { version: snapshot.version, ms: Math.round(performance.now() - t0), listeners: listeners.filter((l) => l.bound).length, routes: snapshot.httpRoutes.length },
      `applied configuration version ${snapshot.version}`,
    );
    this.reportRefusedTls(snapshot);
    return { version: snapshot.version, ready: this.readiness().ready, listeners, ...(errors.length ? { error: errors.join('; ') } : {}) };
  }

  /** Logs once each backend whose BackendTLSPolicy cannot be applied (its requests get 502). */
  private reportRefusedTls(snapshot: Snapshot): void {
    const now = new Set<string>();
    for (const c of Object.values(snapshot.clusters)) {
      const why = c.tls?.error;
      if (why === undefined) continue;
      const line = `requests to Service ${c.namespace}/${c.name}${c.port !== undefined ? `:${c.port}` : ''} are refused (502): ${why}`;
      now.add(line);
      if (!this.refusedTls.has(line)) this.opts.logger.warn({ cluster: c.key, policy: c.tls?.policy }, line);
    }
    this.refusedTls = now;
  }

  workerList(): WorkerHandle[] {
    return [...this.workers.workers.values()];
  }

  listenerStates(): ListenerState[] {
    // Every worker binds the same set; report the first one's view plus any worker's failure.
    const byKey = new Map<string, ListenerState>();
    for (const w of this.workerList()) {
      for (const l of w.applied?.listeners ?? []) {
        const key = `${l.address}:${l.port}`;
        const cur = byKey.get(key);
        if (!cur || (cur.bound && !l.bound)) byKey.set(key, l);
      }
    }
    return [...byKey.values()].sort((a, b) => a.port - b.port);
  }

  readiness(): { ready: boolean; reason?: string } {
    if (this.stopping) return { ready: false, reason: 'shutting down' };
    if (this.snapshot === undefined) return { ready: false, reason: 'no configuration received from the controller yet' };
    const workers = this.workerList();
    if (workers.length === 0) return { ready: false, reason: 'no worker is running' };
    for (const w of workers) {
      if (!w.applied || w.applied.version < (this.firstVersion ?? 0)) return { ready: false, reason: `worker ${w.id} has not applied the configuration yet` };
      const failed = w.applied.listeners.filter((l) => !l.bound);
      if (failed.length) return { ready: false, reason: failed.map((l) => `listener ${l.address}:${l.port}: ${l.error ?? 'not bound'}`).join('; ') };
    }
    return { ready: true };
  }

  status(): Record<string, unknown> {
    const r = this.readiness();
    const cc = this.configClient;
    return {
      gateway: { version: VERSION, pid: process.pid, name: this.opts.name, startedAt: this.startedAt.toISOString(), workers: this.workerList().length },
      ready: r.ready,
      ...(r.reason ? { reason: r.reason } : {}),
      controller: { address: this.opts.controller, connected: cc?.connected ?? false, lastContactAt: cc?.lastContactAt ? new Date(cc.lastContactAt).toISOString() : null, reconnects: cc?.reconnects ?? 0 },
      config: { version: this.snapshot?.version ?? 0, controllerId: this.snapshot?.controllerId ?? null, appliedAt: this.appliedAt?.toISOString() ?? null },
      listeners: this.listenerStates().map((l) => ({ ...l, error: l.error ?? null })),
      workers: this.workerList().map((w) => ({ id: w.id, pid: w.pid, version: w.applied?.version ?? 0 })),
    };
  }

  async metricsText(): Promise<string> {
    const perWorker = await Promise.all(this.workerList().map((w) => w.metrics()));
    const own = (await this.registry.getMetricsAsJSON()) as WorkerMetrics;
    const merged = AggregatorRegistry.aggregate([...perWorker.filter((m) => m.length), own]);
    return merged.metrics();
  }

  async requestTotals(): Promise<{ total: number; inFlight: number }> {
    const perWorker = await Promise.all(this.workerList().map((w) => w.metrics()));
    let total = 0;
    let inFlight = 0;
    for (const list of perWorker) {
      for (const m of list) {
        const v = m.values.reduce((s, x) => s + Number(x.value), 0);
        if (m.name === 'edgion_requests_total') total += v;
        if (m.name === 'edgion_ctx_active') inFlight += v;
      }
    }
    return { total, inFlight };
  }

  async stop(graceMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.opts.logger.info({ graceMs }, 'stopping: draining in-flight requests');
    this.configClient?.close();
    await this.workers.shutdown(graceMs);
    await this.admin?.close();
    removeRunFile(this.opts.workDir, 'gateway');
    this.opts.logger.info('gateway stopped');
  }
}
