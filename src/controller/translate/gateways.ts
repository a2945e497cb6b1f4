// GatewayClasses and Gateways: which are ours, their effective EdgionGatewayConfig, listeners with
// protocol checks, certificate references, allowed route kinds and port conflicts, and their
// status (Gateway API conditions and reasons). Route attachment counts are filled in later.

import { X509Certificate } from 'node:crypto';
import type { ClientAuthIR, GatewayIR, ListenerIR, ListenerProtocol, TlsBundleIR } from '../../ir/index.js';
import type { Condition } from './conditions.js';
import { conditionsOf } from './conditions.js';
import { metaOf, nsName, type Obj, type ResourceView, type TranslateContext } from './context.js';
import { gatewayConfigIR } from './gateway-config.js';
import { referenceAllowed } from './reference-grants.js';
import { secretData, secretMissing } from './secrets.js';
import { checkKeyPair } from './certificates.js';
import { resolveCaRef } from './ca-refs.js';
import { supportedFeatures } from './supported-features.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** Route kinds a listener protocol accepts by default. */
export const DEFAULT_KINDS: Record<string, string[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};

export interface ListenerState {
  ir: ListenerIR;
  spec: Obj;
  /** Route kinds this listener accepts (after allowedRoutes.kinds). */
  kinds: string[];
  allowedNamespaces: { from: string; selector?: Obj };
  attachedRoutes: number;
  conditions: Condition[];
  supportedKinds: { group: string; kind: string }[];
}

export interface GatewayState {
  view: ResourceView;
  ir: GatewayIR;
  listeners: ListenerState[];
  accepted: boolean;
  /** Fields of the Gateway that are accepted but not implemented (also in the diagnostics). */
  ignored: string[];
}

/** Client certificate validation of HTTPS listeners on one port (Gateway `spec.tls.frontend`). */
interface FrontendOutcome {
  clientAuth?: ClientAuthIR;
  /** Invalid references: listener ResolvedRefs=False with the first reason. */
  problems: { reason: string; message: string }[];
}

/** Client certificates are verified up to this many CAs above the leaf (implementation-specific in v1.4). */
export const FRONTEND_VERIFY_DEPTH = 9;

/**
 * `spec.tls.frontend` of a Gateway: for each port, the `perPort` entry or the `default`. The CA
 * references are resolved once per Gateway and validation (warnings are not repeated per listener).
 */
function frontendValidation(ctx: TranslateContext, gw: ResourceView): (port: number) => FrontendOutcome | undefined {
  const spec = (gw.obj.spec ?? {}) as Obj;
  const frontend = ((spec.tls ?? {}) as Obj).frontend as Obj | undefined;
  const cache = new Map<string, FrontendOutcome | undefined>();
  const gwNs = gw.namespace ?? 'default';
  const resolve = (validation: Obj | undefined, path: string): FrontendOutcome | undefined => {
    if (!validation) return undefined;
    if (cache.has(path)) return cache.get(path);
    const problems: FrontendOutcome['problems'] = [];
    const cas: string[] = [];
    ((validation.caCertificateRefs ?? []) as Obj[]).forEach((ref, i) => {
      const refNs = String(ref.namespace ?? gwNs);
      const where = `${path}.caCertificateRefs[${i}]`;
      const kind = String(ref.kind ?? '');
      let problem: { reason: string; message: string } | undefined;
      if (!referenceAllowed(ctx, { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gwNs }, { group: String(ref.group ?? ''), kind, namespace: refNs, name: String(ref.name) })) {
        problem = { reason: 'RefNotPermitted', message: `${kind} ${refNs}/${String(ref.name)} is in another namespace and no ReferenceGrant allows it` };
      } else {
        const r = resolveCaRef(ctx, refNs, ref);
        if ('pem' in r) cas.push(r.pem);
        else problem = { reason: r.problem === 'kind' ? 'InvalidCACertificateKind' : 'InvalidCACertificateRef', message: r.message };
      }
      if (problem) {
        problems.push({ reason: problem.reason, message: `${where}: ${problem.message}` });
        ctx.warn(gw, where, problem.message);
      }
    });
    const mode = validation.mode === 'AllowInsecureFallback' ? 'InsecureFallback' : 'Mutual';
    const out: FrontendOutcome = {
      problems,
      ...(cas.length ? { clientAuth: { mode, caPem: cas.join('\n'), verifyDepth: FRONTEND_VERIFY_DEPTH, allowedSans: [], allowedCns: [] } } : {}),
    };
    cache.set(path, out);
    return out;
  };
  return (port) => {
    if (!frontend) return undefined;
    const perPort = (frontend.perPort ?? []) as Obj[];
    const i = perPort.findIndex((p) => Number(p.port) === port);
    if (i >= 0) return resolve(((perPort[i]!.tls ?? {}) as Obj).validation as Obj | undefined, `spec.tls.frontend.perPort[${i}].tls.validation`);
    return resolve(((frontend.default ?? {}) as Obj).validation as Obj | undefined, 'spec.tls.frontend.default.validation');
  };
}

