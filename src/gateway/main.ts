// edgion-gateway: the data plane. The primary process connects to the controller and serves the
// admin API; node:cluster workers (one per core by default) serve traffic.
import cluster from 'node:cluster';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../shared/logger.js';
import { parseFlags, intFlag } from '../shared/process-args.js';
import { DataPlane } from './data-plane.js';
import { GatewayPrimary } from './primary.js';
import { InProcessWorker, WorkerPool } from './workers.js';
import { runWorker } from './worker.js';
import { LocalCounters } from './plugins-engine/local-counters.js';

const USAGE = `usage: edgion-gateway --controller HOST:PORT [--work-dir W] [--admin-port 5900] [--admin-bind 127.0.0.1]
                      [--admin-token T] [--workers N] [--bind-address ADDR] [--name NAME] [--log-level info]
  --workers N       worker processes (default: one per core; 0 = serve from the primary process)
  --bind-address    bind every listener on this address instead of the Gateway's addresses`;

const flags = parseFlags(
  process.argv.slice(2),
  {
    controller: { type: 'string' },
    'work-dir': { type: 'string' },
    'admin-port': { type: 'string' },
    'admin-bind': { type: 'string' },
    'admin-token': { type: 'string' },
    workers: { type: 'string' },
    'bind-address': { type: 'string' },
    name: { type: 'string' },
    'log-level': { type: 'string' },
    'grace-ms': { type: 'string' },
  },
  USAGE,
);

const workDir = path.resolve(flags['work-dir'] ?? '.edgion');
const logLevel = flags['log-level'] ?? process.env.EDGION_LOG_LEVEL ?? 'info';
const graceMs = flags['grace-ms'] !== undefined ? Number(flags['grace-ms']) : 10_000;

if (cluster.isWorker) {
  runWorker({ workDir, logLevel, ...(flags['bind-address'] ? { bindAddress: flags['bind-address'] } : {}) });
} else {
  await runPrimary();
}

async function runPrimary(): Promise<void> {
  if (!flags.controller) {
    process.stderr.write(`--controller is required\n\n${USAGE}\n`);
    process.exit(2);
  }
  const logger = createLogger({ name: 'gateway', level: logLevel, logDir: path.join(workDir, 'logs') });
  const workerCount = flags.workers !== undefined ? intFlag(flags.workers, 1, 'workers') : os.availableParallelism();
  let workers;
  // The gateway's one store of rate-limit counters (DECISIONS.md §32).
  const counters = new LocalCounters();
  if (workerCount === 0) {
    const plane = new DataPlane({ workDir, logger, counters, ...(flags['bind-address'] ? { bindAddress: flags['bind-address'] } : {}) });
    const w = new InProcessWorker(plane);
    workers = { workers: new Map([[0, w]]), apply: async (s: Parameters<typeof w.apply>[0]) => [await w.apply(s)], shutdown: (g: number) => w.shutdown(g) };
  } else {
    cluster.setupPrimary({ exec: process.argv[1]!, args: process.argv.slice(2) });
    const pool = new WorkerPool(workerCount, logger, () => undefined, counters);
    await pool.start();
    workers = pool;
  }
  const primary = new GatewayPrimary(
    {
      controller: flags.controller,
      workDir,
      adminBind: flags['admin-bind'] ?? '127.0.0.1',
      adminPort: intFlag(flags['admin-port'], 5900, 'admin-port'),
      ...((flags['admin-token'] ?? process.env.EDGION_ADMIN_TOKEN) ? { adminToken: flags['admin-token'] ?? process.env.EDGION_ADMIN_TOKEN } : {}),
      name: flags.name ?? os.hostname(),
      logger,
    },
    workers,
  );
  try {
    await primary.start();
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, `gateway cannot start: ${(err as Error).message}`);
    await workers.shutdown(0);
    logger.flush();
    process.exit(1);
  }
  const stop = async (signal: string) => {
    logger.info({ signal }, `received ${signal}`);
    await primary.stop(graceMs);
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
