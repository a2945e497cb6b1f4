// EdgionTls → EdgionTlsIR (tls.md §2): per-domain certificates bound to listener ports, with their
// TLS versions, ciphers and client-certificate rules. An EdgionTls whose Secret is missing or does
// not parse, whose certificate does not cover its hosts, or whose client-auth CA is unusable is
// rejected in its status and not sent to gateways; the rest keeps serving.

import type { ClientAuthIR, EdgionTlsIR, TlsBundleIR, TlsVersionIR } from '../../ir/index.js';
import type { Condition } from './conditions.js';
import { conditionsOf } from './conditions.js';
import { metaOf, nsName, type Obj, type ResourceView, type TranslateContext } from './context.js';
import type { GatewayState } from './gateways.js';
import { referenceAllowed } from './reference-grants.js';
import { secretData, secretMissing } from './secrets.js';
import { certificateCovers, checkCaBundle, checkKeyPair, cipherListError } from './certificates.js';

const VERSIONS: Record<string, TlsVersionIR> = { TLS1_0: 'TLSv1', TLS1_1: 'TLSv1.1', TLS1_2: 'TLSv1.2', TLS1_3: 'TLSv1.3' };

interface ParentResolution {
  parentRef: Obj;
  ports: number[];
  gateway?: string;
  listener?: string;
  problem?: string;
}

function resolveParent(ctx: TranslateContext, et: ResourceView, ref: Obj, gateways: Map<string, GatewayState>): ParentResolution {
  const ns = String(ref.namespace ?? et.namespace ?? 'default');
  const parentRef: Obj = { group: ref.group ?? 'gateway.networking.k8s.io', kind: ref.kind ?? 'Gateway', namespace: ns, name: ref.name };
  if (ref.sectionName !== undefined) parentRef.sectionName = ref.sectionName;
  if (ref.port !== undefined) parentRef.port = ref.port;
  const gwKey = `${ns}/${String(ref.name)}`;
  const gw = gateways.get(gwKey);
  if (!gw) return { parentRef, ports: [], problem: `Gateway ${gwKey} does not exist (or belongs to another controller)` };
  const tlsListeners = gw.listeners.filter((l) => l.ir.protocol === 'HTTPS' || l.ir.protocol === 'TLS');
  if (ref.sectionName !== undefined) {
    const l = gw.listeners.find((x) => x.ir.name === ref.sectionName);
    if (!l) return { parentRef, ports: [], gateway: gwKey, problem: `Gateway ${gwKey} has no listener ${String(ref.sectionName)}` };
    if (l.ir.protocol !== 'HTTPS' && l.ir.protocol !== 'TLS') return { parentRef, ports: [], gateway: gwKey, problem: `listener ${l.ir.name} of Gateway ${gwKey} is ${l.ir.protocol}, not HTTPS or TLS` };
    if (ref.port !== undefined && Number(ref.port) !== l.ir.port) return { parentRef, ports: [], gateway: gwKey, problem: `listener ${l.ir.name} listens on ${l.ir.port}, not ${String(ref.port)}` };
    return { parentRef, ports: [l.ir.port], gateway: gwKey, listener: l.ir.name };
  }
  if (ref.port !== undefined) {
    const port = Number(ref.port);
    if (!tlsListeners.some((l) => l.ir.port === port)) return { parentRef, ports: [], gateway: gwKey, problem: `Gateway ${gwKey} has no HTTPS or TLS listener on port ${port}` };
    return { parentRef, ports: [port], gateway: gwKey };
  }
  return { parentRef, ports: [], gateway: gwKey, problem: 'parentRef has neither sectionName nor port: it binds no listener port' };
}

/** `*.domain` = exactly one extra label; otherwise exact (tls.md §2.2). Rendered SANs compared as-is. */
function patternOk(p: string): boolean {
  return p !== '' && (!p.includes('*') || /^(DNS:)?\*\.[^*]+$/.test(p));
}

