// HTTPRoutes → HttpRouteIR, with their status.parents. A rule with an unusable value (a regular
// expression that does not compile) is dropped and reported (PartiallyInvalid); the rest of the
// route keeps serving.

import type { BackendRefIR, ClusterIR, HttpMatchIR, HttpRouteIR, HttpRuleIR, RetryIR, SessionPersistenceIR } from '../../ir/index.js';
import { durationMs } from '../../shared/durations.js';
import { regexError } from '../../shared/regex.js';
import type { Condition } from './conditions.js';
import { conditionsOf } from './conditions.js';
import { metaOf, nsName, type Obj, type ResourceView, type TranslateContext } from './context.js';
import { GATEWAY_GROUP, type GatewayState } from './gateways.js';
import { attachRoute, type ParentOutcome } from './route-parents.js';
import { resolveServiceTarget, type BackendProblemReason } from './backends.js';
import { backendTlsError } from './backend-tls.js';
import { mirrorOptionWarnings } from '../../plugins/http/engine/request-mirror.js';
import { lbPolicyOf, translateFilters, type FilterProblem } from './filters.js';

const PROBLEM_ORDER = ['InvalidKind', 'RefNotPermitted', 'BackendNotFound'];

function firstProblem(problems: FilterProblem[]): FilterProblem | undefined {
  return [...problems].sort((a, b) => {
    const ia = PROBLEM_ORDER.indexOf(a.reason);
    const ib = PROBLEM_ORDER.indexOf(b.reason);
    return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
  })[0];
}

function match(m: Obj): HttpMatchIR {
  const path = (m.path ?? { type: 'PathPrefix', value: '/' }) as Obj;
  return {
    path: { type: (path.type ?? 'PathPrefix') as HttpMatchIR['path']['type'], value: String(path.value ?? '/') },
    ...(typeof m.method === 'string' ? { method: m.method } : {}),
    headers: ((m.headers ?? []) as Obj[]).map((h) => ({ name: String(h.name).toLowerCase(), type: (h.type ?? 'Exact') as 'Exact' | 'RegularExpression', value: String(h.value) })),
    queryParams: ((m.queryParams ?? []) as Obj[]).map((q) => ({ name: String(q.name), type: (q.type ?? 'Exact') as 'Exact' | 'RegularExpression', value: String(q.value) })),
  };
}

function matchProblems(m: HttpMatchIR, path: string): string[] {
  const out: string[] = [];
  if (m.path.type === 'RegularExpression') {
    const e = regexError(m.path.value);
    if (e) out.push(`${path}.path.value: ${e}`);
  }
  m.headers.forEach((h, i) => {
    if (h.type === 'RegularExpression') {
      const e = regexError(h.value);
      if (e) out.push(`${path}.headers[${i}].value: ${e}`);
    }
  });
  m.queryParams.forEach((q, i) => {
    if (q.type === 'RegularExpression') {
      const e = regexError(q.value);
      if (e) out.push(`${path}.queryParams[${i}].value: ${e}`);
    }
  });
  return out;
}

export function retryOf(r: Obj | undefined): RetryIR | undefined {
  if (!r) return undefined;
  return {
    attempts: typeof r.attempts === 'number' ? r.attempts : 1,
    codes: Array.isArray(r.codes) ? r.codes.map(Number) : [],
    backoffMs: typeof r.backoff === 'string' ? durationMs(r.backoff, 0) : 0,
  };
}

export function sessionPersistenceOf(sp: Obj | undefined, fallbackName: string): SessionPersistenceIR | undefined {
  if (!sp) return undefined;
  const type = sp.type === 'Header' ? 'Header' : 'Cookie';
  const cookie = (sp.cookieConfig ?? {}) as Obj;
  return {
    type,
    name: typeof sp.sessionName === 'string' && sp.sessionName ? sp.sessionName : fallbackName,
    ...(typeof sp.absoluteTimeout === 'string' ? { absoluteTimeoutMs: durationMs(sp.absoluteTimeout, 0) } : {}),
    ...(typeof sp.idleTimeout === 'string' ? { idleTimeoutMs: durationMs(sp.idleTimeout, 0) } : {}),
    lifetime: cookie.lifetimeType === 'Permanent' ? 'Permanent' : 'Session',
  };
}

