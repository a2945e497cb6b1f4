// `edgion-ctl down`: stop what `edgion-ctl up` (background or foreground) started
// from a work dir, found through W/run/up.json.

import { cliError } from './errors.js';
import type { Output } from './output.js';
import { isPidAlive, isPidOurs, readUpRunFile, removeFile, workPaths } from './run-files.js';
import { poll } from './wait.js';

/** The `--json` result of `down`. */
export interface DownResult {
  workDir: string;
  /** The PIDs that were running and are gone now. */
  stopped: Array<{ name: string; pid: number }>;
  /** PIDs that had to be killed with SIGKILL after --timeout. */
  killed: Array<{ name: string; pid: number }>;
}

export async function stopUp(workDir: string, timeoutSeconds: number, out: Output): Promise<DownResult> {
  const paths = workPaths(workDir);
  const info = await readUpRunFile(paths.upRunFile);
  if (!info) {
    throw cliError('nothingToStop', `nothing to stop: no edgion runs from ${paths.workDir} (no ${paths.upRunFile})`, {
      hint: 'Pass the --work-dir that `edgion-ctl up` used.',
    });
  }
  // What identifies each process in its command line: the supervisor is edgion-ctl,
  // the children were given paths inside the work dir.
  const all = [
    { name: 'supervisor', pid: info.pid, marker: 'edgion-ctl' },
    { name: 'controller', pid: info.controllerPid, marker: paths.workDir },
    { name: 'gateway', pid: info.gatewayPid, marker: paths.workDir },
    ...(info.echoPid ? [{ name: 'demo-echo', pid: info.echoPid, marker: paths.runDir }] : []),
  ];
  const alive = all.filter((p) => isPidOurs(p.pid, p.marker)).map(({ name, pid }) => ({ name, pid }));
  if (alive.length === 0) {
    await removeFile(paths.upRunFile);
    throw cliError('nothingToStop', `nothing to stop: the processes listed in ${paths.upRunFile} are gone (stale file removed)`);
  }

  // The supervisor stops its children itself (gracefully, up to 15 s). Without a
  // supervisor (it was killed), the orphaned children get the SIGTERM directly.
  // A detached supervisor leads its own process group: signal the group, so the
  // children start draining at once (as with Ctrl-C on a foreground `up`).
  const supervisorAlive = alive.some((p) => p.name === 'supervisor');
  if (supervisorAlive && info.detached) signalGroup(info.pid, 'SIGTERM');
  else for (const p of supervisorAlive ? alive.filter((x) => x.name === 'supervisor') : alive) signal(p.pid, 'SIGTERM');

  const outcome = await poll(
    async () => {
      const remaining = alive.filter((p) => isPidAlive(p.pid));
      return remaining.length === 0 ? { done: true, value: true } : { done: false, reason: remaining.map((p) => p.name).join(', ') };
    },
    {
      timeoutMs: timeoutSeconds * 1000,
      intervalMs: 100,
      onProgress: (s, reason) => out.note(`waiting for ${reason} to stop (${s}s)...`),
    },
  );

  const killed = outcome.done ? [] : alive.filter((p) => isPidAlive(p.pid));
  for (const p of killed) signal(p.pid, 'SIGKILL');
  const current = await readUpRunFile(paths.upRunFile);
  if (current?.pid === info.pid) await removeFile(paths.upRunFile);

  const result: DownResult = { workDir: paths.workDir, stopped: alive, killed };
  if (killed.length > 0) {
    throw cliError('stopTimeout', `not stopped within ${timeoutSeconds}s, killed: ${killed.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`, {
      partialResult: { ...result },
    });
  }
  out.line(`stopped edgion from ${paths.workDir}: ${alive.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
  return result;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    signal(pid, sig);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
