// PluginDeps for unit tests of the security plugins (no I/O; a clock the test can move).
import type { PluginDeps } from '../../../src/plugins/runtime/define-plugin.js';

export function fakeDeps(over: Partial<PluginDeps> = {}): PluginDeps & { logged: string[] } {
  const logged: string[] = [];
  const log = { info: (_o: object, m: string) => logged.push(m), warn: (_o: object, m: string) => logged.push(m), error: (_o: object, m: string) => logged.push(m) };
  return {
    log,
    counters: { take: () => ({ allowed: true, count: 1, remaining: 0, resetAt: 0 }) },
    secrets: {},
    namespace: 'default',
    linkSys: {},
    now: () => Date.now(),
    logged,
    ...over,
  };
}