/** Gateway fields that are accepted but have no effect: a warning each, and a note in the status. */
function ignoredGatewayFields(ctx: TranslateContext, gw: ResourceView): string[] {
  const spec = (gw.obj.spec ?? {}) as Obj;
  const out: string[] = [];
  const note = (path: string, why: string) => {
    ctx.warn(gw, path, why);
    out.push(`${path}: ${why}`);
  };
  const backend = ((spec.tls ?? {}) as Obj).backend as Obj | undefined;
  if (backend?.clientCertificateRef !== undefined) note('spec.tls.backend.clientCertificateRef', 'not implemented: connections to backends do not present this certificate (use the BackendTLSPolicy option edgion.io/client-certificate-ref)');
  if (spec.infrastructure !== undefined) note('spec.infrastructure', 'ignored: Edgion provisions nothing, so labels, annotations and parametersRef have no effect');
  if (spec.allowedListeners !== undefined) note('spec.allowedListeners', 'ignored: ListenerSets are not supported');
  if (spec.defaultScope !== undefined) note('spec.defaultScope', 'ignored: default Gateways are not supported (routes attach through parentRefs only)');
  ((spec.addresses ?? []) as Obj[]).forEach((a, i) => {
    const type = String(a.type ?? 'IPAddress');
    if (type !== 'IPAddress') note(`spec.addresses[${i}]`, `address type ${type} is not supported: ignored (listeners bind IPAddress values, or every interface)`);
  });
  return out;
}

function listenerKey(l: ListenerIR): { transport: string; family: string; key: string } {
  const transport = l.protocol === 'UDP' ? 'udp' : 'tcp';
  const family = l.protocol === 'HTTP' ? 'http' : l.protocol === 'HTTPS' || l.protocol === 'TLS' ? 'tls' : l.protocol === 'TCP' ? 'tcp' : 'udp';
  const key = family === 'tcp' || family === 'udp' ? `${l.port}` : `${l.port}:${l.hostname ?? ''}`;
  return { transport, family, key };
}

function addressesOverlap(a: string[], b: string[]): boolean {
  if (a.length === 0 || b.length === 0) return true;
  return a.some((x) => b.includes(x));
}

/** Parses a PEM certificate's names for SNI selection; undefined if it does not parse. */
export function certificateNames(pem: string): { names: string[]; notAfter: string } | undefined {
  try {
    const cert = new X509Certificate(pem);
    const names = (cert.subjectAltName ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.startsWith('DNS:'))
      .map((s) => s.slice(4).toLowerCase());
    if (names.length === 0) {
      const cn = /CN=([^\n,]+)/.exec(cert.subject)?.[1];
      if (cn) names.push(cn.toLowerCase());
    }
    return { names, notAfter: new Date(cert.validTo).toISOString() };
  } catch {
    return undefined;
  }
}

