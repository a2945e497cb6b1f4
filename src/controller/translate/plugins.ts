// EdgionPlugins → PluginSetIR. The plugin entries are validated by the plugin registry before
// translation (a resource with an invalid entry never becomes "good"); here they are normalised
// and every plugin set a route references is present, valid or not (fail closed, DECISIONS §26).

import type { PluginEntryIR, PluginSetIR, StreamPluginSetIR } from '../../ir/index.js';
import { PLUGIN_STAGES } from '../../ir/index.js';
import type { Obj, TranslateContext } from './context.js';

function entries(list: unknown): PluginEntryIR[] {
  return ((list ?? []) as Obj[]).map((e) => ({
    type: String(e.type),
    enable: e.enable !== false,
    config: e.config ?? {},
    ...(e.conditions !== undefined ? { conditions: e.conditions } : {}),
  }));
}

export function translatePluginSets(ctx: TranslateContext): Record<string, PluginSetIR> {
  const out: Record<string, PluginSetIR> = {};
  for (const p of ctx.all('EdgionPlugins')) {
    const spec = (p.obj.spec ?? {}) as Obj;
    const key = `${p.namespace ?? 'default'}/${p.name}`;
    const set: PluginSetIR = {
      key,
      namespace: p.namespace ?? 'default',
      name: p.name,
      valid: true,
      requestPlugins: [],
      upstreamResponseFilterPlugins: [],
      upstreamResponsePlugins: [],
      upstreamResponseBodyFilterPlugins: [],
    };
    for (const stage of PLUGIN_STAGES) set[stage] = entries(spec[stage]);
    out[key] = set;
    const c = ctx.conditions(p);
    ctx.statuses.set(p.key, { conditions: [c.make('Accepted', true, 'Accepted', 'EdgionPlugins accepted'), c.make('Ready', true, 'Ready', 'Ready')] });
  }
  return out;
}

export function translateStreamPluginSets(ctx: TranslateContext): Record<string, StreamPluginSetIR> {
  const out: Record<string, StreamPluginSetIR> = {};
  for (const p of ctx.all('EdgionStreamPlugins')) {
    const spec = (p.obj.spec ?? {}) as Obj;
    const key = `${p.namespace ?? 'default'}/${p.name}`;
    out[key] = { key, namespace: p.namespace ?? 'default', name: p.name, valid: true, plugins: entries(spec.plugins), tlsRoutePlugins: entries(spec.tlsRoutePlugins) };
    const c = ctx.conditions(p);
    ctx.statuses.set(p.key, { conditions: [c.make('Accepted', true, 'Accepted', 'EdgionStreamPlugins accepted'), c.make('Ready', true, 'Ready', 'Ready')] });
  }
  return out;
}
