// The work dir layout and the run files in it.
//
// Each process writes W/run/<name>.json once its ports are bound (ports given as 0
// are only known from there). `edgion-ctl up` writes W/run/up.json once everything is
// ready; `down`, `status` and the other commands find the processes through these files.

import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const DEFAULT_WORK_DIR = '.edgion';

/** W/run/controller.json, W/run/gateway.json, W/run/demo-echo.json. */
export interface ProcessRunFile {
  name: string;
  pid: number;
  ports: Record<string, number>;
  adminUrl?: string;
  startedAt?: string;
  version?: string;
}

/** W/run/up.json: what one `edgion-ctl up` supervises. */
export interface UpRunFile {
  /** PID of the `edgion-ctl up` supervisor. */
  pid: number;
  controllerPid: number;
  gatewayPid: number;
  /** PID of the demo echo backend (demo mode only). */
  echoPid?: number;
  ports: {
    controllerAdmin: number;
    controllerGrpc: number;
    gatewayAdmin: number;
    demoEcho?: number;
    demoListener?: number;
  };
  controllerUrl: string;
  gatewayUrl: string;
  workDir: string;
  confDir: string;
  demo: boolean;
  detached: boolean;
  logs: Record<string, string>;
  startedAt: string;
}

export interface WorkPaths {
  workDir: string;
  runDir: string;
  logsDir: string;
  demoDir: string;
  runFile(name: string): string;
  logFile(name: string): string;
  upRunFile: string;
  upLog: string;
}

export function workPaths(workDir: string): WorkPaths {
  const abs = path.resolve(workDir);
  const runDir = path.join(abs, 'run');
  const logsDir = path.join(abs, 'logs');
  return {
    workDir: abs,
    runDir,
    logsDir,
    demoDir: path.join(abs, 'demo'),
    runFile: (name) => path.join(runDir, `${name}.json`),
    logFile: (name) => path.join(logsDir, `${name}.log`),
    upRunFile: path.join(runDir, 'up.json'),
    upLog: path.join(logsDir, 'up.log'),
  };
}

export async function ensureWorkDirs(paths: WorkPaths): Promise<void> {
  await mkdir(paths.runDir, { recursive: true });
  await mkdir(paths.logsDir, { recursive: true });
}

/** Reads a JSON run file; undefined when it is missing or half-written. */
export async function readJsonFile<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // A writer that does not rename atomically can be caught mid-write; the caller polls again.
    return undefined;
  }
}

export async function readProcessRunFile(file: string): Promise<ProcessRunFile | undefined> {
  const value = await readJsonFile<ProcessRunFile>(file);
  if (!value || typeof value.pid !== 'number' || typeof value.ports !== 'object' || value.ports === null) return undefined;
  return value;
}

export async function readUpRunFile(file: string): Promise<UpRunFile | undefined> {
  const value = await readJsonFile<UpRunFile>(file);
  if (!value || typeof value.pid !== 'number') return undefined;
  return value;
}

/** Write to a temp file and rename, so readers never see half a document. */
export async function writeJsonFileAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await rename(tmp, file);
}

export async function removeFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** True when a process with this PID exists (signal 0 checks without signalling). */
export function isPidAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when `pid` runs and, where /proc shows command lines (Linux), its command line
 * contains `marker`. Run files outlive reboots, and a PID from an old up.json may by
 * now belong to an unrelated program that `down` must not signal.
 */
export function isPidOurs(pid: number | undefined, marker: string): boolean {
  if (!isPidAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return true; // no /proc (macOS, Windows): trust the PID
  }
  return cmdline.includes(marker);
}