export function translateGatewayClasses(ctx: TranslateContext): Map<string, { view: ResourceView; configName?: string }> {
  const ours = new Map<string, { view: ResourceView; configName?: string }>();
  for (const gc of ctx.all('GatewayClass')) {
    const spec = (gc.obj.spec ?? {}) as Obj;
    if (spec.controllerName !== ctx.input.controllerName) continue;
    const c = ctx.conditions(gc);
    const ref = spec.parametersRef as Obj | undefined;
    let accepted = true;
    let message = 'GatewayClass accepted';
    let configName: string | undefined;
    if (ref) {
      if (ref.group !== 'edgion.io' || ref.kind !== 'EdgionGatewayConfig') {
        accepted = false;
        message = `parametersRef must point to an edgion.io EdgionGatewayConfig (got ${String(ref.group)}/${String(ref.kind)})`;
      } else if (!ctx.get('EdgionGatewayConfig', undefined, String(ref.name))) {
        accepted = false;
        message = `EdgionGatewayConfig ${String(ref.name)} does not exist; defaults are used until it does`;
      } else {
        configName = String(ref.name);
      }
    }
    ours.set(gc.name, { view: gc, ...(configName ? { configName } : {}) });
    ctx.statuses.set(gc.key, {
      conditions: [
        c.make('Accepted', accepted, accepted ? 'Accepted' : 'InvalidParameters', message),
        c.make('SupportedVersion', true, 'SupportedVersion', 'Gateway API v1.4'),
      ],
      supportedFeatures: supportedFeatures(),
    });
  }
  return ours;
}

export function translateGateways(ctx: TranslateContext, classes: Map<string, { view: ResourceView; configName?: string }>, tlsBundles: Record<string, TlsBundleIR>): GatewayState[] {
  const states: GatewayState[] = [];
  for (const gw of ctx.all('Gateway')) {
    const spec = (gw.obj.spec ?? {}) as Obj;
    const className = String(spec.gatewayClassName ?? '');
    const cls = classes.get(className);
    const otherController = !cls && ctx.get('GatewayClass', undefined, className) !== undefined;
    if (otherController) continue; // a class of another controller: not ours to touch
    const { annotations } = metaOf(gw.obj);
    const configSpec = cls?.configName ? (ctx.get('EdgionGatewayConfig', undefined, cls.configName)?.obj.spec as Obj | undefined) : undefined;
    const addresses = ((spec.addresses ?? []) as Obj[]).filter((a) => (a.type ?? 'IPAddress') === 'IPAddress' && typeof a.value === 'string').map((a) => String(a.value));
    const ir: GatewayIR = {
      key: nsName(gw),
      namespace: gw.namespace ?? 'default',
      name: gw.name,
      className,
      order: gw.order,
      annotations,
      bindAddresses: addresses,
      config: gatewayConfigIR(cls?.configName, configSpec),
      listeners: [],
    };
    const prevListeners = ((gw.previousStatus?.listeners ?? []) as Obj[]).reduce<Record<string, Condition[]>>((m, l) => {
      m[String(l.name)] = conditionsOf(l) ?? [];
      return m;
    }, {});
    const listeners: ListenerState[] = [];
    const frontend = frontendValidation(ctx, gw);
    ((spec.listeners ?? []) as Obj[]).forEach((ls, i) => {
      listeners.push(translateListener(ctx, gw, ir, ls, i, prevListeners[String(ls.name)], tlsBundles, frontend));
    });
    ir.listeners = listeners.map((l) => l.ir);
    if (!cls) {
      ctx.warn(gw, 'spec.gatewayClassName', `GatewayClass ${className} does not exist; serving this Gateway with default settings`);
    }
    const ignored = ignoredGatewayFields(ctx, gw);
    const fe = ((spec.tls ?? {}) as Obj).frontend as Obj | undefined;
    if (fe) {
      const httpsPorts = new Set(listeners.filter((l) => l.ir.protocol === 'HTTPS').map((l) => l.ir.port));
      ((fe.perPort ?? []) as Obj[]).forEach((p, i) => {
        if (!httpsPorts.has(Number(p.port))) ctx.warn(gw, `spec.tls.frontend.perPort[${i}]`, `no HTTPS listener on port ${String(p.port)}: this entry has no effect`);
      });
      if (httpsPorts.size === 0) ctx.warn(gw, 'spec.tls.frontend', 'no HTTPS listener: client certificate validation has no effect');
    }
    states.push({ view: gw, ir, listeners, accepted: true, ignored });
  }
  markConflicts(ctx, states);
  return states;
}

