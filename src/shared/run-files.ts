// W/run/<process>.json: how scripts, tests and edgion-ctl learn the ports a process bound
// (port flags accept 0). Written atomically (temp file + rename) so a reader never sees half a file.
import fs from 'node:fs';
import path from 'node:path';

export interface RunFile {
  name: string;
  pid: number;
  ports: Record<string, number>;
  adminUrl?: string;
  startedAt: string;
  version: string;
  [extra: string]: unknown;
}

export function runFilePath(workDir: string, name: string): string {
  return path.join(workDir, 'run', `${name}.json`);
}

export function writeRunFile(workDir: string, info: RunFile): string {
  const file = runFilePath(workDir, info.name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

export function readRunFile(workDir: string, name: string): RunFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(runFilePath(workDir, name), 'utf8')) as RunFile;
  } catch {
    return undefined;
  }
}

export function removeRunFile(workDir: string, name: string, pid = process.pid): void {
  const existing = readRunFile(workDir, name);
  // Only remove our own file: a restarted process may already have written a new one.
  if (existing && existing.pid !== pid) return;
  fs.rmSync(runFilePath(workDir, name), { force: true });
}
