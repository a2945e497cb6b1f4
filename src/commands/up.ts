import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { startDetached } from '../cli/detach.js';
import { resolveBins } from '../cli/edgion-bins.js';
import type { UpRunFile } from '../cli/run-files.js';
import { runUp, type UpOptions, type UpOutcome } from '../cli/up.js';
import { readySummary } from '../cli/up-summary.js';

const port = (description: string, defaultPort: number) =>
  Flags.integer({ description: `${description} (0 picks a free port)`, default: defaultPort, min: 0, max: 65535, helpValue: 'PORT' });

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Start a controller and a gateway and supervise them (the built-in demo without --conf-dir).';

  static override description = `Starts edgion-controller and edgion-gateway as child processes, waits until the gateway is ready, prints what runs where, and stays in the foreground: SIGINT/SIGTERM stop both gracefully (exit 0). A child that dies is restarted with backoff (1s doubling to 30s).
Without --conf-dir it serves a demo: a Gateway on 127.0.0.1:8080 routing to a built-in echo backend, configured from <work-dir>/demo/*.yaml.
--detach starts the same in the background, prints the PIDs and returns once ready; "edgion-ctl down" stops it.
With --json, one JSON document (the content of <work-dir>/run/up.json) is printed once ready; process output then goes to stderr.`;

  static override examples = [
    '<%= config.bin %> up',
    '<%= config.bin %> up --conf-dir ./conf',
    '<%= config.bin %> up --conf-dir ./conf -d && <%= config.bin %> status && <%= config.bin %> down',
    '<%= config.bin %> up --conf-dir ./conf --admin-port 0 --grpc-port 0 --gateway-admin-port 0 --work-dir /tmp/edgion-a',
  ];

  static override flags = {
    'conf-dir': Flags.string({ description: 'Configuration folder (YAML resources). Omit for the built-in demo.', helpValue: 'DIR' }),
    'admin-port': port('Controller admin API port', 5800),
    'grpc-port': port('Controller gRPC config stream port', 5810),
    'gateway-admin-port': port('Gateway admin API port', 5900),
    'demo-port': Flags.integer({ description: 'Listener port of the demo Gateway', default: 8080, min: 1, max: 65535, helpValue: 'PORT' }),
    detach: Flags.boolean({ char: 'd', description: 'Run in the background; return once ready (stop with "edgion-ctl down")' }),
    workers: Flags.integer({ description: 'Gateway worker processes (default: the gateway decides)', min: 1, helpValue: 'N' }),
    timeout: Flags.integer({ description: 'Seconds to wait for the gateway to be ready', default: 30, min: 1, helpValue: 'SECONDS' }),
    'admin-token': Flags.string({
      description: 'Token the admin APIs require (passed to the children as EDGION_ADMIN_TOKEN)',
      env: 'EDGION_ADMIN_TOKEN',
      helpValue: 'TOKEN',
    }),
    'log-level': Flags.option({ description: 'Log level of the children', options: ['trace', 'debug', 'info', 'warn', 'error'] as const })(),
    // DETACHED_CHILD_FLAG (a literal key keeps the flag types inferred).
    'detached-child': Flags.boolean({ hidden: true, description: 'internal: this is the background supervisor of up --detach' }),
  };

  async run(): Promise<UpRunFile | UpOutcome> {
    const f = this.flags;
    const options: UpOptions = {
      confDir: f['conf-dir'],
      workDir: f['work-dir'],
      adminPort: f['admin-port'],
      grpcPort: f['grpc-port'],
      gatewayAdminPort: f['gateway-admin-port'],
      demoPort: f['demo-port'],
      workers: f.workers,
      timeoutSeconds: f.timeout,
      adminToken: f['admin-token'] ?? f.token,
      logLevel: f['log-level'],
      detached: f['detached-child'],
    };
    const bins = resolveBins();
    if (f.detach) {
      const info = await startDetached(options, { bins, out: this.out, env: process.env });
      for (const line of readySummary(info)) this.out.line(line);
      return info;
    }
    const outcome = await runUp(options, {
      bins,
      out: this.out,
      env: process.env,
      // In --json mode the document is due when ready, not when `up` ends hours later.
      onReady: (info) => this.out.json && this.logJson(info),
    });
    return outcome.info ?? outcome;
  }
}
