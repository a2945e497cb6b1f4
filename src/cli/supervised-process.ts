// One child process of `edgion-ctl up`: started with node:child_process, its stdout
// and stderr forwarded line by line with a `[name]` prefix, the last lines kept so a
// failed start can show why. Restart decisions are the Supervisor's, not this class's.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ProcessSpec {
  /** Short name used in prefixes and messages: controller, gateway, demo-echo. */
  name: string;
  command: string;
  /** Arguments of each start; a function so a restart can reuse ports learned from the first run. */
  args: () => string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ExitInfo {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  uptimeMs: number;
  /** Set when the process could not be spawned at all (e.g. ENOENT). */
  spawnError?: Error;
}

const TAIL_LINES = 200;

export class SupervisedProcess {
  readonly name: string;
  private child: ChildProcess | undefined;
  private startedAtMs = 0;
  private readonly recent: string[] = [];
  private exitWaiters: Array<() => void> = [];

  constructor(
    private readonly spec: ProcessSpec,
    private readonly forward: (line: string) => void,
    private readonly onExit: (info: ExitInfo) => void,
  ) {
    this.name = spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get startedAt(): number {
    return this.startedAtMs;
  }

  start(): void {
    if (this.child) throw new Error(`${this.name} is already running`);
    this.startedAtMs = Date.now();
    // Not detached: the children stay in our process group, so a group-wide SIGKILL
    // (the acceptance harness's last resort) cannot leave orphans holding ports.
    const child = spawn(this.spec.command, this.spec.args(), {
      cwd: this.spec.cwd,
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let finished = false;
    const finish = (info: Omit<ExitInfo, 'pid' | 'uptimeMs'>) => {
      if (finished) return;
      finished = true;
      this.child = undefined;
      const waiters = this.exitWaiters;
      this.exitWaiters = [];
      for (const resolve of waiters) resolve();
      this.onExit({ ...info, pid: child.pid, uptimeMs: Date.now() - this.startedAtMs });
    };
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.record(line));
    }
    child.on('error', (err) => {
      this.record(`failed to start: ${err.message}`);
      finish({ code: null, signal: null, spawnError: err });
    });
    // Report the exit once stdout/stderr are drained ('close'), so the last lines of a
    // crashing process are printed before "exited with code 1". Grandchildren (gateway
    // workers) can hold the pipes open after their parent died, so do not wait long.
    child.on('exit', (code, signal) => {
      const timer = setTimeout(() => finish({ code, signal }), 300);
      child.once('close', () => {
        clearTimeout(timer);
        finish({ code, signal });
      });
    });
  }

  /** Sends a signal if the process runs; returns whether it was sent. */
  signal(sig: NodeJS.Signals): boolean {
    if (!this.child) return false;
    try {
      return this.child.kill(sig);
    } catch {
      return false;
    }
  }

  /** Resolves true once the process is gone, false after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<boolean> {
    if (!this.child) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** The last `n` lines this process printed (stdout and stderr interleaved). */
  tail(n: number): string[] {
    return this.recent.slice(-n);
  }

  private record(line: string): void {
    this.recent.push(line);
    if (this.recent.length > TAIL_LINES) this.recent.shift();
    this.forward(`[${this.name}] ${line}`);
  }
}

export function describeExit(info: ExitInfo): string {
  if (info.spawnError) return `could not be started (${info.spawnError.message})`;
  if (info.signal) return `was killed by ${info.signal}`;
  return `exited with code ${info.code ?? 'unknown'}`;
}
