// Shared parts of the FAKE edgion-controller / edgion-gateway programs that the
// supervisor tests start instead of the real ones (EDGION_CONTROLLER_BIN /
// EDGION_GATEWAY_BIN). They follow the interface `up` relies on: flags, run file
// W/run/<name>.json once the ports are bound, log lines on stdout and in
// W/logs/<name>.log, SIGTERM/SIGINT = graceful stop with exit 0.
// Every signal received is appended to W/fake-<name>-signals.log, every start's argv
// and token to W/fake-<name>-starts.log, so tests can check what the supervisor did.
// FAKE_STOP_DELAY_MS makes a stop take that long (a gateway draining requests).

import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface FakeProcess {
  name: string;
  workDir: string;
  log(line: string): void;
  writeRunFile(ports: Record<string, number>, adminUrl: string): void;
  onStop(stop: () => Promise<void>): void;
  /** A file whose existence marks "this already happened once" (crash-once modes). */
  firstTime(what: string): boolean;
}

export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export function setupFakeProcess(name: string, args: string[]): FakeProcess {
  const workDir = path.resolve(flag(args, '--work-dir') ?? '.edgion');
  mkdirSync(path.join(workDir, 'logs'), { recursive: true });
  mkdirSync(path.join(workDir, 'run'), { recursive: true });
  const logFile = path.join(workDir, 'logs', `${name}.log`);
  const runFile = path.join(workDir, 'run', `${name}.json`);
  appendFileSync(
    path.join(workDir, `fake-${name}-starts.log`),
    JSON.stringify({ pid: process.pid, args, token: process.env.EDGION_ADMIN_TOKEN ?? null }) + '\n',
  );
  const log = (line: string) => {
    process.stdout.write(line + '\n');
    appendFileSync(logFile, line + '\n');
  };
  let stopping = false;
  let stopFn: () => Promise<void> = async () => {};
  const onSignal = (signal: NodeJS.Signals) => {
    appendFileSync(path.join(workDir, `fake-${name}-signals.log`), `${process.pid} ${signal}\n`);
    // A second signal while draining is ignored, as a graceful server should.
    if (stopping) return;
    stopping = true;
    log(`fake ${name}: ${signal} received, stopping`);
    // FAKE_STOP_DELAY_MS simulates draining in-flight requests before exiting.
    const drain = new Promise((r) => setTimeout(r, Number(process.env.FAKE_STOP_DELAY_MS ?? 0)));
    void drain.then(stopFn).finally(() => {
      rmSync(runFile, { force: true });
      process.exit(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    name,
    workDir,
    log,
    writeRunFile(ports, adminUrl) {
      const tmp = `${runFile}.tmp`;
      writeFileSync(
        tmp,
        JSON.stringify({ name, pid: process.pid, ports, adminUrl, startedAt: new Date().toISOString(), version: '0.0.0-fake' }),
      );
      renameSync(tmp, runFile);
    },
    onStop(stop) {
      stopFn = stop;
    },
    firstTime(what) {
      const marker = path.join(workDir, `fake-${name}-${what}.done`);
      try {
        writeFileSync(marker, '', { flag: 'wx' });
        return true;
      } catch {
        return false;
      }
    },
  };
}
