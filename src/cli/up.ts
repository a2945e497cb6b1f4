// `edgion-ctl up`: start a controller and a gateway (and in demo mode an echo
// backend), wait until the gateway is ready, say what runs where, then supervise
// until SIGINT/SIGTERM.
//
// Start order and what each step waits for:
//   demo-echo  → W/run/demo-echo.json (its port goes into the demo configuration)
//   controller → W/run/controller.json (its gRPC port is the gateway's --controller)
//   gateway    → W/run/gateway.json, then GET /ready = 200
// All of it within --timeout; otherwise the last lines of the slow process are shown,
// everything is stopped and the command exits 1.

import { rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AdminClient, GatewayApi } from './admin-client.js';
import { writeDemoConfig } from './demo/demo-config.js';
import { assertBinsExist, type EdgionBins } from './edgion-bins.js';
import { CliError, cliError } from './errors.js';
import type { Output } from './output.js';
import { checkPortsFree } from './ports.js';
import {
  ensureWorkDirs,
  isPidAlive,
  isPidOurs,
  readProcessRunFile,
  readUpRunFile,
  removeFile,
  workPaths,
  writeJsonFileAtomic,
  type ProcessRunFile,
  type UpRunFile,
  type WorkPaths,
} from './run-files.js';
import type { SupervisedProcess } from './supervised-process.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';
import { readySummary } from './up-summary.js';
import { attemptReachable, poll } from './wait.js';

export interface UpOptions {
  /** undefined: demo mode. */
  confDir: string | undefined;
  workDir: string;
  adminPort: number;
  grpcPort: number;
  gatewayAdminPort: number;
  /** Listener port of the demo Gateway. */
  demoPort: number;
  workers: number | undefined;
  timeoutSeconds: number;
  adminToken: string | undefined;
  logLevel: string | undefined;
  /** True in the background supervisor started by `up --detach`. */
  detached: boolean;
}

export interface UpContext {
  bins: EdgionBins;
  out: Output;
  env: NodeJS.ProcessEnv;
  /** Called once, when everything is ready, with the content of W/run/up.json. */
  onReady?: (info: UpRunFile) => void;
  supervisor?: Partial<Omit<SupervisorOptions, 'console'>>;
}

/** The `--json` result of a foreground `up` (printed when ready). */
export interface UpOutcome {
  ready: boolean;
  info: UpRunFile | null;
  /** What ended the run: the signal name, or "requested". */
  stoppedBy: string;
}

const TAIL_ON_FAILURE = 20;

export async function runUp(options: UpOptions, ctx: UpContext): Promise<UpOutcome> {
  const paths = workPaths(options.workDir);
  const demo = options.confDir === undefined;
  await ensureWorkDirs(paths);
  await refuseIfAlreadyRunning(paths);
  assertBinsExist(ctx.bins, demo ? ['controller', 'gateway', 'echoServer'] : ['controller', 'gateway']);
  if (options.confDir !== undefined) await assertDirectory(options.confDir);
  await checkPortsFree(
    [
      { port: options.adminPort, purpose: 'controller admin API', flag: '--admin-port' },
      { port: options.grpcPort, purpose: 'controller gRPC config stream', flag: '--grpc-port' },
      { port: options.gatewayAdminPort, purpose: 'gateway admin API', flag: '--gateway-admin-port' },
      ...(demo ? [{ port: options.demoPort, purpose: 'demo Gateway listener', flag: '--demo-port' }] : []),
    ],
    `Stop it with "edgion-ctl down --work-dir ${paths.workDir}".`,
  );

  const supervisor = new Supervisor({ console: ctx.out.console, ...ctx.supervisor });
  const removeSignalHandlers = supervisor.handleSignals();
  const session = new UpSession(options, ctx, paths, supervisor);
  try {
    const info = await session.startAll();
    if (!info) {
      await supervisor.stop();
      return { ready: false, info: null, stoppedBy: String(await supervisor.whenShutdownRequested()) };
    }
    ctx.onReady?.(info);
    const reason = await supervisor.whenShutdownRequested();
    await supervisor.stop();
    ctx.out.console('stopped');
    return { ready: true, info, stoppedBy: String(reason) };
  } catch (err) {
    await supervisor.stop();
    throw err;
  } finally {
    removeSignalHandlers();
    await session.cleanup();
  }
}

