// HeaderCertAuth (plugins.md §4.9): client-certificate authentication. Header mode reads the
// certificate a TLS terminator forwarded (base64 DER, or a percent-encoded PEM as nginx's
// $ssl_client_escaped_cert; a PEM may carry intermediates after the leaf) and verifies it with
// node:crypto's X509Certificate against the CA certificates of `caSecretRefs` (issuer and
// signature at each step, validity dates, chain length ≤ verifyDepth, clientAuth usage).
// Connection mode uses the certificate of the gateway's own mTLS connection. The identity goes
// upstream: consumer, subject DN, SANs, SHA-256 fingerprint.

import { createHash, X509Certificate } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { definePlugin, type PluginDeps, type PluginProblem, type PluginSession, type RequestResult } from '../../runtime/define-plugin.js';
import { CONSUMER } from '../../runtime/auth-reply.js';
import { DelayField, headerText, HEADER_NAME, reject, secretData, secretId, SecretRefSchema } from './common.js';

const Schema = Type.Object({
  mode: Type.Enum(['Header', 'Connection'], { default: 'Header' }),
  certificateHeaderName: Type.String({ minLength: 1, default: 'X-Client-Cert' }),
  certificateHeaderFormat: Type.Enum(['base64Encoded', 'urlEncoded'], { default: 'base64Encoded' }),
  caSecretRefs: Type.Optional(Type.Array(SecretRefSchema, { minItems: 1, description: 'Secrets with ca.crt (required in Header mode)' })),
  verifyDepth: Type.Integer({ minimum: 0, maximum: 16, default: 1, description: 'issuer certificates allowed between the client certificate and a trusted one (0 = the certificate itself is in ca.crt)' }),
  hideCredentials: Type.Boolean({ default: true }),
  skipConsumerLookup: Type.Boolean({ default: false }),
  consumerBy: Type.Enum(['sanOrCn', 'cn', 'fingerprint'], { default: 'sanOrCn' }),
  upstreamHeaders: Type.Object(
    {
      consumerHeader: Type.String({ minLength: 1, default: 'X-Consumer-Username' }),
      dnHeader: Type.String({ minLength: 1, default: 'X-Client-Cert-Dn' }),
      sanHeader: Type.String({ minLength: 1, default: 'X-Client-Cert-San' }),
      fingerprintHeader: Type.String({ minLength: 1, default: 'X-Client-Cert-Fingerprint' }),
    },
    { default: {} },
  ),
  allowAnonymous: Type.Boolean({ default: false }),
  errorStatus: Type.Integer({ minimum: 400, maximum: 599, default: 401 }),
  errorMessage: Type.String({ minLength: 1, default: 'TLS certificate failed verification' }),
  authFailureDelayMs: DelayField,
});

type Config = Static<typeof Schema>;

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';
const PEM = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** DER certificates of a PEM text, in order. */
export function pemCertificates(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of text.matchAll(PEM)) out.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  return out;
}

/** The certificates a header carries (leaf first), or undefined when it cannot be decoded. */
export function decodeCertHeader(value: string, format: string): Buffer[] | undefined {
  let text = value.trim();
  if (format === 'urlEncoded') {
    try {
      text = decodeURIComponent(text);
    } catch {
      return undefined;
    }
  }
  if (text.includes('-----BEGIN')) {
    const certs = pemCertificates(text);
    return certs.length ? certs : undefined;
  }
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]+=*$/.test(compact)) return undefined;
  const der = Buffer.from(compact, 'base64');
  // base64 of a PEM (some terminators do that)
  if (der.subarray(0, 10).toString('latin1') === '-----BEGIN') {
    const certs = pemCertificates(der.toString('latin1'));
    return certs.length ? certs : undefined;
  }
  return der.length ? [der] : undefined;
}

/** RFC 4514 order (most specific first), comma separated, values escaped as OpenSSL prints them. */
export function renderDn(subject: string): string {
  return subject.split('\n').filter(Boolean).reverse().join(',');
}

