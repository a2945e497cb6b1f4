// `edgion-ctl up --detach`: start `edgion-ctl up` (foreground mode) again as a
// background process in its own session, its output in W/logs/up.log, and return
// once it wrote W/run/up.json (everything ready) or died trying.

import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { EdgionBins } from './edgion-bins.js';
import { cliError } from './errors.js';
import type { Output } from './output.js';
import { ensureWorkDirs, isPidAlive, isPidOurs, readUpRunFile, workPaths, type UpRunFile } from './run-files.js';
import type { UpOptions } from './up.js';
import { poll } from './wait.js';

/** The hidden flag that tells the re-launched `up` it is the background supervisor. */
export const DETACHED_CHILD_FLAG = '--detached-child';

/** Flags for the background `up`, rebuilt from the parsed options (not copied from argv). */
export function backgroundUpArgs(options: UpOptions): string[] {
  const args = [
    'up',
    DETACHED_CHILD_FLAG,
    '--work-dir',
    workPaths(options.workDir).workDir,
    '--admin-port',
    String(options.adminPort),
    '--grpc-port',
    String(options.grpcPort),
    '--gateway-admin-port',
    String(options.gatewayAdminPort),
    '--demo-port',
    String(options.demoPort),
    '--timeout',
    String(options.timeoutSeconds),
  ];
  if (options.confDir !== undefined) args.push('--conf-dir', options.confDir);
  if (options.workers !== undefined) args.push('--workers', String(options.workers));
  if (options.logLevel) args.push('--log-level', options.logLevel);
  return args;
}

export async function startDetached(options: UpOptions, ctx: { bins: EdgionBins; out: Output; env: NodeJS.ProcessEnv }): Promise<UpRunFile> {
  const paths = workPaths(options.workDir);
  await ensureWorkDirs(paths);
  const existing = await readUpRunFile(paths.upRunFile);
  if (existing && isPidOurs(existing.pid, 'edgion-ctl')) {
    throw cliError('alreadyRunning', `edgion is already running from ${paths.workDir} (supervisor pid ${existing.pid})`, {
      details: existing,
      hint: `Stop it with "edgion-ctl down --work-dir ${paths.workDir}", or use another --work-dir.`,
    });
  }

  // Only this run's part of up.log is shown if it fails.
  const logOffset = (await stat(paths.upLog).catch(() => undefined))?.size ?? 0;
  const fd = openSync(paths.upLog, 'a');
  writeSync(fd, `--- edgion-ctl up --detach at ${new Date().toISOString()} ---\n`);
  // The token goes through the environment, like for the children of `up`.
  const env = { ...ctx.env, ...(options.adminToken ? { EDGION_ADMIN_TOKEN: options.adminToken } : {}) };
  const child = spawn(process.execPath, [ctx.bins.ctl, ...backgroundUpArgs(options)], {
    detached: true, // own session and process group: survives this terminal, `down` can signal it
    stdio: ['ignore', fd, fd],
    env,
    cwd: process.cwd(),
  });
  closeSync(fd);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new AbortController();
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    exited.abort();
  });
  child.on('error', () => {
    exit = { code: null, signal: null };
    exited.abort();
  });
  child.unref();

  // The background `up` enforces --timeout itself and exits 1; the extra time covers its stop.
  const outcome = await poll(
    async () => {
      const info = await readUpRunFile(paths.upRunFile);
      return info && info.pid === child.pid ? { done: true, value: info } : { done: false, reason: 'edgion to be ready' };
    },
    {
      timeoutMs: (options.timeoutSeconds + 20) * 1000,
      intervalMs: 200,
      signal: exited.signal,
      onProgress: (s) => ctx.out.note(`waiting for edgion to be ready (${s}s)...`),
    },
  );
  if (outcome.done) return outcome.value;

  const tail = await readTail(paths.upLog, logOffset, 25);
  const why = exit ? `the background edgion-ctl up exited (${exit.signal ?? `code ${exit.code}`}) before it was ready` : 'edgion did not become ready';
  for (const line of tail) ctx.out.note(`  ${line}`);
  if (!exit && child.pid && isPidAlive(child.pid)) process.kill(child.pid, 'SIGTERM');
  // Prefer the background process's own "Error: ..." line: it says what went wrong.
  const errorLine = [...tail].reverse().find((l) => l.startsWith('Error: '));
  throw cliError('startFailed', errorLine ? `${why}: ${errorLine.slice('Error: '.length)}` : why, {
    details: { log: paths.upLog, lastLines: tail },
    hint: `Full output: ${paths.upLog}`,
  });
}

async function readTail(file: string, offset: number, lines: number): Promise<string[]> {
  const bytes = await readFile(file).catch(() => Buffer.alloc(0));
  return bytes
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines);
}