async function refuseIfAlreadyRunning(paths: WorkPaths): Promise<void> {
  const existing = await readUpRunFile(paths.upRunFile);
  if (existing && existing.pid !== process.pid && isPidOurs(existing.pid, 'edgion-ctl')) {
    throw cliError('alreadyRunning', `edgion is already running from ${paths.workDir} (supervisor pid ${existing.pid})`, {
      details: existing,
      hint: `Stop it with "edgion-ctl down --work-dir ${paths.workDir}", or use another --work-dir.`,
    });
  }
}

async function assertDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw cliError('pathNotFound', `--conf-dir ${dir} is not a folder`, { hint: 'Leave --conf-dir out to serve the built-in demo.' });
  }
}

/** Ports a process reported in its run file; restarts reuse them. */
interface Learned {
  echo?: number;
  controllerAdmin?: number;
  controllerGrpc?: number;
  gatewayAdmin?: number;
}

class UpSession {
  private readonly learned: Learned = {};
  private readonly demo: boolean;
  private readonly startupFailure = new AbortController();
  private failure: CliError | undefined;
  private readonly processes: Partial<Record<'echo' | 'controller' | 'gateway', SupervisedProcess>> = {};
  private info: UpRunFile | undefined;
  private readonly deadline: number;
  private readonly clients: AdminClient[] = [];

  constructor(
    private readonly options: UpOptions,
    private readonly ctx: UpContext,
    private readonly paths: WorkPaths,
    private readonly supervisor: Supervisor,
  ) {
    this.demo = options.confDir === undefined;
    this.deadline = Date.now() + options.timeoutSeconds * 1000;
    supervisor.onUnexpectedExit = (proc) => this.onUnexpectedExit(proc);
    supervisor.onStarted = (proc) => void this.onStarted(proc);
  }

  /** Starts everything; the up.json content when ready, undefined when a stop was requested first. */
  async startAll(): Promise<UpRunFile | undefined> {
    const { out } = this.ctx;
    const confDir = this.demo ? await this.startDemoBackend() : path.resolve(this.options.confDir!);
    if (confDir === undefined) return undefined;

    const controller = this.add('controller', () => this.controllerArgs(confDir));
    const controllerRun = await this.waitForRunFile(controller);
    if (!controllerRun) return undefined;
    this.learned.controllerAdmin = controllerRun.ports.admin;
    this.learned.controllerGrpc = controllerRun.ports.grpc;
    if (!this.learned.controllerGrpc) {
      throw await this.fail(cliError('startFailed', `the controller's run file ${this.paths.runFile('controller')} has no ports.grpc`));
    }

    const gateway = this.add('gateway', () => this.gatewayArgs());
    const gatewayRun = await this.waitForRunFile(gateway);
    if (!gatewayRun) return undefined;
    this.learned.gatewayAdmin = gatewayRun.ports.admin;
    const gatewayUrl = adminUrlOf(gatewayRun);
    if (!(await this.waitForGatewayReady(gateway, gatewayUrl))) return undefined;

    const info: UpRunFile = {
      pid: process.pid,
      controllerPid: controller.pid ?? controllerRun.pid,
      gatewayPid: gateway.pid ?? gatewayRun.pid,
      ...(this.processes.echo?.pid ? { echoPid: this.processes.echo.pid } : {}),
      ports: {
        controllerAdmin: this.learned.controllerAdmin ?? 0,
        controllerGrpc: this.learned.controllerGrpc,
        gatewayAdmin: this.learned.gatewayAdmin ?? 0,
        ...(this.demo ? { demoEcho: this.learned.echo, demoListener: this.options.demoPort } : {}),
      },
      controllerUrl: adminUrlOf(controllerRun),
      gatewayUrl,
      workDir: this.paths.workDir,
      confDir,
      demo: this.demo,
      detached: this.options.detached,
      logs: {
        controller: this.paths.logFile('controller'),
        gateway: this.paths.logFile('gateway'),
        ...(this.options.detached ? { up: this.paths.upLog } : {}),
      },
      startedAt: new Date().toISOString(),
    };
    this.info = info;
    await writeJsonFileAtomic(this.paths.upRunFile, info);
    for (const line of readySummary(info)) out.line(line);
    return info;
  }