export function translateEdgionTls(ctx: TranslateContext, gateways: Map<string, GatewayState>, tlsBundles: Record<string, TlsBundleIR>): EdgionTlsIR[] {
  const out: EdgionTlsIR[] = [];
  for (const et of ctx.all('EdgionTls')) {
    const spec = (et.obj.spec ?? {}) as Obj;
    const ns = et.namespace ?? 'default';
    const parents = ((spec.parentRefs ?? []) as Obj[]).map((r) => resolveParent(ctx, et, r, gateways));
    const ports = [...new Set(parents.flatMap((p) => p.ports))].sort((a, b) => a - b);
    const hosts = ((spec.hosts ?? []) as string[]).map((h) => h.toLowerCase());
    let refsOk = true;
    let refReason = 'ResolvedRefs';
    let invalid: string | undefined;
    const problems: string[] = [];

    // The certificate.
    const sref = (spec.secretRef ?? {}) as Obj;
    const sNs = String(sref.namespace ?? ns);
    const sName = String(sref.name ?? '');
    const bundleKey = `${sNs}/${sName}`;
    let bundle: TlsBundleIR | undefined;
    if (!referenceAllowed(ctx, { group: 'edgion.io', kind: 'EdgionTls', namespace: ns }, { group: '', kind: 'Secret', namespace: sNs, name: sName })) {
      refsOk = false;
      refReason = 'RefNotPermitted';
      problems.push(`secretRef: Secret ${bundleKey} is in another namespace and no ReferenceGrant allows EdgionTls from ${ns}`);
    } else {
      const data = secretData(ctx, sNs, sName);
      if (!data) {
        refsOk = false;
        refReason = 'BackendNotFound';
        problems.push(`secretRef: ${secretMissing(ctx, sNs, sName)}`);
      } else {
        const crt = data['tls.crt'];
        const key = data['tls.key'];
        const parsed = crt && key ? checkKeyPair(crt, key, ctx.input.now) : `Secret ${bundleKey} needs tls.crt and tls.key`;
        if (typeof parsed === 'string') {
          invalid = `secretRef: Secret ${bundleKey}: ${parsed}`;
        } else {
          const uncovered = hosts.filter((h) => !certificateCovers(parsed.names, h));
          if (uncovered.length) invalid = `the certificate in Secret ${bundleKey} (${parsed.names.join(', ') || 'no DNS names'}) does not cover ${uncovered.join(', ')}`;
          else bundle = { key: bundleKey, certPem: crt!, keyPem: key!, ...(data['ca.crt'] ? { caPem: data['ca.crt'] } : {}), names: parsed.names, notAfter: parsed.notAfter };
          if (parsed.expired) ctx.warn(et, 'spec.secretRef', `the certificate in Secret ${bundleKey} expired on ${parsed.notAfter}`);
        }
      }
    }

    // Client certificates.
    const auth = (spec.clientAuth ?? {}) as Obj;
    const mode = String(auth.mode ?? 'Terminate');
    let clientAuth: ClientAuthIR | undefined;
    if (mode === 'Mutual' || mode === 'OptionalMutual') {
      const caRef = (auth.caSecretRef ?? {}) as Obj;
      const caNs = String(caRef.namespace ?? ns);
      const caName = String(caRef.name ?? '');
      const caData = caName ? secretData(ctx, caNs, caName) : undefined;
      const caPem = caData?.['ca.crt'];
      if (!caName) invalid ??= `clientAuth.mode ${mode} needs caSecretRef`;
      else if (!referenceAllowed(ctx, { group: 'edgion.io', kind: 'EdgionTls', namespace: ns }, { group: '', kind: 'Secret', namespace: caNs, name: caName })) {
        refsOk = false;
        refReason = 'RefNotPermitted';
        problems.push(`clientAuth.caSecretRef: Secret ${caNs}/${caName} is in another namespace and no ReferenceGrant allows it`);
      } else if (!caData) {
        refsOk = false;
        refReason = 'BackendNotFound';
        problems.push(`clientAuth.caSecretRef: ${secretMissing(ctx, caNs, caName)}`);
      } else if (!caPem) invalid ??= `clientAuth.caSecretRef: Secret ${caNs}/${caName} has no ca.crt`;
      else {
        const e = checkCaBundle(caPem);
        if (e) invalid ??= `clientAuth.caSecretRef: Secret ${caNs}/${caName}: ${e}`;
        else {
          const depth = Number(auth.verifyDepth ?? 1);
          const allowedSans = ((auth.allowedSans ?? []) as string[]).filter(patternOk);
          const allowedCns = ((auth.allowedCns ?? []) as string[]).filter(patternOk);
          clientAuth = { mode: mode === 'Mutual' ? 'Mutual' : 'Optional', caPem, verifyDepth: Number.isInteger(depth) && depth >= 1 && depth <= 9 ? depth : 1, allowedSans, allowedCns };
        }
      }
    }

    // Versions and ciphers.
    const minVersion = typeof spec.minTlsVersion === 'string' ? VERSIONS[spec.minTlsVersion] : undefined;
    let ciphers = Array.isArray(spec.ciphers) && spec.ciphers.length ? (spec.ciphers as string[]).join(':') : undefined;
    if (ciphers !== undefined) {
      const e = cipherListError(ciphers);
      if (e) {
        ctx.warn(et, 'spec.ciphers', `cipher list "${ciphers}" is not accepted by OpenSSL (${e}); the default ciphers are used`);
        problems.push(`ciphers ignored: ${e}`);
        ciphers = undefined;
      }
    }
    // OpenSSL 3 refuses TLS 1.0/1.1 at its default security level; allowing them means lowering it.
    if (minVersion === 'TLSv1' || minVersion === 'TLSv1.1') ciphers = `${ciphers ?? 'DEFAULT'}:@SECLEVEL=0`;
    if (spec.extend !== undefined) ctx.warn(et, 'spec.extend', 'extend (OCSP stapling, session tickets, early data...) is accepted but not implemented');

    const { annotations } = metaOf(et.obj);
    const programmed = refsOk && !invalid && bundle !== undefined && ports.length > 0;
    if (invalid) ctx.error(et, 'spec', invalid);
    for (const p of problems) if (!invalid) ctx.warn(et, 'spec', p);

    // Status: one entry per parentRef plus the overall conditions.
    const message = invalid ?? (refsOk ? undefined : problems.join('; '));
    const prevParents = ((et.previousStatus?.parents ?? []) as Obj[]).map((p) => ({ ref: JSON.stringify(p.parentRef), conditions: conditionsOf(p) ?? [] }));
    const conds = (c: ReturnType<TranslateContext['conditions']>, parentProblem: string | undefined): Condition[] => {
      const accepted = !invalid;
      const pending = !invalid && refsOk && (parentProblem !== undefined || ports.length === 0);
      const ok = programmed && parentProblem === undefined;
      return [
        c.make('Accepted', accepted, accepted ? 'Accepted' : 'Invalid', accepted ? 'EdgionTls accepted' : invalid!),
        c.make('ResolvedRefs', refsOk, refReason, refsOk ? 'All references resolved' : problems.join('; ')),
        c.make('Programmed', ok, ok ? 'Programmed' : pending ? 'Pending' : 'Invalid', ok ? `serving ${hosts.join(', ')} on port${ports.length > 1 ? 's' : ''} ${ports.join(', ')}` : (parentProblem ?? message ?? 'no listener port could be resolved')),
        c.make('Ready', ok, ok ? 'Ready' : pending ? 'Pending' : 'Invalid', ok ? 'Ready' : (parentProblem ?? message ?? 'no listener port could be resolved')),
      ];
    };
    ctx.statuses.set(et.key, {
      parents: parents.map((p) => {
        const prev = prevParents.find((x) => x.ref === JSON.stringify(p.parentRef))?.conditions;
        return { parentRef: p.parentRef, controllerName: ctx.input.controllerName, conditions: conds(ctx.conditions(et, prev), p.problem) };
      }),
      resolvedPorts: ports,
      conditions: conds(ctx.conditions(et), ports.length ? undefined : 'no parentRef resolves to a listener port'),
    });
    if (!programmed || !bundle) continue;
    tlsBundles[bundle.key] ??= bundle;
    out.push({
      key: nsName(et),
      namespace: ns,
      name: et.name,
      generation: et.generation,
      hosts,
      bundle: bundle.key,
      ...(minVersion ? { minVersion } : {}),
      ...(ciphers ? { ciphers } : {}),
      ...(clientAuth ? { clientAuth } : {}),
      exposeClientCert: /^(true|1|yes|on)$/i.test(annotations['edgion.io/expose-client-cert'] ?? ''),
      parents: parents.filter((p) => p.gateway && p.ports.length).map((p) => ({ gateway: p.gateway!, ...(p.listener ? { listener: p.listener } : {}) })),
      ports,
    });
  }
  return out;
}
