// TCPRoute, UDPRoute and TLSRoute → StreamRouteIR, with status.parents like HTTPRoute's. Routes attach
// to TCP, UDP and TLS listeners (resources.md §11); a TLSRoute's hostnames are intersected with its
// listener's. Annotations: edgion.io/edgion-stream-plugins (also edgion.io/stream-plugins),
// edgion.io/proxy-protocol, edgion.io/max-connect-retries, edgion.io/udp-session-timeout.

import type { ClusterIR, StreamRouteIR, StreamRuleIR } from '../../ir/index.js';
import { durationMs } from '../../shared/durations.js';
import { metaOf, nsName, type Obj, type TranslateContext } from './context.js';
import type { GatewayState } from './gateways.js';
import { attachRoute } from './route-parents.js';
import type { FilterProblem } from './filters.js';
import { routeStatus, translateBackendRefs } from './http-routes.js';

export type StreamKind = 'TCPRoute' | 'UDPRoute' | 'TLSRoute';

export const DEFAULT_UDP_SESSION_MS = 60_000;

/** `name` or `ns/name` of an EdgionStreamPlugins (annotation value) → key `ns/name`. */
export function streamPluginsKey(value: string | undefined, defaultNs: string): string | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  return v.includes('/') ? v : `${defaultNs}/${v}`;
}

/** The annotation naming an EdgionStreamPlugins (the code's key, or the docs' alias). */
export function streamPluginsAnnotation(annotations: Record<string, string>): string | undefined {
  return annotations['edgion.io/edgion-stream-plugins'] ?? annotations['edgion.io/stream-plugins'];
}

/** Checks that a referenced EdgionStreamPlugins exists and is valid; the problem otherwise. */
export function streamPluginsProblem(ctx: TranslateContext, key: string): string | undefined {
  const [ns, name] = key.split('/') as [string, string];
  if (ctx.get('EdgionStreamPlugins', ns, name)) return undefined;
  const rejected = ctx.input.rejected?.find((r) => r.kind === 'EdgionStreamPlugins' && r.namespace === ns && r.name === name);
  return rejected
    ? `EdgionStreamPlugins ${key} is rejected (${rejected.reason}): connections are refused until it is valid`
    : `EdgionStreamPlugins ${key} does not exist: connections are refused until it does`;
}

export function translateStreamRoutes(ctx: TranslateContext, kind: StreamKind, gateways: Map<string, GatewayState>, clusters: Record<string, ClusterIR>): StreamRouteIR[] {
  const out: StreamRouteIR[] = [];
  for (const route of ctx.all(kind)) {
    const spec = (route.obj.spec ?? {}) as Obj;
    const ns = route.namespace ?? 'default';
    const hostnames = kind === 'TLSRoute' ? ((spec.hostnames ?? []) as string[]).map((h) => h.toLowerCase()) : [];
    const outcomes = attachRoute(ctx, route, kind, kind === 'TLSRoute' ? hostnames : undefined, gateways);
    const problems: FilterProblem[] = [];
    const specRules = (spec.rules ?? []) as Obj[];
    const rules: StreamRuleIR[] = specRules.map((r, i) => ({ index: i, backends: translateBackendRefs(ctx, route, kind, r.backendRefs as Obj[] | undefined, clusters, problems) }));
    if (specRules.length > 1) ctx.warn(route, 'spec.rules', `${kind}: only the first rule is used (it has ${specRules.length})`);
    const { annotations } = metaOf(route.obj);
    const plugins = streamPluginsKey(streamPluginsAnnotation(annotations), ns);
    if (plugins) {
      const p = streamPluginsProblem(ctx, plugins);
      if (p) {
        problems.push({ reason: 'BackendNotFound', message: p });
        ctx.warn(route, 'metadata.annotations', p);
      }
    }
    ctx.statuses.set(route.key, routeStatus(ctx, route, { outcomes, problems, invalidRules: [], ruleCount: specRules.length }));
    const attachments = outcomes.flatMap((o) => o.attachments);
    if (attachments.length === 0 || rules.length === 0) continue;
    const pp = annotations['edgion.io/proxy-protocol']?.trim().toLowerCase();
    const retries = annotations['edgion.io/max-connect-retries'];
    out.push({
      kind,
      key: nsName(route),
      namespace: ns,
      name: route.name,
      order: route.order,
      generation: route.generation,
      annotations,
      attachments,
      rules,
      hostnames,
      ...(plugins ? { streamPlugins: plugins } : {}),
      ...(kind !== 'UDPRoute' && (pp === 'v1' || pp === 'v2') ? { proxyProtocol: pp } : {}),
      maxConnectRetries: retries !== undefined && /^\d+$/.test(retries.trim()) ? Number(retries) : 1,
      ...(kind === 'UDPRoute' ? { sessionIdleMs: durationMs(annotations['edgion.io/udp-session-timeout'], DEFAULT_UDP_SESSION_MS) } : {}),
    });
  }
  return out;
}