function translateListener(
  ctx: TranslateContext,
  gw: ResourceView,
  gwIr: GatewayIR,
  ls: Obj,
  index: number,
  previous: Condition[] | undefined,
  tlsBundles: Record<string, TlsBundleIR>,
  frontend: (port: number) => FrontendOutcome | undefined,
): ListenerState {
  const c = ctx.conditions(gw, previous);
  const protocol = String(ls.protocol) as ListenerProtocol;
  const path = `spec.listeners[${index}]`;
  const ir: ListenerIR = { name: String(ls.name), port: Number(ls.port), protocol, programmed: true };
  if (typeof ls.hostname === 'string' && ls.hostname && protocol !== 'TCP' && protocol !== 'UDP') ir.hostname = ls.hostname.toLowerCase();
  const conditions: Condition[] = [];
  let accepted = true;
  let acceptedReason = 'Accepted';
  let acceptedMessage = 'Listener accepted';
  let resolved = true;
  let resolvedReason = 'ResolvedRefs';
  let resolvedMessage = 'All references resolved';

  const defaults = DEFAULT_KINDS[protocol];
  if (!defaults) {
    accepted = false;
    acceptedReason = 'UnsupportedProtocol';
    acceptedMessage = `protocol ${protocol} is not supported (supported: HTTP, HTTPS, TLS, TCP, UDP)`;
  }
  // allowedRoutes.kinds: keep the valid subset, flag the rest.
  const allowed = (ls.allowedRoutes ?? {}) as Obj;
  const requested = (allowed.kinds as Obj[] | undefined)?.map((k) => ({ group: String(k.group ?? GATEWAY_GROUP), kind: String(k.kind) }));
  let kinds = defaults ?? [];
  if (requested && requested.length) {
    const valid = requested.filter((k) => k.group === GATEWAY_GROUP && kinds.includes(k.kind));
    const invalid = requested.filter((k) => !valid.includes(k));
    if (invalid.length) {
      resolved = false;
      resolvedReason = 'InvalidRouteKinds';
      resolvedMessage = `route kinds not supported on a ${protocol} listener: ${invalid.map((k) => `${k.group}/${k.kind}`).join(', ')}`;
    }
    kinds = valid.map((k) => k.kind);
  }
  const ns = (allowed.namespaces ?? {}) as Obj;
  const allowedNamespaces = { from: String(ns.from ?? 'Same'), ...(ns.selector ? { selector: ns.selector as Obj } : {}) };

  // TLS: certificate references (Terminate) or passthrough.
  const tls = ls.tls as Obj | undefined;
  if ((protocol === 'HTTPS' || protocol === 'TLS') && accepted) {
    const mode = String(tls?.mode ?? 'Terminate') as 'Terminate' | 'Passthrough';
    const options = (tls?.options ?? {}) as Record<string, string>;
    const fromEdgionTls = options['edgion.io/cert-provider'] === 'EdgionTls';
    const certificates: string[] = [];
    if (mode === 'Terminate' && !fromEdgionTls) {
      const refs = (tls?.certificateRefs ?? []) as Obj[];
      refs.forEach((ref, ri) => {
        const refNs = String(ref.namespace ?? gw.namespace ?? 'default');
        const group = String(ref.group ?? '');
        const kind = String(ref.kind ?? 'Secret');
        const name = String(ref.name);
        const where = `${path}.tls.certificateRefs[${ri}]`;
        if ((group !== '' && group !== 'core') || kind !== 'Secret') {
          resolved = false;
          resolvedReason = 'InvalidCertificateRef';
          resolvedMessage = `${where}: only core Secrets can hold certificates (got ${group || 'core'}/${kind})`;
          return;
        }
        if (!referenceAllowed(ctx, { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gw.namespace ?? 'default' }, { group: '', kind: 'Secret', namespace: refNs, name })) {
          resolved = false;
          resolvedReason = 'RefNotPermitted';
          resolvedMessage = `${where}: Secret ${refNs}/${name} is in another namespace and no ReferenceGrant allows it`;
          return;
        }
        const data = secretData(ctx, refNs, name);
        const bundleKey = `${refNs}/${name}`;
        if (!data) {
          resolved = false;
          resolvedReason = 'InvalidCertificateRef';
          resolvedMessage = `${where}: ${secretMissing(ctx, refNs, name)}`;
          return;
        }
        const certPem = data['tls.crt'];
        const keyPem = data['tls.key'];
        const parsed = certPem && keyPem ? checkKeyPair(certPem, keyPem, ctx.input.now) : 'it needs a PEM certificate in tls.crt and its key in tls.key';
        if (typeof parsed === 'string') {
          resolved = false;
          resolvedReason = 'InvalidCertificateRef';
          resolvedMessage = `${where}: Secret ${bundleKey}: ${parsed}`;
          return;
        }
        tlsBundles[bundleKey] ??= { key: bundleKey, certPem, keyPem, ...(data['ca.crt'] ? { caPem: data['ca.crt'] } : {}), names: parsed.names, notAfter: parsed.notAfter };
        certificates.push(bundleKey);
      });
    }
    ir.tls = { mode, certificates, fromEdgionTls, options };
    if (mode === 'Terminate' && certificates.length === 0 && !fromEdgionTls && resolved) {
      resolved = false;
      resolvedReason = 'InvalidCertificateRef';
      resolvedMessage = `a ${protocol} listener in Terminate mode needs a certificateRef (or tls.options edgion.io/cert-provider: EdgionTls)`;
    }
    if (protocol === 'HTTPS' && mode === 'Passthrough') {
      accepted = false;
      acceptedReason = 'UnsupportedValue';
      acceptedMessage = 'tls.mode Passthrough is only valid on a TLS listener (HTTPS terminates TLS)';
    }
    // Client certificate validation of the Gateway (spec.tls.frontend) for HTTPS listeners.
    const fv = protocol === 'HTTPS' && accepted ? frontend(ir.port) : undefined;
    if (fv) {
      if (fv.problems.length) {
        const message = fv.problems.map((p) => p.message).join('; ');
        if (resolved) {
          resolved = false;
          resolvedReason = fv.problems[0]!.reason;
          resolvedMessage = message;
        } else resolvedMessage += `; ${message}`;
      }
      if (fv.clientAuth) ir.tls.clientAuth = fv.clientAuth;
      else {
        accepted = false;
        acceptedReason = 'NoValidCACertificate';
        acceptedMessage = `no valid CA certificate for client certificate validation (spec.tls.frontend): ${fv.problems.map((p) => p.message).join('; ')}`;
      }
    }
  }
  // A listener with at least one usable certificate keeps serving it while another ref is broken.
  const usable = ir.tls !== undefined && (ir.tls.certificates.length > 0 || ir.tls.fromEdgionTls || ir.tls.mode === 'Passthrough');
  if (!accepted || (!resolved && !(usable && resolvedReason !== 'InvalidRouteKinds'))) ir.programmed = false;
  if (!resolved) ir.reason = resolvedMessage;
  if (!accepted) ir.reason = acceptedMessage;
  conditions.push(c.make('Accepted', accepted, acceptedReason, acceptedMessage));
  conditions.push(c.make('ResolvedRefs', resolved, resolvedReason, resolvedMessage));
  void gwIr;
  return {
    ir,
    spec: ls,
    kinds,
    allowedNamespaces,
    attachedRoutes: 0,
    conditions,
    supportedKinds: kinds.map((k) => ({ group: GATEWAY_GROUP, kind: k })),
  };
}

