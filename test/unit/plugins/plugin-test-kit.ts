// Helpers for plugin unit tests: validate an entry as the controller does, build an instance
// from the validated config, and plain deps.
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import type { PluginDeps, PluginInstance, PluginProblem, PluginStage } from '../../../src/plugins/runtime/define-plugin.js';
import type { WebhookResolver } from '../../../src/plugins/runtime/key-get.js';

export const registry = builtinRegistry();

export function validate(type: string, config: unknown, stage: PluginStage = 'requestPlugins', extra: Record<string, unknown> = {}): { problems: PluginProblem[]; config: any } {
  return registry.validateEntry(stage, { type, ...(config === undefined ? {} : { config }), ...extra }) as { problems: PluginProblem[]; config: any };
}

/** Problems as the user reads them: `path: message` (errors only unless `all`). */
export function problems(type: string, config: unknown, stage: PluginStage = 'requestPlugins', all = false): string[] {
  return validate(type, config, stage)
    .problems.filter((p) => all || p.severity !== 'warning')
    .map((p) => `${p.path}: ${p.message}`);
}

export function warnings(type: string, config: unknown, stage: PluginStage = 'requestPlugins'): string[] {
  return validate(type, config, stage)
    .problems.filter((p) => p.severity === 'warning')
    .map((p) => `${p.path}: ${p.message}`);
}

export function deps(over: Partial<PluginDeps> = {}): PluginDeps {
  const noop = () => {};
  return {
    log: { info: noop, warn: noop, error: noop },
    counters: { take: () => ({ allowed: true, count: 1, remaining: 1, resetAt: 0 }) },
    secrets: {},
    namespace: 'default',
    linkSys: {},
    now: Date.now,
    ...over,
  };
}

/** Validates (no errors allowed) and creates the plugin with the validated config. */
export function make(type: string, config: unknown, over: Partial<PluginDeps> & { webhook?: WebhookResolver } = {}, stage: PluginStage = 'requestPlugins'): PluginInstance {
  const v = validate(type, config, stage);
  const errs = v.problems.filter((p) => p.severity !== 'warning');
  assert.deepEqual(errs, [], `config of ${type} should be valid`);
  return registry.get(type)!.create(v.config, deps(over));
}

/** A response as response-stage plugins see it. */
export function response(status = 200, headers: Record<string, string | string[] | undefined> = {}) {
  let current = status;
  return {
    get status() {
      return current;
    },
    headers,
    setStatus(n: number) {
      current = n;
    },
  };
}
