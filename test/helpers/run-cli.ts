// Running the real `edgion-ctl` (node bin/edgion-ctl.js, the built output) from tests,
// as a user or a script would: argv in, stdout/stderr/exit code out.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'bin', 'edgion-ctl.js'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('project root not found');
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot();
export const CLI = path.join(PROJECT_ROOT, 'bin', 'edgion-ctl.js');
const HELPERS = path.join(PROJECT_ROOT, 'dist', 'test', 'helpers');

/** Env pointing `up` at the fake controller and gateway programs. */
export function fakeBinsEnv(gatewayMode = 'ok'): NodeJS.ProcessEnv {
  return {
    EDGION_CONTROLLER_BIN: path.join(HELPERS, 'fake-controller-process.js'),
    EDGION_GATEWAY_BIN: path.join(HELPERS, 'fake-gateway-process.js'),
    FAKE_GATEWAY_MODE: gatewayMode,
  };
}

/** The test runner's env without EDGION_* variables, so a developer's shell cannot leak in. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EDGION_') && k !== 'NODE_ENV') env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? os.tmpdir(),
      env: cleanEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`edgion-ctl ${args.join(' ')} did not finish in ${options.timeoutMs ?? 30000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Parses stdout as exactly one JSON document (fails the test otherwise). */
export function oneJson(run: CliRun): any {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document:\n${run.stdout}\nstderr: ${run.stderr}`);
  }
}

/** A long-running `edgion-ctl` (up) in its own process group, like the acceptance harness starts it. */
export class LiveCli {
  readonly child: ChildProcess;
  output = '';
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], options: RunOptions = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? os.tmpdir(),
      env: cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.on('data', (b: Buffer) => {
      this.stdout += b.toString();
      this.output += b.toString();
    });
    this.child.stderr!.on('data', (b: Buffer) => {
      this.stderr += b.toString();
      this.output += b.toString();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  /** Waits until the combined output matches; fails with the output so far. */
  async waitFor(pattern: RegExp, timeoutMs = 40_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.match(pattern);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`output did not match ${pattern} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Signals the whole process group, as the acceptance harness and a terminal's Ctrl-C do. */
  signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // already gone
    }
  }

  /** Last-resort cleanup for a failed test: nothing may outlive it. */
  kill(): void {
    this.signalGroup('SIGKILL');
  }
}

export function tempDir(prefix = 'edgion-ctl-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port that was free a moment ago (for flags that cannot take 0, like the demo listener). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}