/** backendRefs of a rule; problems collected for ResolvedRefs. Shared with GRPCRoute. */
export function translateBackendRefs(ctx: TranslateContext, route: ResourceView, kind: string, refs: Obj[] | undefined, clusters: Record<string, ClusterIR>, problems: FilterProblem[]): BackendRefIR[] {
  const from = { group: GATEWAY_GROUP, kind, namespace: route.namespace ?? 'default' };
  return (refs ?? []).map((ref) => {
    const filters = ref.filters as Obj[] | undefined;
    const lb = lbPolicyOf(filters);
    const target = resolveServiceTarget(ctx, from, ref, clusters, lb);
    const weight = typeof ref.weight === 'number' ? ref.weight : 1;
    const ir: BackendRefIR = {
      kind: String(ref.kind ?? 'Service'),
      namespace: target.namespace,
      name: target.name,
      ...(target.port !== undefined ? { port: target.port } : {}),
      weight,
      ...(target.clusterKey ? { cluster: target.clusterKey } : {}),
      filters: translateFilters(ctx, from, filters, clusters, problems),
    };
    if (target.problem) {
      problems.push(target.problem);
      ir.error = { status: 500, reason: reasonToError(target.problem.reason), message: `backendRef ${target.namespace}/${target.name}${target.port !== undefined ? ':' + target.port : ''} does not resolve: ${target.problem.message}` };
    } else {
      // A BackendTLSPolicy that cannot be applied: 502, never plain text or the system roots.
      const tlsError = backendTlsError(target.clusterKey ? clusters[target.clusterKey] : undefined);
      if (tlsError) ir.error = tlsError;
    }
    return ir;
  });
}

function reasonToError(r: BackendProblemReason): string {
  return r === 'InvalidKind' ? 'BackendUnsupportedKind' : r === 'RefNotPermitted' ? 'RefDenied' : 'BackendServiceNotFound';
}

/**
 * Fields of a rule that are accepted but have no effect: a warning each (diagnostics), collected in
 * `ignored` for the route's status.
 */
function ignoredRuleFields(ctx: TranslateContext, route: ResourceView, r: Obj, i: number, ignored: string[]): void {
  const note = (path: string, why: string) => {
    ctx.warn(route, path, why);
    ignored.push(`${path}: ${why}`);
  };
  const mirrors = (filters: unknown, path: string) =>
    ((filters ?? []) as Obj[]).forEach((f, fi) => {
      if (f.type !== 'RequestMirror') return;
      for (const w of mirrorOptionWarnings((f.requestMirror ?? {}) as Obj)) note(`${path}[${fi}].requestMirror.${w.path}`, w.message);
    });
  mirrors(r.filters, `spec.rules[${i}].filters`);
  ((r.backendRefs ?? []) as Obj[]).forEach((b, bi) => mirrors(b.filters, `spec.rules[${i}].backendRefs[${bi}].filters`));
}

/** What HTTPRoute and GRPCRoute rules share: filters, backends, timeouts, retry, session persistence. */
export function ruleCommon(ctx: TranslateContext, route: ResourceView, kind: string, r: Obj, i: number, clusters: Record<string, ClusterIR>, problems: FilterProblem[], ignored: string[] = []) {
  const from = { group: GATEWAY_GROUP, kind, namespace: route.namespace ?? 'default' };
  ignoredRuleFields(ctx, route, r, i, ignored);
  const timeouts = (r.timeouts ?? {}) as Obj;
  const retry = retryOf(r.retry as Obj | undefined);
  const sp = sessionPersistenceOf(r.sessionPersistence as Obj | undefined, `edgion-session-${route.name}-${i}`);
  const requestMs = typeof timeouts.request === 'string' ? durationMs(timeouts.request, 0) : 0;
  const backendRequestMs = typeof timeouts.backendRequest === 'string' ? durationMs(timeouts.backendRequest, 0) : 0;
  return {
    index: i,
    ...(typeof r.name === 'string' ? { name: r.name } : {}),
    filters: translateFilters(ctx, from, r.filters as Obj[] | undefined, clusters, problems),
    backends: translateBackendRefs(ctx, route, kind, r.backendRefs as Obj[] | undefined, clusters, problems),
    // A zero duration disables the timeout (Gateway API).
    timeouts: { ...(requestMs ? { requestMs } : {}), ...(backendRequestMs ? { backendRequestMs } : {}) },
    ...(retry ? { retry } : {}),
    ...(sp ? { sessionPersistence: sp } : {}),
  };
}

export interface RouteStatusInput {
  outcomes: ParentOutcome[];
  problems: FilterProblem[];
  invalidRules: string[];
  ruleCount: number;
  /** The route as a whole is not acceptable (e.g. an unsupported GRPCRoute method match). */
  reject?: { reason: string; message: string };
  /** Fields accepted without effect (`path: why`), noted in the Accepted message. */
  ignored?: string[];
}

