// Who a TLS backend must be (BackendTLSPolicy, Gateway API v1.4): without `subjectAltNames` the
// certificate must match `validation.hostname`; with them, `hostname` is only the SNI and the
// certificate must carry one of the listed SANs (a DNS name, or a URI such as a SPIFFE ID).

import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { UpstreamTlsIR } from '../../ir/index.js';

/** The certificate's SANs of one type (`DNS`, `URI`), as OpenSSL lists them. */
function sansOf(cert: PeerCertificate, type: string): string[] {
  return (cert.subjectaltname ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith(`${type}:`))
    .map((s) => s.slice(type.length + 1).replace(/^"|"$/g, ''));
}

/** undefined when the backend certificate is acceptable, else the reason (the handshake then fails). */
export function checkBackendIdentity(tls: UpstreamTlsIR, fallbackHost: string, cert: PeerCertificate): Error | undefined {
  const wanted = tls.subjectAltNames;
  if (wanted === undefined || wanted.length === 0) return checkServerIdentity(tls.hostname || fallbackHost, cert);
  for (const san of wanted) {
    if (san.type === 'URI') {
      if (sansOf(cert, 'URI').includes(san.value)) return undefined;
    } else if (san.value.startsWith('*.')) {
      // A wildcard in the policy: the certificate names it literally, or a name one label below it.
      const suffix = san.value.slice(1).toLowerCase();
      if (sansOf(cert, 'DNS').some((d) => d.toLowerCase() === san.value.toLowerCase() || (d.toLowerCase().endsWith(suffix) && !d.slice(0, d.length - suffix.length).includes('.') && d.length > suffix.length))) return undefined;
    } else if (checkServerIdentity(san.value, cert) === undefined) return undefined;
  }
  const list = wanted.map((s) => `${s.type === 'URI' ? 'URI' : 'DNS'}:${s.value}`).join(', ');
  return Object.assign(new Error(`backend certificate (SANs ${cert.subjectaltname || 'none'}) matches none of the BackendTLSPolicy subjectAltNames (${list})`), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
}
