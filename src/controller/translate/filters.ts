// Gateway API route filters (rule and backendRef level) → FilterIR. Problems are returned as
// reasons for the route's ResolvedRefs condition; an ExtensionRef that does not resolve becomes a
// filter the gateway answers with 500 (Gateway API: a broken filter must not be skipped).

import type { ClusterIR, FilterIR, HeaderModifierIR, LbPolicyIR, PathModifierIR } from '../../ir/index.js';
import type { Obj, TranslateContext } from './context.js';
import type { RefFrom } from './reference-grants.js';
import { resolveServiceTarget } from './backends.js';

export interface FilterProblem {
  reason: string;
  message: string;
}

function headerModifier(f: Obj | undefined): HeaderModifierIR {
  const pairs = (list: unknown) => ((list ?? []) as Obj[]).map((h) => ({ name: String(h.name).toLowerCase(), value: String(h.value ?? '') }));
  return { set: pairs(f?.set), add: pairs(f?.add), remove: ((f?.remove ?? []) as string[]).map((n) => n.toLowerCase()) };
}

function pathModifier(p: Obj | undefined): PathModifierIR | undefined {
  if (!p) return undefined;
  if (p.type === 'ReplaceFullPath') return { type: 'ReplaceFullPath', value: String(p.replaceFullPath ?? '/') };
  if (p.type === 'ReplacePrefixMatch') return { type: 'ReplacePrefixMatch', value: String(p.replacePrefixMatch ?? '/') };
  return undefined;
}

const LB_KINDS = new Set(['LBPolicyConsistentHash', 'LBPolicyLeastConn', 'LBPolicyEwma', 'LBPolicyRoundRobin']);

/** A backendRef-level ExtensionRef with an LB policy kind selects the algorithm (resources.md §7.8). */
export function lbPolicyOf(filters: Obj[] | undefined): LbPolicyIR | undefined {
  for (const f of filters ?? []) {
    if (f.type !== 'ExtensionRef') continue;
    const ref = (f.extensionRef ?? {}) as Obj;
    const kind = String(ref.kind ?? '');
    if (!LB_KINDS.has(kind)) continue;
    const name = String(ref.name ?? '');
    if (kind === 'LBPolicyLeastConn') return { type: 'LeastConn' };
    if (kind === 'LBPolicyEwma') return { type: 'Ewma' };
    if (kind === 'LBPolicyRoundRobin') return { type: 'RoundRobin' };
    const dot = name.indexOf('.');
    const src = dot === -1 ? name : name.slice(0, dot);
    const key = dot === -1 ? undefined : name.slice(dot + 1);
    if (src === 'header' && key) return { type: 'ConsistentHash', source: 'header', name: key.toLowerCase() };
    if (src === 'cookie' && key) return { type: 'ConsistentHash', source: 'cookie', name: key };
    if ((src === 'arg' || src === 'query') && key) return { type: 'ConsistentHash', source: 'query', name: key };
    return { type: 'ConsistentHash', source: 'sourceIp' };
  }
  return undefined;
}