/**
 * Listeners that cannot share a port: the same port and hostname, or one port used by different
 * protocol families (plain HTTP, TLS, raw TCP). The oldest Gateway (then the first listener) keeps
 * the port; the later ones are Conflicted and not bound.
 */
function markConflicts(ctx: TranslateContext, gateways: GatewayState[]): void {
  const taken: { gw: GatewayState; l: ListenerState; transport: string; family: string; key: string; port: number }[] = [];
  for (const gw of gateways) {
    for (const l of gw.listeners) {
      const c = ctx.conditions(gw.view, l.conditions);
      if (!l.ir.programmed && l.conditions.some((x) => x.type === 'Accepted' && x.status === 'False')) {
        l.conditions.push(c.make('Conflicted', false, 'NoConflicts', 'No conflicts'));
        continue;
      }
      const k = listenerKey(l.ir);
      const clash = taken.find((t) => t.port === l.ir.port && t.transport === k.transport && addressesOverlap(t.gw.ir.bindAddresses, gw.ir.bindAddresses) && (t.family !== k.family || t.key === k.key));
      if (clash) {
        const other = clash.gw === gw ? `listener ${clash.l.ir.name}` : `Gateway ${clash.gw.ir.key} listener ${clash.l.ir.name}`;
        const why = clash.family !== k.family ? 'ProtocolConflict' : 'HostnameConflict';
        const message = `port ${l.ir.port}${l.ir.hostname ? ` hostname ${l.ir.hostname}` : ''} is already used by ${other} (${clash.l.ir.protocol})`;
        l.conditions.push(c.make('Conflicted', true, why, message));
        l.ir.programmed = false;
        l.ir.reason = message;
      } else {
        l.conditions.push(c.make('Conflicted', false, 'NoConflicts', 'No conflicts'));
        taken.push({ gw, l, ...k, port: l.ir.port });
      }
    }
  }
}

