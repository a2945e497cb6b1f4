// Validation beyond the CRD schemas for the TLS and layer-4 kinds: certificate Secrets (the PEM
// parses, the key belongs to the certificate), EdgionStreamPlugins entries, EdgionTls, the L4 route
// annotations, BackendTLSPolicy options and EdgionAcme. A resource that fails here is rejected in
// its status and its last good version (if any) keeps serving; it never reaches a gateway.

import { parseDuration } from '../../shared/durations.js';
import { validateStreamPluginEntry } from '../../plugins/stream/ip-restriction.js';
import type { Obj } from '../store/resource-store.js';
import type { ExtraValidator } from './identify.js';
import { checkCaBundle, checkKeyPair } from '../translate/certificates.js';

type Problem = { path: string; message: string; severity?: 'error' | 'warning' };

function decoded(secret: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret.data ?? {}) as Obj)) if (typeof v === 'string') out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries((secret.stringData ?? {}) as Obj)) if (typeof v === 'string') out[k] = v;
  return out;
}

function where(secret: Obj, key: string): string {
  return (secret.stringData as Obj | undefined)?.[key] !== undefined ? `stringData["${key}"]` : `data["${key}"]`;
}

function secretProblems(secret: Obj): Problem[] {
  const data = decoded(secret);
  const problems: Problem[] = [];
  const isTls = secret.type === 'kubernetes.io/tls';
  const crt = data['tls.crt'];
  const key = data['tls.key'];
  if (crt !== undefined || key !== undefined || isTls) {
    if (!crt) problems.push({ path: where(secret, 'tls.crt'), message: 'a TLS Secret needs a PEM certificate in tls.crt' });
    else if (!key) problems.push({ path: where(secret, 'tls.key'), message: 'a TLS Secret needs the private key in tls.key' });
    else {
      const r = checkKeyPair(crt, key);
      if (typeof r === 'string') problems.push({ path: where(secret, r.startsWith('tls.key') ? 'tls.key' : 'tls.crt'), message: r });
      else if (r.expired) problems.push({ path: where(secret, 'tls.crt'), message: `the certificate expired on ${r.notAfter}`, severity: 'warning' });
    }
  }
  const ca = data['ca.crt'];
  if (ca !== undefined) {
    const e = checkCaBundle(ca);
    if (e) problems.push({ path: where(secret, 'ca.crt'), message: e });
  }
  return problems;
}

function streamPluginProblems(spec: Obj): Problem[] {
  const out: Problem[] = [];
  for (const field of ['plugins', 'tlsRoutePlugins']) {
    const list = spec[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      out.push({ path: `spec.${field}`, message: `${field} must be a list of plugin entries` });
      continue;
    }
    list.forEach((e, i) => {
      for (const p of validateStreamPluginEntry((e ?? {}) as Obj)) out.push({ path: `spec.${field}[${i}].${p.path}`, message: p.message });
    });
  }
  return out;
}

const ANNOTATION = (k: string) => `metadata.annotations["${k}"]`;

function routeAnnotationProblems(kind: string, value: Obj): Problem[] {
  const ann = ((value.metadata as Obj | undefined)?.annotations ?? {}) as Record<string, string>;
  const out: Problem[] = [];
  const pp = ann['edgion.io/proxy-protocol'];
  if (pp !== undefined) {
    if (kind === 'UDPRoute') out.push({ path: ANNOTATION('edgion.io/proxy-protocol'), message: 'PROXY protocol is not available for UDPRoute', severity: 'warning' });
    else if (!/^v[12]$/i.test(pp.trim())) out.push({ path: ANNOTATION('edgion.io/proxy-protocol'), message: `must be "v1" or "v2" (got ${JSON.stringify(pp)})` });
  }
  const retries = ann['edgion.io/max-connect-retries'];
  if (retries !== undefined && !/^\d+$/.test(retries.trim())) out.push({ path: ANNOTATION('edgion.io/max-connect-retries'), message: `must be a whole number of retries (got ${JSON.stringify(retries)})` });
  else if (retries !== undefined && Number(retries) > 16) out.push({ path: ANNOTATION('edgion.io/max-connect-retries'), message: 'at most 16 retries' });
  const idle = ann['edgion.io/udp-session-timeout'];
  if (idle !== undefined) {
    const ms = parseDuration(idle);
    if (typeof ms === 'string') out.push({ path: ANNOTATION('edgion.io/udp-session-timeout'), message: ms });
    else if (ms < 100) out.push({ path: ANNOTATION('edgion.io/udp-session-timeout'), message: 'must be at least 100ms' });
  }
  for (const k of ['edgion.io/edgion-stream-plugins', 'edgion.io/stream-plugins']) {
    const v = ann[k];
    if (v !== undefined && !/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v.trim())) {
      out.push({ path: ANNOTATION(k), message: `must be "name" or "namespace/name" of an EdgionStreamPlugins (got ${JSON.stringify(v)})` });
    }
  }
  return out;
}