/** status.parents[] for any route kind. */
export function routeStatus(ctx: TranslateContext, route: ResourceView, input: RouteStatusInput): Obj {
  const prevParents = ((route.previousStatus?.parents ?? []) as Obj[]).map((p) => ({ ref: JSON.stringify(p.parentRef), conditions: conditionsOf(p) ?? [] }));
  const problem = firstProblem(input.problems);
  const allRulesInvalid = input.ruleCount > 0 && input.invalidRules.length === input.ruleCount;
  return {
    parents: input.outcomes.map((o) => {
      const prev = prevParents.find((p) => p.ref === JSON.stringify(o.parentRef))?.conditions;
      const c = ctx.conditions(route, prev);
      const conds: Condition[] = [];
      if (!o.accepted) conds.push(c.make('Accepted', false, o.reason, o.message));
      else if (input.reject) conds.push(c.make('Accepted', false, input.reject.reason, input.reject.message));
      else if (allRulesInvalid) conds.push(c.make('Accepted', false, 'UnsupportedValue', `every rule is invalid: ${input.invalidRules.join('; ')}`));
      else conds.push(c.make('Accepted', true, 'Accepted', input.ignored?.length ? `Route accepted (ignored: ${input.ignored.join('; ')})` : 'Route accepted'));
      conds.push(problem ? c.make('ResolvedRefs', false, problem.reason, input.problems.map((p) => p.message).join('; ')) : c.make('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved'));
      if (input.invalidRules.length && !allRulesInvalid) conds.push(c.make('PartiallyInvalid', true, 'UnsupportedValue', `rules dropped: ${input.invalidRules.join('; ')}`));
      const programmed = o.accepted && !allRulesInvalid && !input.reject;
      conds.push(c.make('Programmed', programmed, programmed ? 'Programmed' : 'Invalid', programmed ? 'Route programmed' : 'Route is not programmed'));
      return { parentRef: o.parentRef, controllerName: ctx.input.controllerName, conditions: conds };
    }),
  };
}

export function translateHttpRoutes(ctx: TranslateContext, gateways: Map<string, GatewayState>, clusters: Record<string, ClusterIR>): HttpRouteIR[] {
  const out: HttpRouteIR[] = [];
  for (const route of ctx.all('HTTPRoute')) {
    const spec = (route.obj.spec ?? {}) as Obj;
    const hostnames = ((spec.hostnames ?? []) as string[]).map((h) => h.toLowerCase());
    const outcomes = attachRoute(ctx, route, 'HTTPRoute', hostnames, gateways);
    const problems: FilterProblem[] = [];
    const invalidRules: string[] = [];
    const ignored: string[] = [];
    const rules: HttpRuleIR[] = [];
    const specRules = (spec.rules ?? []) as Obj[];
    specRules.forEach((r, i) => {
      const rawMatches = (r.matches as Obj[] | undefined)?.length ? (r.matches as Obj[]) : [{ path: { type: 'PathPrefix', value: '/' } }];
      const matches = rawMatches.map(match);
      const bad = matches.flatMap((m, mi) => matchProblems(m, `spec.rules[${i}].matches[${mi}]`));
      if (bad.length) {
        invalidRules.push(...bad);
        for (const b of bad) ctx.error(route, b.slice(0, b.indexOf(':')), b.slice(b.indexOf(':') + 2));
        return;
      }
      rules.push({ ...ruleCommon(ctx, route, 'HTTPRoute', r, i, clusters, problems, ignored), matches });
    });
    ctx.statuses.set(route.key, routeStatus(ctx, route, { outcomes, problems, invalidRules, ruleCount: specRules.length, ignored }));
    const attachments = outcomes.flatMap((o) => o.attachments);
    if (attachments.length === 0 || rules.length === 0) continue;
    const { annotations } = metaOf(route.obj);
    const maxRetries = annotations['edgion.io/max-retries'] !== undefined ? Number(annotations['edgion.io/max-retries']) : undefined;
    out.push({
      key: nsName(route),
      namespace: route.namespace ?? 'default',
      name: route.name,
      order: route.order,
      generation: route.generation,
      annotations,
      attachments,
      rules,
      ...(maxRetries !== undefined && Number.isInteger(maxRetries) && maxRetries >= 0 ? { maxRetries } : {}),
    });
  }
  return out;
}
