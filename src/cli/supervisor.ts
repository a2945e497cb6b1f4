// Keeps the children of `edgion-ctl up` running and stops them cleanly.
//
// - A child that dies while we are not stopping is restarted with backoff, and the
//   console says so: "gateway exited with code 1; restarting in 1s".
// - SIGINT/SIGTERM stop everything: SIGTERM to each child, up to 15 s to finish, then
//   SIGKILL. The process exits 0.
// - A stop is never mistaken for a crash. Ctrl-C in a terminal, the acceptance
//   harness and `edgion-ctl down` signal the whole process group, so a child may see
//   the signal and exit before we do; an exit is only called a crash after a short
//   settle time without a stop request. For the same reason the SIGTERM we forward
//   waits a moment: children that share our group are usually already draining, and
//   a second signal must not cut a graceful drain short.

import { RestartBackoff, formatDelay, type BackoffPolicy } from './restart-backoff.js';
import { SupervisedProcess, describeExit, type ExitInfo, type ProcessSpec } from './supervised-process.js';

export interface SupervisorOptions {
  /** Where child output and supervisor messages go (one line per call). */
  console: (line: string) => void;
  backoff?: BackoffPolicy;
  /** How long children get to stop after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /** Pause before forwarding SIGTERM (see the header). */
  forwardDelayMs?: number;
  /** Pause before an unexpected exit counts as a crash (see the header). */
  settleMs?: number;
  /** A second signal later than this after the first kills the children at once. */
  forceAfterMs?: number;
}

interface Managed {
  process: SupervisedProcess;
  backoff: RestartBackoff;
  restartTimer: NodeJS.Timeout | undefined;
}

export type ShutdownReason = NodeJS.Signals | 'requested';

export class Supervisor {
  /** Called after each start of a child (first start and restarts). */
  onStarted: ((process: SupervisedProcess) => void) | undefined;
  /** Called for every exit while not stopping, before the restart is scheduled. */
  onUnexpectedExit: ((process: SupervisedProcess, info: ExitInfo) => void) | undefined;

  private readonly managed = new Map<string, Managed>();
  private readonly stopTimeoutMs: number;
  private readonly forwardDelayMs: number;
  private readonly settleMs: number;
  private readonly forceAfterMs: number;
  private stopPromise: Promise<void> | undefined;
  private firstSignalAt = 0;
  private shutdownReason: ShutdownReason | undefined;
  private readonly shutdownRequested: Promise<ShutdownReason>;
  private resolveShutdown!: (reason: ShutdownReason) => void;
  private readonly controller = new AbortController();
  /** Keeps the event loop (and so the supervisor) alive while every child is down between restarts. */
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
    this.forwardDelayMs = options.forwardDelayMs ?? 500;
    this.settleMs = options.settleMs ?? 300;
    this.forceAfterMs = options.forceAfterMs ?? 2000;
    this.shutdownRequested = new Promise((resolve) => (this.resolveShutdown = resolve));
  }

  /** Aborted when a stop is requested; startup waits pass it on so they end early. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopping(): boolean {
    return this.shutdownReason !== undefined;
  }

  /** Resolves with the reason once a stop was requested (signal or `requestStop`). */
  whenShutdownRequested(): Promise<ShutdownReason> {
    return this.shutdownRequested;
  }

  add(spec: ProcessSpec, backoff?: BackoffPolicy): SupervisedProcess {
    const process = new SupervisedProcess(spec, this.options.console, (info) => this.handleExit(entry, info));
    const entry: Managed = { process, backoff: new RestartBackoff(backoff ?? this.options.backoff), restartTimer: undefined };
    this.managed.set(spec.name, entry);
    return process;
  }

  start(process: SupervisedProcess): void {
    if (this.stopping) return;
    this.keepAlive ??= setInterval(() => {}, 1 << 30);
    process.start();
    this.onStarted?.(process);
  }

  /** Installs SIGINT/SIGTERM handlers; returns a function that removes them. */
  handleSignals(): () => void {
    const onSignal = (signal: NodeJS.Signals) => this.onSignal(signal);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  }

  /** Stops everything (idempotent); resolves when every child is gone. */
  stop(reason: ShutdownReason = 'requested'): Promise<void> {
    if (!this.shutdownReason) {
      this.shutdownReason = reason;
      this.controller.abort();
      this.resolveShutdown(reason);
    }
    this.stopPromise ??= this.stopAll();
    return this.stopPromise;
  }

  private onSignal(signal: NodeJS.Signals): void {
    const now = Date.now();
    if (!this.firstSignalAt) {
      this.firstSignalAt = now;
      this.options.console(`received ${signal}; stopping (up to ${Math.round(this.stopTimeoutMs / 1000)}s)...`);
      void this.stop(signal);
      return;
    }
    // A second signal right after the first is the same request delivered twice (the
    // process group and npx forwarding it); only a later one means "hurry up".
    if (now - this.firstSignalAt >= this.forceAfterMs) {
      this.options.console(`received ${signal} again; killing the processes now`);
      for (const { process } of this.managed.values()) process.signal('SIGKILL');
    }
  }

  private async stopAll(): Promise<void> {
    const all = [...this.managed.values()];
    for (const entry of all) {
      if (entry.restartTimer) clearTimeout(entry.restartTimer);
      entry.restartTimer = undefined;
    }
    const processes = all.map((e) => e.process);
    await waitAll(processes.filter((p) => p.running), this.forwardDelayMs);
    for (const p of processes) p.signal('SIGTERM');
    const stopped = await waitAll(processes, this.stopTimeoutMs);
    if (!stopped) {
      for (const p of processes.filter((x) => x.running)) {
        this.options.console(`${p.name} did not stop within ${Math.round(this.stopTimeoutMs / 1000)}s; killing it`);
        p.signal('SIGKILL');
      }
      await waitAll(processes, 5000);
    }
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  private handleExit(entry: Managed, info: ExitInfo): void {
    if (this.stopping) return;
    this.onUnexpectedExit?.(entry.process, info);
    setTimeout(() => {
      if (this.stopping || entry.process.running) return;
      const delay = entry.backoff.next(info.uptimeMs);
      this.options.console(`${entry.process.name} ${describeExit(info)}; restarting in ${formatDelay(delay)}`);
      entry.restartTimer = setTimeout(() => {
        entry.restartTimer = undefined;
        this.start(entry.process);
      }, delay);
    }, this.settleMs);
  }
}

async function waitAll(processes: SupervisedProcess[], timeoutMs: number): Promise<boolean> {
  const results = await Promise.all(processes.map((p) => p.waitForExit(timeoutMs)));
  return results.every(Boolean);
}
