// Helpers for the auth plugins' unit tests: validated configs, PluginDeps with Secrets and a
// clock the test controls, and a runner that awaits the handler's decision.
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import type { PluginDeps, PluginReply, PluginSession } from '../../../src/plugins/runtime/define-plugin.js';
import type { AnyPlugin } from '../../../src/plugins/registry.js';
import { FakeSession, type FakeRequest } from '../../helpers/fake-session.js';

const registry = builtinRegistry();

/** Problems as a user reads them: `config.path: message`. */
export function problems(type: string, config: unknown): string[] {
  return registry.validateEntry('requestPlugins', { type, config }).problems.map((p) => `${p.path}: ${p.message}${p.severity === 'warning' ? ' (warning)' : ''}`);
}

/** The config after validation (defaults applied); fails the test on an error. */
export function validConfig(type: string, config: unknown): Record<string, unknown> {
  const r = registry.validateEntry('requestPlugins', { type, config });
  assert.deepEqual(r.problems.filter((p) => p.severity !== 'warning'), [], `config of ${type} should be valid`);
  return r.config as Record<string, unknown>;
}

export interface TestDeps extends PluginDeps {
  logged: string[];
  clock: { now: number };
}

export function fakeDeps(secrets: Record<string, Record<string, string | Buffer>> = {}, over: Partial<PluginDeps> = {}): TestDeps {
  const logged: string[] = [];
  const log = { info: (_o: object, m: string) => logged.push(m), warn: (_o: object, m: string) => logged.push(m), error: (_o: object, m: string) => logged.push(m) };
  const text: Record<string, Record<string, string>> = {};
  const binary: Record<string, Record<string, string>> = {};
  for (const [id, data] of Object.entries(secrets)) {
    text[id] = {};
    for (const [k, v] of Object.entries(data)) {
      const buf = Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8');
      text[id]![k] = buf.toString('utf8');
      if (!Buffer.from(text[id]![k]!, 'utf8').equals(buf)) (binary[id] ??= {})[k] = buf.toString('base64');
    }
  }
  const clock = { now: Date.now() };
  return {
    log,
    counters: { take: () => ({ allowed: true, count: 1, remaining: 0, resetAt: 0 }) },
    secrets: text,
    ...(Object.keys(binary).length ? { secretsBinary: binary } : {}),
    namespace: 'default',
    linkSys: {},
    now: () => clock.now,
    logged,
    clock,
    ...over,
  };
}

export interface Instance {
  run(req?: FakeRequest): Promise<{ s: FakeSession; reply: PluginReply | undefined }>;
  runOn(s: PluginSession): Promise<PluginReply | undefined>;
  close(): Promise<void>;
}

export function instance(def: AnyPlugin, config: unknown, deps: PluginDeps = fakeDeps()): Instance {
  const inst = def.create(validConfig(def.type, config) as never, deps);
  return {
    async run(req = {}) {
      const s = new FakeSession(req);
      const reply = (await inst.onRequest!(s)) ?? undefined;
      return { s, reply };
    },
    async runOn(s) {
      return (await inst.onRequest!(s)) ?? undefined;
    },
    async close() {
      await inst.close?.();
    },
  };
}

export const basic = (user: string, pass: string, scheme = 'Basic') => `${scheme} ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