/** `a.test`, `IP:1.2.3.4`, `email:x@y`, `uri:spiffe://...` from Node's subjectAltName text. */
export function renderSans(subjectAltName: string | undefined): { rendered: string[]; values: string[] } {
  const rendered: string[] = [];
  const values: string[] = [];
  if (!subjectAltName) return { rendered, values };
  let i = 0;
  const n = subjectAltName.length;
  while (i < n) {
    const colon = subjectAltName.indexOf(':', i);
    if (colon === -1) break;
    const kind = subjectAltName.slice(i, colon).trim();
    i = colon + 1;
    let value: string;
    if (subjectAltName[i] === '"') {
      // Node quotes values that contain separators as JSON strings
      let j = i + 1;
      while (j < n && subjectAltName[j] !== '"') j += subjectAltName[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(subjectAltName.slice(i, j + 1)) as string;
      } catch {
        value = subjectAltName.slice(i + 1, j);
      }
      i = j + 1;
      const next = subjectAltName.indexOf(',', i);
      i = next === -1 ? n : next + 1;
    } else {
      const next = subjectAltName.indexOf(', ', i);
      value = next === -1 ? subjectAltName.slice(i) : subjectAltName.slice(i, next);
      i = next === -1 ? n : next + 2;
    }
    values.push(value);
    switch (kind) {
      case 'DNS':
        rendered.push(value);
        break;
      case 'IP Address':
        rendered.push(`IP:${value}`);
        break;
      case 'email':
        rendered.push(`email:${value}`);
        break;
      case 'URI':
        rendered.push(`uri:${value}`);
        break;
      default:
        rendered.push(`${kind}:${value}`);
    }
  }
  return { rendered, values };
}

/** SHA-256 of the DER, lower-case hex pairs joined with `:`. */
export function fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').match(/../g)!.join(':');
}

function commonName(subject: string): string | undefined {
  let cn: string | undefined;
  for (const line of subject.split('\n')) if (line.startsWith('CN=')) cn = line.slice(3).replace(/\\(.)/g, '$1');
  return cn;
}

export interface CertIdentity {
  consumer: string | undefined;
  dn: string;
  sans: string[];
  fingerprint: string;
}

const validAt = (c: X509Certificate, now: number) => c.validFromDate.getTime() <= now && now <= c.validToDate.getTime();
const issuedBy = (c: X509Certificate, issuer: X509Certificate) => {
  try {
    return c.checkIssued(issuer) && c.verify(issuer.publicKey);
  } catch {
    return false;
  }
};

/** Verifies `leaf` (with untrusted `extra` intermediates) against `anchors`; the failure reason or undefined. */
export function verifyChain(leaf: X509Certificate, extra: X509Certificate[], anchors: X509Certificate[], depth: number, now: number): string | undefined {
  if (!validAt(leaf, now)) return leaf.validToDate.getTime() < now ? 'the certificate has expired' : 'the certificate is not valid yet';
  if (leaf.keyUsage !== undefined && !leaf.keyUsage.includes(CLIENT_AUTH) && !leaf.keyUsage.includes(ANY_EKU)) return 'the certificate is not for client authentication';
  // A client certificate listed in ca.crt itself is trusted as it is (pinned).
  if (anchors.some((a) => a.raw.equals(leaf.raw))) return undefined;
  let current = leaf;
  for (let issuers = 1; issuers <= depth; issuers++) {
    const anchor = anchors.find((a) => issuedBy(current, a));
    if (anchor) return validAt(anchor, now) ? undefined : 'the issuing CA certificate is outside its validity period';
    const next = extra.find((x) => x !== current && x.ca && issuedBy(current, x));
    if (!next) return 'the certificate is not issued by a trusted CA';
    if (!validAt(next, now)) return 'an intermediate certificate is outside its validity period';
    current = next;
  }
  return `the chain to a trusted CA is longer than verifyDepth (${depth})`;
}

