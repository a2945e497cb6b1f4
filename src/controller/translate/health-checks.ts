// Active health checks from the `edgion.io/health-check` annotation (resources.md §7.12), on an
// EndpointSlice, Endpoints or Service (in that priority). Passive ejection settings may be given in
// the same YAML under `passive`.

import { parse } from 'yaml';
import type { ActiveHealthCheckIR, PassiveHealthCheckIR } from '../../ir/index.js';
import { durationMs } from '../../shared/durations.js';
import { metaOf, type Obj, type ResourceView, type TranslateContext } from './context.js';

const ANNOTATION = 'edgion.io/health-check';

function annotatedObject(ctx: TranslateContext, svc: ResourceView, ns: string): ResourceView | undefined {
  const slices = ctx.all('EndpointSlice').filter((s) => s.namespace === ns && metaOf(s.obj).labels['kubernetes.io/service-name'] === svc.name);
  for (const s of slices) if (metaOf(s.obj).annotations[ANNOTATION]) return s;
  const eps = ctx.get('Endpoints', ns, svc.name);
  if (eps && metaOf(eps.obj).annotations[ANNOTATION]) return eps;
  return metaOf(svc.obj).annotations[ANNOTATION] ? svc : undefined;
}

export function parseHealthCheck(text: string): { active?: ActiveHealthCheckIR; passive?: PassiveHealthCheckIR } | string {
  let doc: Obj;
  try {
    doc = (parse(text) ?? {}) as Obj;
  } catch (err) {
    return `not valid YAML: ${(err as Error).message.split('\n')[0]}`;
  }
  if (typeof doc !== 'object' || doc === null) return 'must be a YAML mapping with `active` and/or `passive`';
  const out: { active?: ActiveHealthCheckIR; passive?: PassiveHealthCheckIR } = {};
  const a = doc.active as Obj | undefined;
  if (a) {
    const type = a.type === 'tcp' ? 'tcp' : 'http';
    const statuses = Array.isArray(a.expectedStatuses) ? a.expectedStatuses.map(Number).filter((n) => n >= 100 && n < 600) : [200];
    out.active = {
      type,
      path: typeof a.path === 'string' && a.path.startsWith('/') ? a.path : '/',
      ...(typeof a.port === 'number' ? { port: a.port } : {}),
      intervalMs: Math.max(1000, durationMs(a.interval as string | undefined, 10_000)),
      timeoutMs: Math.max(100, durationMs(a.timeout as string | undefined, 3_000)),
      healthyThreshold: Math.max(1, Number(a.healthyThreshold ?? 2) || 2),
      unhealthyThreshold: Math.max(1, Number(a.unhealthyThreshold ?? 3) || 3),
      expectedStatuses: statuses.length ? statuses : [200],
      ...(typeof a.host === 'string' ? { host: a.host } : {}),
    };
  }
  const p = doc.passive as Obj | undefined;
  if (p) {
    out.passive = {
      consecutiveFailures: Math.max(1, Number(p.consecutiveFailures ?? p.unhealthyThreshold ?? 3) || 3),
      ejectionMs: Math.max(1000, durationMs(p.ejectionTime as string | undefined ?? (p.baseEjectionTime as string | undefined), 30_000)),
    };
  }
  return out;
}

export function healthCheckFromAnnotations(ctx: TranslateContext, svc: ResourceView, ns: string): { active?: ActiveHealthCheckIR; passive?: PassiveHealthCheckIR } | undefined {
  const holder = annotatedObject(ctx, svc, ns);
  if (!holder) return undefined;
  const text = metaOf(holder.obj).annotations[ANNOTATION]!;
  const hc = parseHealthCheck(text);
  if (typeof hc === 'string') {
    ctx.warn(holder, `metadata.annotations["${ANNOTATION}"]`, `health check ignored: ${hc}`);
    return undefined;
  }
  return hc.active || hc.passive ? hc : undefined;
}
