// EdgionPlugins → PluginSetIR. The plugin entries are validated by the plugin registry before
// translation (a resource with an invalid entry never becomes "good"); here they are normalised
// and every plugin set a route references is present, valid or not (fail closed, DECISIONS §26).

import type { ClusterIR, LinkSysIR, PluginEntryIR, PluginSetIR, RequestMirrorIR, StreamPluginSetIR } from '../../ir/index.js';
import { resolveServiceTarget } from './backends.js';
import { secretBytes, secretData } from './secrets.js';
import { PLUGIN_STAGES } from '../../ir/index.js';
import type { Obj, TranslateContext } from './context.js';

/** RequestMirror entries: their backendRef resolved to a cluster (plugin references need no ReferenceGrant). */
function mirrorOf(ctx: TranslateContext, ns: string, config: Obj, clusters: Record<string, ClusterIR>, missing: string[]): RequestMirrorIR {
  const ref = (config.backendRef ?? {}) as Obj;
  const refNs = String(ref.namespace ?? ns);
  const target = resolveServiceTarget(ctx, { group: 'edgion.io', kind: 'EdgionPlugins', namespace: refNs }, { ...ref, namespace: refNs }, clusters);
  if (target.problem) missing.push(`RequestMirror: ${target.problem.message}`);
  const fraction = config.fraction as Obj | undefined;
  const percent = typeof config.percent === 'number' ? config.percent : fraction ? (Number(fraction.numerator) / Number(fraction.denominator ?? 100)) * 100 : 100;
  return {
    type: 'RequestMirror',
    ...(target.clusterKey ? { cluster: target.clusterKey } : {}),
    backend: { namespace: target.namespace, name: target.name, ...(target.port !== undefined ? { port: target.port } : {}) },
    percent,
    connectTimeoutMs: Number(config.connectTimeoutMs ?? 1000),
    writeTimeoutMs: Number(config.writeTimeoutMs ?? 1000),
    maxConcurrent: Number(config.maxConcurrent ?? 1024),
    ...(config.mirrorLog === false ? { log: false as const } : {}),
  };
}

/** Entries with their Secrets resolved; missing Secrets are collected in `missing`. */
function entries(ctx: TranslateContext, ns: string, list: unknown, missing: string[], clusters: Record<string, ClusterIR>): PluginEntryIR[] {
  return ((list ?? []) as Obj[]).map((e) => {
    const type = String(e.type);
    const config = e.config ?? {};
    const out: PluginEntryIR = { type, enable: e.enable !== false, config, ...(e.conditions !== undefined ? { conditions: e.conditions } : {}) };
    if (type === 'RequestMirror') out.mirror = mirrorOf(ctx, ns, config as Obj, clusters, missing);
    const refs = ctx.input.plugins?.secretRefs(type, config) ?? [];
    if (refs.length) {
      out.secrets = {};
      for (const ref of refs) {
        const refNs = ref.namespace ?? ns;
        const raw = secretBytes(ctx, refNs, ref.name);
        if (!raw) {
          missing.push(`${type}: Secret ${refNs}/${ref.name} does not exist`);
          continue;
        }
        const text: Record<string, string> = {};
        for (const [k, v] of Object.entries(raw)) {
          text[k] = v.toString('utf8');
          // Binary values (random keys) do not survive text: they travel as base64 too.
          if (!Buffer.from(text[k], 'utf8').equals(v)) ((out.secretsBinary ??= {})[`${refNs}/${ref.name}`] ??= {})[k] = v.toString('base64');
        }
        out.secrets[`${refNs}/${ref.name}`] = text;
      }
    }
    return out;
  });
}

