// A gateway worker process: a DataPlane fed by the primary over cluster IPC.
import path from 'node:path';
import cluster from 'node:cluster';
import { createLogger } from '../shared/logger.js';
import { DataPlane } from './data-plane.js';
import { ClusterCounters } from './plugins-engine/cluster-counters.js';
import { WORKER_COUNT_ENV, type PrimaryMessage, type WorkerMessage, type WorkerMetrics } from './workers.js';

export interface WorkerOptions {
  workDir: string;
  logLevel: string;
  bindAddress?: string;
}

export function runWorker(opts: WorkerOptions): void {
  const id = cluster.worker?.id ?? 0;
  const logger = createLogger({ name: 'gateway', level: opts.logLevel, logDir: path.join(opts.workDir, 'logs') }).child({ worker: id });
  const send = (m: WorkerMessage): boolean => {
    if (!process.connected || !process.send) return false;
    try {
      process.send(m);
      return true;
    } catch {
      return false;
    }
  };
  // Rate-limit counters are the primary's; this worker spends its own slice of each window and
  // borrows batches of the rest.
  const counters = new ClusterCounters(send, Date.now, Number(process.env[WORKER_COUNT_ENV]) || 0);
  const plane = new DataPlane({ workDir: opts.workDir, logger, counters, ...(opts.bindAddress ? { bindAddress: opts.bindAddress } : {}) });
  let stopping = false;
  const stop = async (graceMs: number) => {
    if (stopping) return;
    stopping = true;
    await plane.close(graceMs);
    logger.flush();
    process.exit(0);
  };
  process.on('message', (m: PrimaryMessage) => {
    if (m.t === 'lease-replies') {
      counters.onReplies(m);
    } else if (m.t === 'snapshot') {
      void plane.apply(m.snapshot).then((result) => send({ t: 'applied', result }));
    } else if (m.t === 'metrics') {
      void plane.metrics.registry.getMetricsAsJSON().then((data) => send({ t: 'metrics', id: m.id, data: data as WorkerMetrics }));
    } else if (m.t === 'shutdown') {
      void stop(m.graceMs);
    }
  });
  // The whole process group gets SIGTERM/SIGINT from supervisors: drain instead of dying.
  process.on('SIGTERM', () => void stop(10_000));
  process.on('SIGINT', () => void stop(10_000));
  process.on('disconnect', () => void stop(5_000));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: err.stack ?? err.message }, 'uncaught exception in gateway worker; exiting (the primary restarts it)');
    logger.flush();
    process.exit(70);
  });
  send({ t: 'booted' });
}