export function translateFilters(
  ctx: TranslateContext,
  from: RefFrom,
  filters: Obj[] | undefined,
  clusters: Record<string, ClusterIR>,
  problems: FilterProblem[],
): FilterIR[] {
  const out: FilterIR[] = [];
  for (const f of filters ?? []) {
    switch (f.type) {
      case 'RequestHeaderModifier':
        out.push({ type: 'RequestHeaderModifier', ...headerModifier(f.requestHeaderModifier as Obj) });
        break;
      case 'ResponseHeaderModifier':
        out.push({ type: 'ResponseHeaderModifier', ...headerModifier(f.responseHeaderModifier as Obj) });
        break;
      case 'RequestRedirect': {
        const r = (f.requestRedirect ?? {}) as Obj;
        const path = pathModifier(r.path as Obj | undefined);
        out.push({
          type: 'RequestRedirect',
          ...(typeof r.scheme === 'string' ? { scheme: r.scheme } : {}),
          ...(typeof r.hostname === 'string' ? { hostname: r.hostname } : {}),
          ...(typeof r.port === 'number' ? { port: r.port } : {}),
          ...(path ? { path } : {}),
          statusCode: typeof r.statusCode === 'number' ? r.statusCode : 302,
        });
        break;
      }
      case 'URLRewrite': {
        const r = (f.urlRewrite ?? {}) as Obj;
        const path = pathModifier(r.path as Obj | undefined);
        out.push({ type: 'URLRewrite', ...(typeof r.hostname === 'string' ? { hostname: r.hostname } : {}), ...(path ? { path } : {}) });
        break;
      }
      case 'RequestMirror': {
        const m = (f.requestMirror ?? {}) as Obj;
        const target = resolveServiceTarget(ctx, from, (m.backendRef ?? {}) as Obj, clusters);
        if (target.problem) problems.push({ reason: target.problem.reason, message: `RequestMirror: ${target.problem.message}` });
        const fraction = m.fraction as Obj | undefined;
        const percent = typeof m.percent === 'number' ? m.percent : fraction ? (Number(fraction.numerator) / Number(fraction.denominator ?? 100)) * 100 : 100;
        out.push({
          type: 'RequestMirror',
          ...(target.clusterKey ? { cluster: target.clusterKey } : {}),
          backend: { namespace: target.namespace, name: target.name, ...(target.port !== undefined ? { port: target.port } : {}) },
          percent,
          connectTimeoutMs: Number(m.connectTimeoutMs ?? 1000),
          writeTimeoutMs: Number(m.writeTimeoutMs ?? 1000),
          maxConcurrent: Number(m.maxConcurrent ?? 1024),
          ...(m.mirrorLog === false ? { log: false as const } : {}),
        });
        break;
      }
      case 'ExtensionRef': {
        const ref = (f.extensionRef ?? {}) as Obj;
        const kind = String(ref.kind ?? '');
        if (LB_KINDS.has(kind)) break; // handled by lbPolicyOf at the backendRef level
        const group = String(ref.group ?? '');
        if (kind !== 'EdgionPlugins' || (group !== 'edgion.io' && group !== '')) {
          problems.push({ reason: 'InvalidKind', message: `ExtensionRef ${group}/${kind} is not supported (only edgion.io EdgionPlugins and LBPolicy kinds)` });
          out.push({ type: 'ExtensionRef', pluginSet: `!unsupported:${group}/${kind}` });
          break;
        }
        const key = `${from.namespace}/${String(ref.name)}`;
        if (!ctx.get('EdgionPlugins', from.namespace, String(ref.name))) {
          const rejected = ctx.input.rejected?.some((r) => r.kind === 'EdgionPlugins' && r.namespace === from.namespace && r.name === String(ref.name));
          problems.push({ reason: 'RefNotFound', message: `EdgionPlugins ${key} ${rejected ? 'is invalid' : 'does not exist'}; requests on this rule get 500 until it ${rejected ? 'is fixed' : 'does'}` });
        }
        out.push({ type: 'ExtensionRef', pluginSet: key });
        break;
      }
      case 'CORS': {
        const c = (f.cors ?? {}) as Obj;
        out.push({
          type: 'CORS',
          allowOrigins: ((c.allowOrigins ?? []) as string[]).map(String),
          allowCredentials: c.allowCredentials === true,
          allowMethods: ((c.allowMethods ?? []) as string[]).map(String),
          allowHeaders: ((c.allowHeaders ?? []) as string[]).map(String),
          exposeHeaders: ((c.exposeHeaders ?? []) as string[]).map(String),
          ...(typeof c.maxAge === 'number' ? { maxAge: c.maxAge } : {}),
        });
        break;
      }
      default:
        problems.push({ reason: 'UnsupportedValue', message: `filter type ${String(f.type)} is not supported` });
    }
  }
  return out;
}