function edgionTlsProblems(spec: Obj): Problem[] {
  const out: Problem[] = [];
  const auth = spec.clientAuth as Obj | undefined;
  const mode = auth?.mode ?? 'Terminate';
  if ((mode === 'Mutual' || mode === 'OptionalMutual') && !(auth?.caSecretRef as Obj | undefined)?.name) {
    out.push({ path: 'spec.clientAuth.caSecretRef', message: `clientAuth.mode ${String(mode)} needs caSecretRef (a Secret with ca.crt)` });
  }
  const patternProblems = (field: string) =>
    ((auth?.[field] ?? []) as unknown[]).forEach((p, i) => {
      if (typeof p !== 'string' || p === '' || (p.includes('*') && !/^(DNS:)?\*\.[^*]+$/.test(p))) out.push({ path: `spec.clientAuth.${field}[${i}]`, message: `${JSON.stringify(p)}: use an exact value or "*.domain" (one label)` });
    });
  patternProblems('allowedSans');
  patternProblems('allowedCns');
  const parents = (spec.parentRefs ?? []) as Obj[];
  parents.forEach((p, i) => {
    if (p.sectionName === undefined && p.port === undefined) out.push({ path: `spec.parentRefs[${i}]`, message: 'a parentRef with neither sectionName nor port binds no listener port (the certificate is not used through it)', severity: 'warning' });
  });
  if (parents.length === 0) out.push({ path: 'spec.parentRefs', message: 'no parentRefs: the certificate is bound to no listener port and is not used', severity: 'warning' });
  return out;
}

function backendTlsPolicyProblems(spec: Obj): Problem[] {
  const out: Problem[] = [];
  const opts = (spec.options ?? {}) as Record<string, string>;
  const ref = opts['edgion.io/client-certificate-ref'];
  if (ref !== undefined && (ref.includes('/') || ref.trim() === '')) out.push({ path: 'spec.options["edgion.io/client-certificate-ref"]', message: `must name a Secret in the policy's namespace (no "/"; got ${JSON.stringify(ref)})` });
  // An unsupported caCertificateRefs kind is not a validation error: the translator reports it as
  // the Gateway API asks (ResolvedRefs=False InvalidKind) and requests to the targets fail (502).
  return out;
}

function acmeProblems(spec: Obj): Problem[] {
  const out: Problem[] = [];
  const domains = (spec.domains ?? []) as unknown[];
  if (domains.length === 0) out.push({ path: 'spec.domains', message: 'list at least one domain' });
  const challenge = (spec.challenge ?? {}) as Obj;
  const type = challenge.type ?? 'http-01';
  domains.forEach((d, i) => {
    if (typeof d !== 'string' || !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(d)) out.push({ path: `spec.domains[${i}]`, message: `${JSON.stringify(d)} is not a lower-case DNS name` });
    else if (d.startsWith('*.') && type !== 'dns-01') out.push({ path: `spec.domains[${i}]`, message: 'a wildcard domain needs challenge.type dns-01' });
  });
  if (type === 'http-01') {
    const ref = (challenge.http01 as Obj | undefined)?.gatewayRef as Obj | undefined;
    if (!ref?.name) out.push({ path: 'spec.challenge.http01.gatewayRef', message: 'http-01 needs http01.gatewayRef (the Gateway whose HTTP listeners answer the challenge)' });
  } else {
    const dns = (challenge.dns01 ?? {}) as Obj;
    if (typeof dns.provider !== 'string' || !dns.provider) out.push({ path: 'spec.challenge.dns01.provider', message: 'dns-01 needs dns01.provider (cloudflare, webhook, pebble, or a registered provider)' });
  }
  if (spec.server !== undefined) {
    try {
      const u = new URL(String(spec.server));
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      out.push({ path: 'spec.server', message: `${JSON.stringify(spec.server)} is not an ACME directory URL` });
    }
  }
  const email = spec.email;
  if (typeof email === 'string' && !/^[^@\s]+@[^@\s]+$/.test(email)) out.push({ path: 'spec.email', message: `${JSON.stringify(email)} is not an e-mail address` });
  const renewal = (spec.renewal ?? {}) as Obj;
  for (const k of ['renewBeforeDays', 'checkInterval', 'failBackoff']) {
    if (renewal[k] !== undefined && !(Number(renewal[k]) > 0)) out.push({ path: `spec.renewal.${k}`, message: `${k} must be a positive number` });
  }
  return out;
}

/** Problems of one resource of the kinds above (others: none). */
export const tlsResourceValidator: ExtraValidator = (kind, value) => {
  const spec = (value.spec ?? {}) as Obj;
  switch (kind) {
    case 'Secret':
      return { problems: secretProblems(value) };
    case 'EdgionStreamPlugins':
      return { problems: streamPluginProblems(spec) };
    case 'TCPRoute':
    case 'UDPRoute':
    case 'TLSRoute':
      return { problems: routeAnnotationProblems(kind, value) };
    case 'EdgionTls':
      return { problems: edgionTlsProblems(spec) };
    case 'BackendTLSPolicy':
      return { problems: backendTlsPolicyProblems(spec) };
    case 'EdgionAcme':
      return { problems: acmeProblems(spec) };
    default:
      return { problems: [] };
  }
};

/** Runs several validators in turn; each sees the value the previous one returned. */
export function combineValidators(...list: (ExtraValidator | undefined)[]): ExtraValidator {
  return (kind, value) => {
    let v = value;
    const problems: Problem[] = [];
    for (const fn of list) {
      if (!fn) continue;
      const r = fn(kind, v);
      problems.push(...r.problems);
      if (r.value) v = r.value;
    }
    return { problems, ...(v !== value ? { value: v } : {}) };
  };
}
