// BackendTLSPolicy (tls.md §6, Gateway API v1.4): TLS from the gateway to a Service's endpoints.
// A policy targets Services, or one named port of a Service (`targetRefs[].sectionName`); it gives
// the SNI and the name to verify (`validation.hostname`, or `subjectAltNames`), the trust anchors (ConfigMaps or Secrets
// with `ca.crt`, or the system roots with `wellKnownCACertificates: System`) and, as an Edgion
// option, a client certificate for upstream mTLS.
//
// Precedence (GEP-713): for one Service port, a policy naming that port (sectionName) applies before
// one naming the whole Service; among policies with the same target the oldest wins
// (creationTimestamp, then namespace/name) and the others are `Accepted=False`, `Conflicted`.
// A policy whose CA references all fail to resolve is `Accepted=False`, `NoValidCACertificate`, and
// still owns its targets: the clusters get `tls.error` and requests to them fail with 502 rather
// than being sent in plain text or verified against the system roots (v1.4).
// The status lists as ancestors the Gateways whose routes use a targeted Service (port).

import { createHash } from 'node:crypto';
import type { ClusterIR, RouteAttachmentIR, UpstreamTlsIR, BackendRefIR, FilterIR, PluginSetIR } from '../../ir/index.js';
import type { Condition } from './conditions.js';
import { conditionsOf } from './conditions.js';
import { nsName, type Obj, type ResourceView, type TranslateContext } from './context.js';
import { secretData, secretMissing } from './secrets.js';
import { checkKeyPair } from './certificates.js';
import { resolveCaRef } from './ca-refs.js';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** status.ancestors holds at most 16 entries (CRD). */
const MAX_ANCESTORS = 16;

interface Verdict {
  ok: boolean;
  reason: string;
  message: string;
}

interface Target {
  /** Index in spec.targetRefs. */
  index: number;
  service: string;
  section?: string;
  /** `ns/svc` or `ns/svc#section`. */
  key: string;
  /** Set when the target cannot be used (not a Service, no such Service or port). */
  problem?: string;
  /** The Service does not exist (yet): the target is still claimed and applies once it appears. */
  missing?: boolean;
  /** The older policy that owns this target instead. */
  lostTo?: string;
}

interface PolicyEval {
  policy: ResourceView;
  ns: string;
  tls: UpstreamTlsIR;
  refs: Verdict;
  /** Accepted before conflicts are considered (CA and client certificate usable). */
  usable: Verdict;
  targets: Target[];
}

interface PolicyIndex {
  policies: PolicyEval[];
  /** `ns/svc` and `ns/svc#section` → the policy that owns it. */
  owners: Map<string, PolicyEval>;
}

const cache = new WeakMap<TranslateContext, PolicyIndex>();

function creationOf(r: ResourceView): string {
  const t = ((r.obj.metadata ?? {}) as Obj).creationTimestamp;
  return typeof t === 'string' ? t : '';
}