  /** Removes what this run wrote, once its processes are gone. */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.close()));
    const current = await readUpRunFile(this.paths.upRunFile);
    if (current?.pid === process.pid) await removeFile(this.paths.upRunFile);
    for (const name of ['controller', 'gateway', 'demo-echo']) {
      const run = await readProcessRunFile(this.paths.runFile(name));
      if (run && !isPidAlive(run.pid)) await removeFile(this.paths.runFile(name));
    }
  }

  private async startDemoBackend(): Promise<string | undefined> {
    const echo = this.add('demo-echo', () => [
      this.ctx.bins.echoServer,
      '--host',
      '127.0.0.1',
      '--port',
      String(this.learned.echo ?? 0),
      '--run-file',
      this.paths.runFile('demo-echo'),
    ]);
    this.processes.echo = echo;
    const run = await this.waitForRunFile(echo);
    if (!run) return undefined;
    this.learned.echo = run.ports.http;
    if (!this.learned.echo) throw await this.fail(cliError('startFailed', 'the demo echo backend reported no port'));
    await writeDemoConfig(this.paths.demoDir, { echoPort: this.learned.echo, listenerPort: this.options.demoPort });
    return this.paths.demoDir;
  }

  private controllerArgs(confDir: string): string[] {
    const o = this.options;
    const args = [
      this.ctx.bins.controller,
      '--conf-dir',
      confDir,
      '--work-dir',
      this.paths.workDir,
      '--admin-port',
      String(this.learned.controllerAdmin ?? o.adminPort),
      '--grpc-port',
      String(this.learned.controllerGrpc ?? o.grpcPort),
    ];
    if (o.logLevel) args.push('--log-level', o.logLevel);
    return args;
  }

  private gatewayArgs(): string[] {
    const o = this.options;
    const args = [
      this.ctx.bins.gateway,
      '--controller',
      `127.0.0.1:${this.learned.controllerGrpc}`,
      '--work-dir',
      this.paths.workDir,
      '--admin-port',
      String(this.learned.gatewayAdmin ?? o.gatewayAdminPort),
    ];
    if (o.workers !== undefined) args.push('--workers', String(o.workers));
    if (o.logLevel) args.push('--log-level', o.logLevel);
    return args;
  }

  private add(name: 'demo-echo' | 'controller' | 'gateway', args: () => string[]): SupervisedProcess {
    const runFile = this.paths.runFile(name);
    // The token travels in the environment (CONTRACT: EDGION_ADMIN_TOKEN), not in
    // argv where `ps` would show it.
    const env = { ...this.ctx.env, ...(this.options.adminToken ? { EDGION_ADMIN_TOKEN: this.options.adminToken } : {}) };
    const proc = this.supervisor.add({
      name,
      command: process.execPath,
      args: () => {
        // A run file left by an earlier run must not be taken for this start's.
        rmSync(runFile, { force: true });
        return args();
      },
      env,
    });
    if (name !== 'demo-echo') this.processes[name] = proc;
    this.supervisor.start(proc);
    return proc;
  }

  private get waitSignal(): AbortSignal {
    return AbortSignal.any([this.supervisor.signal, this.startupFailure.signal]);
  }

  /** The run file once written; undefined when a stop was requested; throws on failure. */
  private async waitForRunFile(proc: SupervisedProcess): Promise<ProcessRunFile | undefined> {
    const file = this.paths.runFile(proc.name);
    const outcome = await poll(
      async () => {
        const run = proc.running ? await readProcessRunFile(file) : undefined;
        return run ? { done: true, value: run } : { done: false, reason: `${proc.name} to start` };
      },
      {
        timeoutMs: Math.max(0, this.deadline - Date.now()),
        intervalMs: 100,
        signal: this.waitSignal,
        onProgress: (s) => this.ctx.out.console(`waiting for ${proc.name} to start (${s}s)...`),
      },
    );
    if (outcome.done) return outcome.value;
    return this.afterWaitFailed(proc, `${proc.name} did not start within ${this.options.timeoutSeconds}s (no ${file})`);
  }

  private async waitForGatewayReady(proc: SupervisedProcess, url: string): Promise<boolean> {
    const client = new AdminClient(
      { name: 'gateway', url, token: this.options.adminToken, source: 'run-file', sourceDetail: this.paths.runFile('gateway') },
      { timeoutMs: 2000 },
    );
    this.clients.push(client);
    const api = new GatewayApi(client);
    const outcome = await poll(
      () =>
        attemptReachable(async () =>
          proc.running && (await api.ready()) ? { done: true, value: true } : { done: false, reason: 'gateway to be ready' },
        ),
      {
        timeoutMs: Math.max(0, this.deadline - Date.now()),
        intervalMs: 200,
        signal: this.waitSignal,
        onProgress: (s) => this.ctx.out.console(`waiting for gateway to be ready (${s}s)...`),
      },
    );
    if (outcome.done) return true;
    return (await this.afterWaitFailed(proc, `gateway did not become ready within ${this.options.timeoutSeconds}s`)) !== undefined;
  }

  /** After a wait ended without success: a stop request (undefined) or a failure (throws). */
  private async afterWaitFailed(proc: SupervisedProcess, timeoutMessage: string): Promise<undefined> {
    if (this.failure) throw await this.fail(this.failure);
    if (this.supervisor.stopping) return undefined;
    // The demo echo backend writes no log file of its own.
    const log = proc.name === 'demo-echo' ? null : this.paths.logFile(proc.name);
    throw await this.fail(
      cliError('notReady', timeoutMessage, {
        details: { process: proc.name, lastLines: proc.tail(TAIL_ON_FAILURE), log },
        hint: log ? `Its full log: ${log}` : undefined,
      }),
      proc,
    );
  }

  /** Shows the last lines of the process that failed, stops everything, returns the error to throw. */
  private async fail(error: CliError, proc?: SupervisedProcess): Promise<CliError> {
    const { out } = this.ctx;
    if (proc) {
      const tail = proc.tail(TAIL_ON_FAILURE);
      out.console(`${error.message}. Last lines of its output:`);
      for (const line of tail.length ? tail : ['(no output)']) out.console(`  ${line}`);
    }
    await this.supervisor.stop();
    return error;
  }

  /** During startup, a crash that mentions EADDRINUSE is a port conflict: no point in restarting. */
  private onUnexpectedExit(proc: SupervisedProcess): void {
    if (this.info || this.failure) return;
    const conflict = proc.tail(30).find((line) => /EADDRINUSE/.test(line));
    if (!conflict) return;
    this.failure = cliError('portInUse', `${proc.name} could not bind its port: ${conflict.trim()}`, {
      details: { process: proc.name, line: conflict },
      hint: 'Another program uses that port. Stop it, or choose other ports (--admin-port, --grpc-port, --gateway-admin-port; 0 picks a free one).',
    });
    this.startupFailure.abort();
  }

  /** After a restart (once ready), keep up.json's PIDs true and say so. */
  private async onStarted(proc: SupervisedProcess): Promise<void> {
    const info = this.info;
    if (!info || !proc.pid) return;
    if (proc.name === 'controller') info.controllerPid = proc.pid;
    else if (proc.name === 'gateway') info.gatewayPid = proc.pid;
    else info.echoPid = proc.pid;
    this.ctx.out.console(`${proc.name} restarted (pid ${proc.pid})`);
    await writeJsonFileAtomic(this.paths.upRunFile, info).catch(() => undefined);
  }
}

function adminUrlOf(run: ProcessRunFile): string {
  return (run.adminUrl ?? `http://127.0.0.1:${run.ports.admin}`).replace(/\/+$/, '');
}
