// EdgionPlugins validation beyond the CRD: every entry's type exists and runs in its stage, its
// config matches the plugin's own schema (defaults applied), its conditions are well formed.
// A bad plugin config is rejected here and never reaches a gateway.

import { PLUGIN_STAGES } from '../../ir/plugin.js';
import type { PluginRegistry } from '../../plugins/registry.js';
import type { Obj } from '../store/resource-store.js';
import type { ExtraValidator } from './identify.js';
import { webhookConfigProblems } from '../../plugins/runtime/webhook-config.js';

/** LinkSys `spec.config` checks for the types the gateway uses (webhook: plugins.md §3.3). */
function linkSysProblems(value: Obj): { path: string; message: string }[] {
  const spec = (value.spec ?? {}) as Obj;
  if (spec.type !== 'webhook') return [];
  return webhookConfigProblems(spec.config).map((p) => ({ path: p.path ? `spec.config.${p.path}` : 'spec.config', message: `webhook: ${p.message}` }));
}

export function pluginConfigValidator(registry: PluginRegistry): ExtraValidator {
  return (kind, value) => {
    if (kind === 'LinkSys') return { problems: linkSysProblems(value) };
    if (kind !== 'EdgionPlugins') return { problems: [] };
    const spec = { ...((value.spec ?? {}) as Obj) };
    const problems: { path: string; message: string; severity?: 'error' | 'warning' }[] = [];
    for (const stage of PLUGIN_STAGES) {
      const list = spec[stage];
      if (!Array.isArray(list)) continue;
      spec[stage] = list.map((raw: unknown, i: number) => {
        const entry = { ...(raw as Obj) };
        const { problems: p, config } = registry.validateEntry(stage, entry);
        for (const x of p) problems.push({ path: `spec.${stage}[${i}]${x.path ? `.${x.path}` : ''}`, message: `${String(entry.type)}: ${x.message}`, ...(x.severity ? { severity: x.severity } : {}) });
        entry.config = config;
        return entry;
      });
    }
    return { problems, value: { ...value, spec } };
  };
}
