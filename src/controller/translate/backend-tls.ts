// BackendTLSPolicy (tls.md §6, Gateway API v1): TLS from the gateway to a Service's endpoints. The
// policy targeting a Service (the oldest when several do) gives the SNI and name to verify
// (`validation.hostname`), the CA bundle (Secrets or ConfigMaps with `ca.crt`, or the system roots)
// and, as an Edgion option, a client certificate for upstream mTLS. Clusters built for that Service
// carry the result in ClusterIR.tls; the status is written on the policy.

import { createHash } from 'node:crypto';
import type { UpstreamTlsIR } from '../../ir/index.js';
import { conditionsOf } from './conditions.js';
import { nsName, type Obj, type ResourceView, type TranslateContext } from './context.js';
import { secretData, secretMissing } from './secrets.js';
import { checkCaBundle, checkKeyPair } from './certificates.js';

interface PolicyResult {
  policy: ResourceView;
  tls: UpstreamTlsIR;
}

const cache = new WeakMap<TranslateContext, Map<string, PolicyResult>>();

function configMapCa(ctx: TranslateContext, ns: string, name: string): string | undefined {
  const cm = ctx.get('ConfigMap', ns, name);
  const v = (cm?.obj.data as Obj | undefined)?.['ca.crt'];
  return typeof v === 'string' ? v : undefined;
}

/** Every policy once per translation: Service `ns/name` → the TLS settings of the policy that wins. */
function index(ctx: TranslateContext): Map<string, PolicyResult> {
  const existing = cache.get(ctx);
  if (existing) return existing;
  const out = new Map<string, PolicyResult>();
  cache.set(ctx, out);
  for (const p of ctx.all('BackendTLSPolicy')) {
    const ns = p.namespace ?? 'default';
    const spec = (p.obj.spec ?? {}) as Obj;
    const validation = (spec.validation ?? {}) as Obj;
    const problems: string[] = [];
    let refsOk = true;
    let reason = 'ResolvedRefs';
    const cas: string[] = [];
    ((validation.caCertificateRefs ?? []) as Obj[]).forEach((ref, i) => {
      const kind = String(ref.kind ?? 'ConfigMap');
      const name = String(ref.name);
      const pem = kind === 'Secret' ? secretData(ctx, ns, name)?.['ca.crt'] : kind === 'ConfigMap' ? configMapCa(ctx, ns, name) : undefined;
      const bad = pem === undefined ? (kind === 'Secret' ? secretMissing(ctx, ns, name) + ' (or it has no ca.crt)' : `${kind} ${ns}/${name} does not exist or has no ca.crt`) : checkCaBundle(pem);
      if (bad) {
        refsOk = false;
        reason = kind === 'Secret' || kind === 'ConfigMap' ? 'InvalidCACertificateRef' : 'InvalidKind';
        problems.push(`validation.caCertificateRefs[${i}]: ${bad}`);
      } else cas.push(pem!);
    });
    const system = validation.wellKnownCACertificates === 'System' || cas.length === 0;
    if (cas.length === 0 && validation.wellKnownCACertificates !== 'System') problems.push('no CA certificate resolves: the system roots are used');
    const opts = (spec.options ?? {}) as Record<string, string>;
    const clientRef = opts['edgion.io/client-certificate-ref'];
    let clientCertPem: string | undefined;
    let clientKeyPem: string | undefined;
    if (clientRef) {
      const data = secretData(ctx, ns, clientRef);
      const checked = data?.['tls.crt'] && data['tls.key'] ? checkKeyPair(data['tls.crt'], data['tls.key'], ctx.input.now) : data ? `Secret ${ns}/${clientRef} needs tls.crt and tls.key` : secretMissing(ctx, ns, clientRef);
      if (typeof checked === 'string') {
        refsOk = false;
        reason = 'InvalidClientCertificateRef';
        problems.push(`options["edgion.io/client-certificate-ref"]: ${checked}`);
      } else {
        clientCertPem = data!['tls.crt'];
        clientKeyPem = data!['tls.key'];
      }
    }
    const hostname = String(validation.hostname ?? '');
    const caPem = cas.length ? cas.join('\n') : undefined;
    const id = createHash('sha256').update(`${hostname}|${caPem ?? 'system'}|${clientCertPem ?? ''}`).digest('hex').slice(0, 16);
    const tls: UpstreamTlsIR = { id, policy: nsName(p), hostname, system, ...(caPem ? { caPem } : {}), ...(clientCertPem ? { clientCertPem, clientKeyPem: clientKeyPem! } : {}) };
    const targets: string[] = [];
    const conflicts: string[] = [];
    for (const t of (spec.targetRefs ?? []) as Obj[]) {
      if ((t.group ?? '') !== '' || (t.kind ?? 'Service') !== 'Service') {
        problems.push(`targetRef ${String(t.group)}/${String(t.kind)} ${String(t.name)}: only core Services are supported`);
        continue;
      }
      const key = `${ns}/${String(t.name)}`;
      const other = out.get(key);
      if (other) conflicts.push(`Service ${key} is already targeted by BackendTLSPolicy ${nsName(other.policy)}`);
      else {
        out.set(key, { policy: p, tls });
        targets.push(key);
      }
    }
    const prev = ((p.previousStatus?.ancestors ?? []) as Obj[])[0];
    const c = ctx.conditions(p, conditionsOf(prev));
    const accepted = targets.length > 0;
    const conds = [
      c.make('Accepted', accepted, accepted ? 'Accepted' : conflicts.length ? 'Conflicted' : 'NoValidTarget', accepted ? `TLS to ${targets.join(', ')}` : (conflicts.join('; ') || 'no targetRef names a Service')),
      c.make('ResolvedRefs', refsOk, refsOk ? reason : reason, refsOk ? 'All references resolved' : problems.join('; ')),
      c.make('Programmed', accepted, accepted ? 'Programmed' : 'Invalid', accepted ? 'Programmed' : 'not applied to any Service'),
    ];
    if (conflicts.length && accepted) ctx.warn(p, 'spec.targetRefs', conflicts.join('; '));
    for (const m of problems) ctx.warn(p, 'spec', m);
    ctx.statuses.set(p.key, {
      ancestors: [{ ancestorRef: { group: 'gateway.networking.k8s.io', kind: 'BackendTLSPolicy', namespace: ns, name: p.name }, controllerName: ctx.input.controllerName, conditions: conds }],
      conditions: conds,
    });
  }
  return out;
}

/** TLS settings for connections to a Service's endpoints, when a BackendTLSPolicy targets it. */
export function backendTlsFor(ctx: TranslateContext, namespace: string, service: string): UpstreamTlsIR | undefined {
  return index(ctx).get(`${namespace}/${service}`)?.tls;
}

/** Writes every policy's status (also the ones no route uses). */
export function translateBackendTlsPolicies(ctx: TranslateContext): void {
  index(ctx);
}