/** Final Gateway statuses, once routes have been counted. */
export function writeGatewayStatuses(ctx: TranslateContext, gateways: GatewayState[]): void {
  for (const gw of gateways) {
    const c = ctx.conditions(gw.view);
    const listeners = gw.listeners.map((l) => {
      const lc = ctx.conditions(gw.view, l.conditions);
      const conflicted = l.conditions.find((x) => x.type === 'Conflicted')?.status === 'True';
      const programmed = l.ir.programmed;
      const reason = programmed ? 'Programmed' : conflicted ? 'Invalid' : 'Invalid';
      return {
        name: l.ir.name,
        supportedKinds: l.supportedKinds,
        attachedRoutes: l.attachedRoutes,
        conditions: [...l.conditions, lc.make('Programmed', programmed, reason, programmed ? 'Listener programmed' : (l.ir.reason ?? 'Listener is not programmed'))],
      };
    });
    const invalid = gw.listeners.filter((l) => !l.ir.programmed);
    const anyProgrammed = gw.listeners.some((l) => l.ir.programmed);
    const addresses = gw.ir.bindAddresses.length ? gw.ir.bindAddresses.map((value) => ({ type: 'IPAddress', value })) : [{ type: 'IPAddress', value: '0.0.0.0' }];
    const ignoredNote = gw.ignored.length ? ` (ignored: ${gw.ignored.join('; ')})` : '';
    ctx.statuses.set(gw.view.key, {
      addresses,
      conditions: [
        c.make(
          'Accepted',
          true,
          invalid.length ? 'ListenersNotValid' : 'Accepted',
          (invalid.length ? `Gateway accepted; listeners not valid: ${invalid.map((l) => `${l.ir.name} (${l.ir.reason ?? 'invalid'})`).join('; ')}` : 'Gateway accepted') + ignoredNote,
        ),
        c.make('Programmed', anyProgrammed, anyProgrammed ? 'Programmed' : 'Invalid', anyProgrammed ? 'Gateway programmed' : 'No listener of this Gateway could be programmed'),
      ],
      listeners,
    });
  }
}
