// EdgionPlugins → PluginSetIR. The plugin entries are validated by the plugin registry before
// translation (a resource with an invalid entry never becomes "good"); here they are normalised
// and every plugin set a route references is present, valid or not (fail closed, DECISIONS §26).

import type { LinkSysIR, PluginEntryIR, PluginSetIR, StreamPluginSetIR } from '../../ir/index.js';
import { secretData } from './secrets.js';
import { PLUGIN_STAGES } from '../../ir/index.js';
import type { Obj, TranslateContext } from './context.js';

/** Entries with their Secrets resolved; missing Secrets are collected in `missing`. */
function entries(ctx: TranslateContext, ns: string, list: unknown, missing: string[]): PluginEntryIR[] {
  return ((list ?? []) as Obj[]).map((e) => {
    const type = String(e.type);
    const config = e.config ?? {};
    const out: PluginEntryIR = { type, enable: e.enable !== false, config, ...(e.conditions !== undefined ? { conditions: e.conditions } : {}) };
    const refs = ctx.input.plugins?.secretRefs(type, config) ?? [];
    if (refs.length) {
      out.secrets = {};
      for (const ref of refs) {
        const refNs = ref.namespace ?? ns;
        const data = secretData(ctx, refNs, ref.name);
        if (data) out.secrets[`${refNs}/${ref.name}`] = data;
        else missing.push(`${type}: Secret ${refNs}/${ref.name} does not exist`);
      }
    }
    return out;
  });
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
    const missing: string[] = [];
    for (const stage of PLUGIN_STAGES) set[stage] = entries(ctx, set.namespace, spec[stage], missing);
    out[key] = set;
    const c = ctx.conditions(p);
    for (const m of missing) ctx.warn(p, 'spec', `${m}; the plugin runs without it (an auth plugin then rejects every request)`);
    ctx.statuses.set(p.key, {
      conditions: [
        c.make('Accepted', true, 'Accepted', 'EdgionPlugins accepted'),
        missing.length ? c.make('ResolvedRefs', false, 'RefNotFound', missing.join('; ')) : c.make('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved'),
        c.make('Ready', true, 'Ready', 'Ready'),
      ],
    });
  }
  // Referenced but never valid: present and invalid, so routes using it fail closed (DECISIONS §26).
  for (const r of ctx.input.rejected ?? []) {
    if (r.kind !== 'EdgionPlugins') continue;
    const key = `${r.namespace ?? 'default'}/${r.name}`;
    out[key] ??= { key, namespace: r.namespace ?? 'default', name: r.name, valid: false, error: r.reason, requestPlugins: [], upstreamResponseFilterPlugins: [], upstreamResponsePlugins: [], upstreamResponseBodyFilterPlugins: [] };
  }
  return out;
}

export function translateStreamPluginSets(ctx: TranslateContext): Record<string, StreamPluginSetIR> {
  const out: Record<string, StreamPluginSetIR> = {};
  for (const p of ctx.all('EdgionStreamPlugins')) {
    const spec = (p.obj.spec ?? {}) as Obj;
    const key = `${p.namespace ?? 'default'}/${p.name}`;
    const missing: string[] = [];
    out[key] = { key, namespace: p.namespace ?? 'default', name: p.name, valid: true, plugins: entries(ctx, p.namespace ?? 'default', spec.plugins, missing), tlsRoutePlugins: entries(ctx, p.namespace ?? 'default', spec.tlsRoutePlugins, missing) };
    const c = ctx.conditions(p);
    ctx.statuses.set(p.key, { conditions: [c.make('Accepted', true, 'Accepted', 'EdgionStreamPlugins accepted'), c.make('Ready', true, 'Ready', 'Ready')] });
  }
  return out;
}

/** LinkSys resources by `ns/name`, with `auth.secretRef` credentials and `tls.certs.secretRef` certificates resolved. */
export function translateLinkSys(ctx: TranslateContext): Record<string, LinkSysIR> {
  const out: Record<string, LinkSysIR> = {};
  for (const l of ctx.all('LinkSys')) {
    const spec = (l.obj.spec ?? {}) as Obj;
    const config = structuredClone((spec.config ?? {}) as Record<string, unknown>);
    const auth = config.auth as Obj | undefined;
    const ref = auth?.secretRef as Obj | undefined;
    if (auth && ref && typeof ref.name === 'string') {
      const data = secretData(ctx, String(ref.namespace ?? l.namespace ?? 'default'), ref.name);
      if (data) {
        const u = data[String(ref.usernameKey ?? 'username')];
        const p = data[String(ref.passwordKey ?? 'password')];
        if (u !== undefined) auth.username = u;
        if (p !== undefined) auth.password = p;
      } else {
        ctx.warn(l, 'spec.config.auth.secretRef', `Secret ${String(ref.namespace ?? l.namespace)}/${ref.name} does not exist`);
      }
      delete auth.secretRef;
    }
    // tls.certs.secretRef: ca.crt / tls.crt / tls.key fill caCert / clientCert / clientKey not given inline.
    const certs = (config.tls as Obj | undefined)?.certs as Obj | undefined;
    const certRef = certs?.secretRef as Obj | undefined;
    if (certs && certRef && typeof certRef.name === 'string') {
      const data = secretData(ctx, String(certRef.namespace ?? l.namespace ?? 'default'), certRef.name);
      if (data) {
        if (certs.caCert === undefined && data['ca.crt'] !== undefined) certs.caCert = data['ca.crt'];
        if (certs.clientCert === undefined && data['tls.crt'] !== undefined) certs.clientCert = data['tls.crt'];
        if (certs.clientKey === undefined && data['tls.key'] !== undefined) certs.clientKey = data['tls.key'];
      } else {
        ctx.warn(l, 'spec.config.tls.certs.secretRef', `Secret ${String(certRef.namespace ?? l.namespace)}/${certRef.name} does not exist`);
      }
      delete certs.secretRef;
    }
    out[`${l.namespace ?? 'default'}/${l.name}`] = { type: String(spec.type ?? ''), config };
  }
  return out;
}
