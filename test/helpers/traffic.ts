// Helpers for the traffic-plugin tests: EdgionPlugins + HTTPRoute YAML, plugin deps for unit
// tests, a load loop over fresh connections, and a private redis-server.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PluginDeps, SharedCounters } from '../../src/plugins/runtime/define-plugin.js';
import { LocalCounters } from '../../src/gateway/plugins-engine/local-counters.js';
import { freePort } from './free-port.js';
import { request, type ReqOpts, type Res } from './http.js';

/** An EdgionPlugins in `default` with the given stage lists (YAML flow objects). */
export function pluginsYaml(name: string, stages: { request?: unknown[]; responseFilter?: unknown[]; body?: unknown[] }): string {
  const list = (k: string, v: unknown[] | undefined) => (v ? `  ${k}: ${JSON.stringify(v)}\n` : '');
  return `apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: ${name}, namespace: default }
spec:
${list('requestPlugins', stages.request)}${list('upstreamResponseFilterPlugins', stages.responseFilter)}${list('upstreamResponseBodyFilterPlugins', stages.body)}`;
}

/** An HTTPRoute for `host` running EdgionPlugins `plugins` (optional) to `backends`. */
export function routeYaml(name: string, host: string, plugins: string | undefined, backends: { name: string; port: number; weight?: number }[], path = '/'): string {
  const filters = plugins ? `[{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: EdgionPlugins, name: ${plugins} } }]` : '[]';
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules:
    - matches: [{ path: { type: PathPrefix, value: "${path}" } }]
      filters: ${filters}
      backendRefs: ${JSON.stringify(backends.map((b) => ({ name: b.name, port: b.port, ...(b.weight !== undefined ? { weight: b.weight } : {}) })))}
`;
}

export function fakeDeps(over: Partial<PluginDeps> = {}): PluginDeps {
  const quiet = { info() {}, warn() {}, error() {} };
  return { log: quiet, counters: new LocalCounters() as SharedCounters, secrets: {}, namespace: 'default', linkSys: {}, now: Date.now, id: 'test|requestPlugins[0]', ...over };
}

/** Sends `n` requests, `concurrency` at a time, each on a new connection. */
export async function burst(n: number, concurrency: number, opts: ReqOpts): Promise<Res[]> {
  const out: Res[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        out.push(await request({ ...opts, agent: false }));
      }
    }),
  );
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until at least `marginMs` remain in the current window of `windowMs` (aligned to the epoch). */
export async function awayFromWindowEnd(windowMs: number, marginMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await sleep(left + 20);
}

export interface RedisServer {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
}

export function redisBinary(): string | undefined {
  for (const d of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    const p = path.join(d, 'redis-server');
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** A private redis-server on a free port of 127.0.0.1 (no persistence). */
export async function startRedis(port?: number): Promise<RedisServer> {
  const bin = redisBinary();
  if (!bin) throw new Error('redis-server is not installed');
  const p = port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-redis-'));
  const child = spawn(bin, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no'], { stdio: 'ignore' });
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(p, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start');
    await sleep(50);
  }
  return {
    port: p,
    child,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.kill('SIGCONT');
        child.once('exit', () => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGKILL');
      }),
  };
}