export function translatePluginSets(ctx: TranslateContext, clusters: Record<string, ClusterIR>): Record<string, PluginSetIR> {
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
    for (const stage of PLUGIN_STAGES) set[stage] = entries(ctx, set.namespace, spec[stage], missing, clusters);
    out[key] = set;
    const c = ctx.conditions(p);
    for (const m of missing) ctx.warn(p, 'spec', `${m}; the plugin runs without it (an auth plugin then rejects every request)`);
    const warnings = pluginWarnings(ctx, spec);
    ctx.statuses.set(p.key, {
      conditions: [
        c.make('Accepted', true, 'Accepted', warnings.length ? `EdgionPlugins accepted with warnings: ${warnings.join('; ')}` : 'EdgionPlugins accepted'),
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

/** Warnings plugins' own checks raise on a valid config (e.g. ProxyRewrite with uri and regexUri). */
function pluginWarnings(ctx: TranslateContext, spec: Obj): string[] {
  const registry = ctx.input.plugins;
  if (!registry) return [];
  const out: string[] = [];
  for (const stage of PLUGIN_STAGES) {
    const list = spec[stage];
    if (!Array.isArray(list)) continue;
    list.forEach((raw: unknown, i: number) => {
      const entry = raw as Obj;
      for (const p of registry.validateEntry(stage, entry).problems) {
        if (p.severity === 'warning') out.push(`spec.${stage}[${i}]${p.path ? `.${p.path}` : ''}: ${String(entry.type)}: ${p.message}`);
      }
    });
  }
  return out;
}

export function translateStreamPluginSets(ctx: TranslateContext, clusters: Record<string, ClusterIR>): Record<string, StreamPluginSetIR> {
  const out: Record<string, StreamPluginSetIR> = {};
  for (const p of ctx.all('EdgionStreamPlugins')) {
    const spec = (p.obj.spec ?? {}) as Obj;
    const key = `${p.namespace ?? 'default'}/${p.name}`;
    const missing: string[] = [];
    out[key] = { key, namespace: p.namespace ?? 'default', name: p.name, valid: true, plugins: entries(ctx, p.namespace ?? 'default', spec.plugins, missing, clusters), tlsRoutePlugins: entries(ctx, p.namespace ?? 'default', spec.tlsRoutePlugins, missing, clusters) };
    const c = ctx.conditions(p);
    ctx.statuses.set(p.key, { conditions: [c.make('Accepted', true, 'Accepted', 'EdgionStreamPlugins accepted'), c.make('Ready', true, 'Ready', 'Ready')] });
  }
  // Never valid: present and invalid, so the listeners and routes using it refuse connections (DECISIONS §26).
  for (const r of ctx.input.rejected ?? []) {
    if (r.kind !== 'EdgionStreamPlugins') continue;
    const key = `${r.namespace ?? 'default'}/${r.name}`;
    out[key] ??= { key, namespace: r.namespace ?? 'default', name: r.name, valid: false, error: r.reason, plugins: [], tlsRoutePlugins: [] };
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
    // TLS material from a Secret (ca.crt, tls.crt, tls.key), for redis and webhook links.
    const certs = (config.tls as Obj | undefined)?.certs as Obj | undefined;
    const certRef = certs?.secretRef as Obj | undefined;
    if (certs && certRef && typeof certRef.name === 'string') {
      const data = secretData(ctx, String(certRef.namespace ?? l.namespace ?? 'default'), certRef.name);
      if (data) {
        if (data['ca.crt'] !== undefined && certs.caCert === undefined) certs.caCert = data['ca.crt'];
        if (data['tls.crt'] !== undefined && certs.clientCert === undefined) certs.clientCert = data['tls.crt'];
        if (data['tls.key'] !== undefined && certs.clientKey === undefined) certs.clientKey = data['tls.key'];
      } else {
        ctx.warn(l, 'spec.config.tls.certs.secretRef', `Secret ${String(certRef.namespace ?? l.namespace)}/${certRef.name} does not exist`);
      }
      delete certs.secretRef;
    }
    out[`${l.namespace ?? 'default'}/${l.name}`] = { type: String(spec.type ?? ''), config };
  }
  return out;
}