function loadAnchors(c: Config, deps: PluginDeps): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const ref of c.caSecretRefs ?? []) {
    const id = secretId(ref, deps);
    const pem = secretData(deps, ref)?.['ca.crt'];
    if (pem === undefined) {
      deps.log.warn({ secret: id }, `HeaderCertAuth: Secret ${id} is missing or has no ca.crt`);
      continue;
    }
    const ders = pemCertificates(pem);
    if (!ders.length) deps.log.warn({ secret: id }, `HeaderCertAuth: ca.crt of ${id} holds no PEM certificate`);
    for (const der of ders) {
      try {
        out.push(new X509Certificate(der));
      } catch (err) {
        deps.log.warn({ secret: id }, `HeaderCertAuth: a certificate in ca.crt of ${id} cannot be read: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

export const HeaderCertAuth = definePlugin({
  type: 'HeaderCertAuth',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    if (c.mode === 'Header' && !c.caSecretRefs?.length) out.push({ path: 'caSecretRefs', message: 'Header mode needs caSecretRefs (the CA certificates client certificates are verified with)' });
    if (!HEADER_NAME.test(c.certificateHeaderName)) out.push({ path: 'certificateHeaderName', message: `"${c.certificateHeaderName}" is not a valid HTTP header name` });
    for (const [k, v] of Object.entries(c.upstreamHeaders)) if (!HEADER_NAME.test(v)) out.push({ path: `upstreamHeaders.${k}`, message: `"${v}" is not a valid HTTP header name` });
    return out;
  },
  secretRefs: (c) => c.caSecretRefs ?? [],
  create(c, deps) {
    const anchors = loadAnchors(c, deps);
    const certHeader = c.certificateHeaderName.toLowerCase();
    const h = {
      consumer: c.upstreamHeaders.consumerHeader.toLowerCase(),
      dn: c.upstreamHeaders.dnHeader.toLowerCase(),
      san: c.upstreamHeaders.sanHeader.toLowerCase(),
      fp: c.upstreamHeaders.fingerprintHeader.toLowerCase(),
    };
    // Verified header values → identity, until the certificate expires (at most 5 minutes).
    const cache = new Map<string, { id: CertIdentity; until: number }>();

    const fail = (s: PluginSession, why: string) => {
      s.log(why);
      return reject(c.authFailureDelayMs, 'TLSCert', 'edgion', c.errorMessage, c.errorStatus, 'HeaderCertAuthFailed');
    };

    const identity = (leaf: X509Certificate): CertIdentity | string => {
      const sans = renderSans(leaf.subjectAltName);
      const fp = fingerprint(leaf.raw);
      const cn = commonName(leaf.subject);
      const consumer = c.consumerBy === 'fingerprint' ? fp : c.consumerBy === 'cn' ? cn : (sans.values[0] ?? cn);
      if (consumer === undefined) return `no ${c.consumerBy === 'cn' ? 'CN' : 'SAN or CN'} to identify the consumer`;
      return { consumer, dn: renderDn(leaf.subject), sans: sans.rendered, fingerprint: fp };
    };

    const setIdentity = (s: PluginSession, id: CertIdentity): RequestResult => {
      const consumer = id.consumer === undefined ? undefined : headerText(id.consumer);
      if (consumer !== undefined) s.setHeader(h.consumer, consumer);
      else s.removeHeader(h.consumer);
      if (h.consumer !== CONSUMER.anonymous) s.removeHeader(CONSUMER.anonymous);
      const dn = headerText(id.dn);
      if (dn !== undefined) s.setHeader(h.dn, dn);
      else s.removeHeader(h.dn);
      const san = id.sans.length ? headerText(id.sans.join(',')) : undefined;
      if (san !== undefined) s.setHeader(h.san, san);
      else s.removeHeader(h.san);
      s.setHeader(h.fp, id.fingerprint);
      if (c.mode === 'Header' && c.hideCredentials) s.removeHeader(certHeader);
      return undefined;
    };

    const noCertificate = (s: PluginSession) => {
      if (!c.allowAnonymous) return fail(s, 'no client certificate');
      s.setHeader(h.consumer, 'anonymous');
      s.setHeader(CONSUMER.anonymous, 'true');
      for (const x of [h.dn, h.san, h.fp]) s.removeHeader(x);
      if (c.mode === 'Header' && c.hideCredentials) s.removeHeader(certHeader);
      return undefined;
    };

    return {
      onRequest(s) {
        const now = deps.now();
        if (c.mode === 'Connection') {
          const cert = s.clientCertificate();
          if (!cert) return noCertificate(s);
          let leaf: X509Certificate;
          try {
            leaf = new X509Certificate(cert.raw);
          } catch {
            return fail(s, 'the connection certificate cannot be read');
          }
          if (anchors.length) {
            const why = verifyChain(leaf, [], anchors, c.verifyDepth, now);
            if (why) return fail(s, why);
          } else if (!validAt(leaf, now)) return fail(s, 'the certificate is outside its validity period');
          const id = identity(leaf);
          return typeof id === 'string' ? fail(s, id) : setIdentity(s, id);
        }

        const value = s.header(certHeader)?.trim();
        if (!value) return noCertificate(s);
        const hit = cache.get(value);
        if (hit && hit.until > now) return setIdentity(s, hit.id);
        const ders = decodeCertHeader(value, c.certificateHeaderFormat);
        if (!ders) return fail(s, `the ${c.certificateHeaderName} header is not a ${c.certificateHeaderFormat} certificate`);
        let certs: X509Certificate[];
        try {
          certs = ders.map((d) => new X509Certificate(d));
        } catch {
          return fail(s, 'the certificate cannot be parsed');
        }
        const leaf = certs[0]!;
        const why = verifyChain(leaf, certs.slice(1), anchors, c.verifyDepth, now);
        if (why) return fail(s, why);
        const id = identity(leaf);
        if (typeof id === 'string') return fail(s, id);
        if (cache.size >= 1000) cache.delete(cache.keys().next().value!);
        cache.set(value, { id, until: Math.min(leaf.validToDate.getTime(), now + 300_000) });
        return setIdentity(s, id);
      },
    };
  },
});
