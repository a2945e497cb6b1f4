// GRPCRoutes → GrpcRouteIR with status.parents. Method matches are Exact (service, method or both);
// `RegularExpression` is not supported and is reported (DECISIONS.md §10), not silently ignored.

import type { ClusterIR, GrpcMatchIR, GrpcRouteIR, GrpcRuleIR } from '../../ir/index.js';
import { regexError } from '../../shared/regex.js';
import { metaOf, nsName, type Obj, type TranslateContext } from './context.js';
import type { GatewayState } from './gateways.js';
import { attachRoute } from './route-parents.js';
import type { FilterProblem } from './filters.js';
import { routeStatus, ruleCommon } from './http-routes.js';

function grpcMatch(m: Obj, path: string, problems: string[]): GrpcMatchIR | undefined {
  const method = (m.method ?? {}) as Obj;
  if (method.type === 'RegularExpression') {
    problems.push(`${path}.method.type: RegularExpression method matches are not supported (use Exact)`);
    return undefined;
  }
  const headers = ((m.headers ?? []) as Obj[]).map((h) => ({ name: String(h.name).toLowerCase(), type: (h.type ?? 'Exact') as 'Exact' | 'RegularExpression', value: String(h.value) }));
  headers.forEach((h, i) => {
    if (h.type === 'RegularExpression') {
      const e = regexError(h.value);
      if (e) problems.push(`${path}.headers[${i}].value: ${e}`);
    }
  });
  return {
    ...(typeof method.service === 'string' && method.service ? { service: method.service } : {}),
    ...(typeof method.method === 'string' && method.method ? { method: method.method } : {}),
    headers,
  };
}

export function translateGrpcRoutes(ctx: TranslateContext, gateways: Map<string, GatewayState>, clusters: Record<string, ClusterIR>): GrpcRouteIR[] {
  const out: GrpcRouteIR[] = [];
  for (const route of ctx.all('GRPCRoute')) {
    const spec = (route.obj.spec ?? {}) as Obj;
    const hostnames = ((spec.hostnames ?? []) as string[]).map((h) => h.toLowerCase());
    const outcomes = attachRoute(ctx, route, 'GRPCRoute', hostnames, gateways);
    const problems: FilterProblem[] = [];
    const invalidRules: string[] = [];
    const ignored: string[] = [];
    const rules: GrpcRuleIR[] = [];
    const specRules = (spec.rules ?? []) as Obj[];
    specRules.forEach((r, i) => {
      const bad: string[] = [];
      const raw = (r.matches as Obj[] | undefined)?.length ? (r.matches as Obj[]) : [{}];
      const matches = raw.map((m, mi) => grpcMatch(m, `spec.rules[${i}].matches[${mi}]`, bad)).filter((m): m is GrpcMatchIR => m !== undefined);
      if (bad.length) {
        invalidRules.push(...bad);
        for (const b of bad) ctx.error(route, b.slice(0, b.indexOf(':')), b.slice(b.indexOf(':') + 2));
        return;
      }
      rules.push({ ...ruleCommon(ctx, route, 'GRPCRoute', r, i, clusters, problems, ignored), matches });
    });
    // An unsupported method match rejects the route (DECISIONS §10): Accepted=False, UnsupportedValue.
    const regexMethod = invalidRules.filter((x) => x.includes('RegularExpression method'));
    const reject = regexMethod.length ? { reason: 'UnsupportedValue', message: regexMethod.join('; ') } : undefined;
    ctx.statuses.set(route.key, routeStatus(ctx, route, { outcomes, problems, invalidRules, ruleCount: specRules.length, ignored, ...(reject ? { reject } : {}) }));
    const attachments = outcomes.flatMap((o) => o.attachments);
    if (attachments.length === 0 || rules.length === 0 || reject) continue;
    out.push({
      key: nsName(route),
      namespace: route.namespace ?? 'default',
      name: route.name,
      order: route.order,
      generation: route.generation,
      annotations: metaOf(route.obj).annotations,
      attachments,
      rules,
    });
  }
  return out;
}
