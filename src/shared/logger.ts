// Process logs: JSON lines in W/logs/<name>.log (machine-readable, what tests assert on) and a
// readable line on the console. Built once in each main.ts and passed down; never a global.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger as PinoLogger, type Level } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = Level;

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name']);

/** Formats pino's JSON lines as `HH:MM:SS.mmm LEVEL message key=value ...`. */
function consoleStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      let line: string;
      try {
        const rec = JSON.parse(chunk.toString('utf8')) as Record<string, unknown>;
        const time = new Date(Number(rec.time)).toISOString().slice(11, 23);
        const level = (LEVEL_NAMES[Number(rec.level)] ?? 'INFO').padEnd(5);
        const extras: string[] = [];
        for (const [k, v] of Object.entries(rec)) {
          if (SKIP_KEYS.has(k)) continue;
          if (k === 'err' && v && typeof v === 'object') {
            extras.push(`err=${JSON.stringify((v as { message?: string }).message ?? v)}`);
            continue;
          }
          extras.push(`${k}=${typeof v === 'string' && !/[\s"]/.test(v) ? v : JSON.stringify(v)}`);
        }
        line = `${time} ${level} ${String(rec.msg ?? '')}${extras.length ? ' ' + extras.join(' ') : ''}\n`;
      } catch {
        line = chunk.toString('utf8');
      }
      out.write(line);
      done();
    },
  });
}

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Folder for <name>.log; omitted = console only. */
  logDir?: string;
  /** Console output (default true). */
  console?: boolean;
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? 'info';
  const streams: pino.StreamEntry[] = [];
  if (opts.logDir) {
    fs.mkdirSync(opts.logDir, { recursive: true });
    streams.push({ level: level as Level, stream: pino.destination({ dest: path.join(opts.logDir, `${opts.name}.log`), sync: true }) as unknown as NodeJS.WritableStream });
  }
  if (opts.console !== false) streams.push({ level: level as Level, stream: consoleStream(process.stdout) });
  return pino({ level, base: { name: opts.name }, timestamp: pino.stdTimeFunctions.epochTime }, pino.multistream(streams));
}

/** A logger that discards everything (unit tests, pure functions that take a logger). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