/** Oldest first: creationTimestamp, then namespace/name (Gateway API policy precedence). */
function byAge(a: ResourceView, b: ResourceView): number {
  const ta = creationOf(a);
  const tb = creationOf(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = nsName(a);
  const nb = nsName(b);
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function servicePorts(ctx: TranslateContext, ns: string, name: string): Obj[] | undefined {
  const svc = ctx.get('Service', ns, name);
  if (!svc) return undefined;
  return ((svc.obj.spec as Obj | undefined)?.ports ?? []) as Obj[];
}

/** The name of the Service port a cluster uses (its `port`, or the first port when none was given). */
function portNameOf(ctx: TranslateContext, ns: string, name: string, port: number | undefined): string | undefined {
  const ports = servicePorts(ctx, ns, name) ?? [];
  const sp = port === undefined ? ports[0] : ports.find((p) => Number(p.port) === port);
  return typeof sp?.name === 'string' && sp.name ? sp.name : undefined;
}

function evaluate(ctx: TranslateContext, p: ResourceView): PolicyEval {
  const ns = p.namespace ?? 'default';
  const key = nsName(p);
  const spec = (p.obj.spec ?? {}) as Obj;
  const validation = (spec.validation ?? {}) as Obj;
  const refProblems: { reason: string; message: string }[] = [];
  const cas: string[] = [];
  const caRefs = (validation.caCertificateRefs ?? []) as Obj[];
  caRefs.forEach((ref, i) => {
    const r = resolveCaRef(ctx, ns, ref);
    if ('pem' in r) cas.push(r.pem);
    else {
      refProblems.push({ reason: r.problem === 'kind' ? 'InvalidKind' : 'InvalidCACertificateRef', message: `validation.caCertificateRefs[${i}]: ${r.message}` });
      ctx.warn(p, `spec.validation.caCertificateRefs[${i}]`, r.message);
    }
  });
  const wellKnown = validation.wellKnownCACertificates;
  const system = wellKnown === 'System';
  let usable: Verdict = { ok: true, reason: 'Accepted', message: 'Policy accepted' };
  const failures: string[] = [];
  if (wellKnown !== undefined && wellKnown !== '' && !system) {
    usable = { ok: false, reason: 'Invalid', message: `wellKnownCACertificates ${JSON.stringify(wellKnown)} is not supported (only System)` };
    failures.push(usable.message);
  } else if (caRefs.length > 0 && cas.length === 0) {
    usable = { ok: false, reason: 'NoValidCACertificate', message: `no CA certificate reference is valid: ${refProblems.map((x) => x.message).join('; ')}` };
    failures.push(`no valid CA certificate: ${refProblems.map((x) => x.message.replace(/^validation\./, '')).join('; ')}`);
  } else if (caRefs.length === 0 && !system) {
    usable = { ok: false, reason: 'NoValidCACertificate', message: 'neither caCertificateRefs nor wellKnownCACertificates is given' };
    failures.push(usable.message);
  }

  const opts = (spec.options ?? {}) as Record<string, string>;
  const clientRef = opts['edgion.io/client-certificate-ref'];
  let clientCertPem: string | undefined;
  let clientKeyPem: string | undefined;
  if (clientRef) {
    const data = secretData(ctx, ns, clientRef);
    const checked = data?.['tls.crt'] && data['tls.key'] ? checkKeyPair(data['tls.crt'], data['tls.key'], ctx.input.now) : data ? `Secret ${ns}/${clientRef} needs tls.crt and tls.key` : secretMissing(ctx, ns, clientRef);
    if (typeof checked === 'string') {
      refProblems.push({ reason: 'InvalidClientCertificateRef', message: `options["edgion.io/client-certificate-ref"]: ${checked}` });
      ctx.warn(p, 'spec.options["edgion.io/client-certificate-ref"]', checked);
      if (usable.ok) usable = { ok: false, reason: 'Invalid', message: `the client certificate cannot be used: ${checked}` };
      failures.push(`client certificate unusable (${checked})`);
    } else {
      clientCertPem = data!['tls.crt'];
      clientKeyPem = data!['tls.key'];
    }
  }
  const subjectAltNames = ((validation.subjectAltNames ?? []) as Obj[])
    .map((x) => (x.type === 'URI' ? { type: 'URI' as const, value: String(x.uri ?? '') } : { type: 'Hostname' as const, value: String(x.hostname ?? '').toLowerCase() }))
    .filter((x) => x.value !== '');

  const refs: Verdict = refProblems.length
    ? { ok: false, reason: refProblems[0]!.reason, message: refProblems.map((x) => x.message).join('; ') }
    : { ok: true, reason: 'ResolvedRefs', message: 'All references resolved' };

  const hostname = String(validation.hostname ?? '');
  const caPem = cas.length ? cas.join('\n') : undefined;
  const error = failures.length ? `BackendTLSPolicy ${key} cannot be applied (${failures.join('; ')}): requests are refused rather than sent without verified TLS` : undefined;
  const id = createHash('sha256')
    .update(`${hostname}|${JSON.stringify(subjectAltNames)}|${caPem ?? (system ? 'system' : '')}|${clientCertPem ?? ''}|${error ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  const tls: UpstreamTlsIR = error
    ? { id, policy: key, hostname, system: false, error }
    : {
        id,
        policy: key,
        hostname,
        ...(subjectAltNames.length ? { subjectAltNames } : {}),
        system: system && !caPem,
        ...(caPem ? { caPem } : {}),
        ...(clientCertPem ? { clientCertPem, clientKeyPem: clientKeyPem! } : {}),
      };

  const targets: Target[] = ((spec.targetRefs ?? []) as Obj[]).map((t, index) => {
    const service = String(t.name);
    const section = typeof t.sectionName === 'string' && t.sectionName ? t.sectionName : undefined;
    const target: Target = { index, service, ...(section ? { section } : {}), key: `${ns}/${service}${section ? `#${section}` : ''}` };
    const group = String(t.group ?? '');
    const kind = String(t.kind ?? '');
    if ((group !== '' && group !== 'core') || kind !== 'Service') target.problem = `${group ? `${group}/` : ''}${kind} ${service} is not a core Service`;
    else {
      const ports = servicePorts(ctx, ns, service);
      if (!ports) {
        target.problem = `Service ${ns}/${service} does not exist`;
        target.missing = true;
      } else if (section && !ports.some((sp) => sp.name === section)) target.problem = `Service ${ns}/${service} has no port named ${section}`;
    }
    if (target.problem) ctx.warn(p, `spec.targetRefs[${index}]`, target.problem);
    return target;
  });
  return { policy: p, ns, tls, refs, usable, targets };
}

/** Every policy once per translation, oldest first, and which one owns each target. */
function index(ctx: TranslateContext): PolicyIndex {
  const existing = cache.get(ctx);
  if (existing) return existing;
  const owners = new Map<string, PolicyEval>();
  const policies = [...ctx.all('BackendTLSPolicy')].sort(byAge).map((p) => evaluate(ctx, p));
  for (const pe of policies) {
    for (const t of pe.targets) {
      // A Service that does not exist yet is still claimed: the policy applies once it appears.
      if (invalid(t)) continue;
      const owner = owners.get(t.key);
      if (owner) {
        t.lostTo = nsName(owner.policy);
        ctx.warn(pe.policy, `spec.targetRefs[${t.index}]`, `${describe(pe.ns, t)} is already targeted by the older BackendTLSPolicy ${t.lostTo}; this one is not applied there`);
      } else owners.set(t.key, pe);
    }
  }
  // A policy that never had a valid version still says "TLS to these Services": they are refused
  // (502) rather than spoken to in plain text, unless a valid policy covers them.
  for (const r of ctx.input.rejected ?? []) {
    if (r.kind !== 'BackendTLSPolicy' || !r.obj) continue;
    const ns = r.namespace ?? 'default';
    const key = `${ns}/${r.name}`;
    const error = `BackendTLSPolicy ${key} is rejected (${r.reason}): requests are refused rather than sent without verified TLS`;
    const view: ResourceView = { kind: r.kind, namespace: ns, name: r.name, key: `BackendTLSPolicy/${key}`, obj: r.obj, generation: 0, order: Number.MAX_SAFE_INTEGER, previousStatus: undefined };
    const refused: PolicyEval = {
      policy: view,
      ns,
      tls: { id: createHash('sha256').update(error).digest('hex').slice(0, 16), policy: key, hostname: '', system: false, error },
      refs: { ok: false, reason: 'Invalid', message: r.reason },
      usable: { ok: false, reason: 'Invalid', message: r.reason },
      targets: [],
    };
    const targetRefs = ((r.obj.spec as Obj | undefined)?.targetRefs ?? []) as unknown;
    for (const t of Array.isArray(targetRefs) ? (targetRefs as Obj[]) : []) {
      if (typeof t?.name !== 'string' || ((t.kind ?? 'Service') !== 'Service')) continue;
      const section = typeof t.sectionName === 'string' && t.sectionName ? t.sectionName : undefined;
      const tk = `${ns}/${t.name}${section ? `#${section}` : ''}`;
      if (!owners.has(tk)) owners.set(tk, refused);
    }
  }
  const idx = { policies, owners };
  cache.set(ctx, idx);
  return idx;
}

/** A target that can never apply as written (wrong kind, unknown port name). */
function invalid(t: Target): boolean {
  return t.problem !== undefined && !t.missing;
}

function describe(ns: string, t: { service: string; section?: string }): string {
  return `Service ${ns}/${t.service}${t.section ? ` port ${t.section}` : ''}`;
}

/**
 * TLS settings for connections to one Service port, when a BackendTLSPolicy applies: the policy
 * naming that port (sectionName) first, then the one naming the whole Service. With `tls.error`
 * set, requests to the cluster must fail.
 */
export function backendTlsFor(ctx: TranslateContext, namespace: string, service: string, portName: string | undefined): UpstreamTlsIR | undefined {
  const { owners } = index(ctx);
  return ((portName ? owners.get(`${namespace}/${service}#${portName}`) : undefined) ?? owners.get(`${namespace}/${service}`))?.tls;
}

/** What a backendRef whose cluster has an unusable BackendTLSPolicy answers: 502 naming the policy. */
export function backendTlsError(cluster: ClusterIR | undefined): BackendRefIR['error'] | undefined {
  const e = cluster?.tls?.error;
  return e ? { status: 502, reason: 'BackendTlsPolicyInvalid', message: `${e} (Service ${cluster!.namespace}/${cluster!.name}${cluster!.port !== undefined ? `:${cluster!.port}` : ''})` } : undefined;
}

interface RouteLike {
  attachments: RouteAttachmentIR[];
  rules: { filters?: FilterIR[]; backends: BackendRefIR[] }[];
}

/** Cluster keys a route sends traffic to: backendRefs, mirrors, mirrors of its plugin sets. */
function clustersOfRoute(route: RouteLike, pluginSets: Record<string, PluginSetIR>): Set<string> {
  const out = new Set<string>();
  const filters = (list: FilterIR[] | undefined) => {
    for (const f of list ?? []) {
      if (f.type === 'RequestMirror' && f.cluster) out.add(f.cluster);
      if (f.type === 'ExtensionRef') {
        const set = pluginSets[f.pluginSet];
        if (!set) continue;
        for (const e of [...set.requestPlugins, ...set.upstreamResponseFilterPlugins, ...set.upstreamResponsePlugins, ...set.upstreamResponseBodyFilterPlugins]) if (e.mirror?.cluster) out.add(e.mirror.cluster);
      }
    }
  };
  for (const rule of route.rules) {
    filters(rule.filters);
    for (const b of rule.backends) {
      if (b.cluster) out.add(b.cluster);
      filters(b.filters);
    }
  }
  return out;
}

/**
 * Writes every policy's status once routes are translated: one `status.ancestors[]` entry per
 * Gateway whose routes use a targeted Service (port), plus the same conditions policy-wide in
 * `status.conditions` (an Edgion addition, useful while no route uses the policy yet).
 */
export function writeBackendTlsStatuses(ctx: TranslateContext, routes: RouteLike[], clusters: Record<string, ClusterIR>, pluginSets: Record<string, PluginSetIR>): void {
  const { policies } = index(ctx);
  // Gateways by the Service (and Service port) their routes reach.
  const gatewaysOf = new Map<string, Set<string>>();
  const add = (key: string, gw: string) => {
    let s = gatewaysOf.get(key);
    if (!s) gatewaysOf.set(key, (s = new Set()));
    s.add(gw);
  };
  const portNames = new Map<string, string | undefined>();
  for (const route of routes) {
    const gws = [...new Set(route.attachments.map((a) => a.gateway))];
    if (gws.length === 0) continue;
    for (const ck of clustersOfRoute(route, pluginSets)) {
      const c = clusters[ck];
      if (!c || c.name.startsWith('_')) continue;
      if (!portNames.has(ck)) portNames.set(ck, portNameOf(ctx, c.namespace, c.name, c.port));
      const portName = portNames.get(ck);
      for (const gw of gws) {
        add(`${c.namespace}/${c.name}`, gw);
        if (portName) add(`${c.namespace}/${c.name}#${portName}`, gw);
      }
    }
  }

  for (const pe of policies) {
    const p = pe.policy;
    const lost = pe.targets.filter((t) => t.lostTo);
    const conflictMsg = lost.map((t) => `${describe(pe.ns, t)} is owned by the older BackendTLSPolicy ${t.lostTo}`).join('; ');
    const targetProblems = pe.targets.filter(invalid).map((t) => `targetRefs[${t.index}]: ${t.problem}`);
    const missing = pe.targets.filter((t) => t.missing && !t.lostTo);

    const accepted = (ts: Target[]): Verdict => {
      const mine = ts.filter((t) => !t.lostTo && !invalid(t));
      if (mine.length === 0 && ts.some((t) => t.lostTo)) return { ok: false, reason: 'Conflicted', message: conflictMsg };
      if (mine.length === 0) return { ok: false, reason: 'TargetNotFound', message: targetProblems.join('; ') || 'no targetRef names a Service' };
      if (!pe.usable.ok) return pe.usable;
      const notes = [conflictMsg, targetProblems.join('; '), missing.length ? `not yet existing: ${missing.map((t) => describe(pe.ns, t)).join(', ')}` : ''].filter(Boolean);
      return { ok: true, reason: 'Accepted', message: `TLS to ${mine.map((t) => describe(pe.ns, t)).join(', ')}${notes.length ? ` (${notes.join('; ')})` : ''}` };
    };
    const conditionsFor = (v: Verdict, previous: Condition[] | undefined): Condition[] => {
      const c = ctx.conditions(p, previous);
      const programmed = v.ok && pe.tls.error === undefined;
      const owns = v.reason !== 'Conflicted' && v.reason !== 'TargetNotFound';
      const message = programmed ? 'Applied to the clusters of its targets' : owns && pe.tls.error ? 'Requests to its targets are refused (502) until the policy can be applied' : 'Not applied';
      return [c.make('Accepted', v.ok, v.reason, v.message), c.make('ResolvedRefs', pe.refs.ok, pe.refs.reason, pe.refs.message), c.make('Programmed', programmed, programmed ? 'Programmed' : 'Invalid', message)];
    };

    // Ancestors: Gateways whose routes use a target (applied or lost: a conflicted policy reports too).
    const byGateway = new Map<string, Target[]>();
    for (const t of pe.targets) {
      if (invalid(t)) continue;
      for (const gw of gatewaysOf.get(t.key) ?? []) {
        let list = byGateway.get(gw);
        if (!list) byGateway.set(gw, (list = []));
        list.push(t);
      }
    }
    const prevAncestors = (p.previousStatus?.ancestors ?? []) as Obj[];
    const ancestors = [...byGateway.keys()]
      .sort()
      .slice(0, MAX_ANCESTORS)
      .map((gw) => {
        const [gns, gname] = gw.split('/') as [string, string];
        const ancestorRef = { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gns, name: gname };
        const prev = prevAncestors.find((a) => JSON.stringify(a.ancestorRef) === JSON.stringify(ancestorRef));
        return { ancestorRef, controllerName: ctx.input.controllerName, conditions: conditionsFor(accepted(byGateway.get(gw)!), conditionsOf(prev)) };
      });
    if (byGateway.size > MAX_ANCESTORS) ctx.warn(p, 'status.ancestors', `used through ${byGateway.size} Gateways; only the first ${MAX_ANCESTORS} are listed`);
    ctx.statuses.set(p.key, { ancestors, conditions: conditionsFor(accepted(pe.targets), conditionsOf(p.previousStatus)) });
  }
}
