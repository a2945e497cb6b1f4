// PEM certificates and keys as the controller checks them before anything reaches a gateway: the
// certificate parses, the key parses and belongs to it, and the names it covers. A gateway never
// receives a certificate it cannot load.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';

export interface CertificateInfo {
  /** DNS SANs (else the CN), lower-cased. */
  names: string[];
  /** IP SANs. */
  ips: string[];
  notAfter: string;
  notBefore: string;
  serial: string;
  subject: string;
  expired: boolean;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle, in order; `[]` when none parses. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(PEM_CERT) ?? [];
}

function info(cert: X509Certificate, now: Date): CertificateInfo {
  const sans = (cert.subjectAltName ?? '').split(',').map((s) => s.trim());
  const names = sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
  const ips = sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11));
  if (names.length === 0 && ips.length === 0) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
    if (cn) names.push(cn.toLowerCase());
  }
  const notAfter = new Date(cert.validTo);
  return { names, ips, notAfter: notAfter.toISOString(), notBefore: new Date(cert.validFrom).toISOString(), serial: cert.serialNumber, subject: cert.subject.replace(/\n/g, ', '), expired: notAfter.getTime() < now.getTime() };
}

/** The leaf certificate of a PEM bundle (chain allowed), or an error message. */
export function parseCertificate(certPem: string, now = new Date()): CertificateInfo | string {
  const pems = splitPemCertificates(certPem);
  if (pems.length === 0) return 'tls.crt holds no PEM certificate';
  try {
    return info(new X509Certificate(pems[0]!), now);
  } catch (err) {
    return `tls.crt does not parse: ${(err as Error).message}`;
  }
}

/** Checks a certificate with its private key: both parse and the key belongs to the certificate. */
export function checkKeyPair(certPem: string, keyPem: string, now = new Date()): CertificateInfo | string {
  const parsed = parseCertificate(certPem, now);
  if (typeof parsed === 'string') return parsed;
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    return `tls.key does not parse as a PEM private key: ${(err as Error).message}`;
  }
  try {
    if (!new X509Certificate(splitPemCertificates(certPem)[0]!).checkPrivateKey(key)) return 'tls.key is not the private key of the certificate in tls.crt';
  } catch (err) {
    return `tls.key cannot be checked against tls.crt: ${(err as Error).message}`;
  }
  return parsed;
}

/** A CA bundle: at least one certificate, all parse. */
export function checkCaBundle(pem: string): string | undefined {
  const pems = splitPemCertificates(pem);
  if (pems.length === 0) return 'ca.crt holds no PEM certificate';
  for (const p of pems) {
    try {
      new X509Certificate(p);
    } catch (err) {
      return `ca.crt does not parse: ${(err as Error).message}`;
    }
  }
  return undefined;
}

/** OpenSSL accepts the cipher list (checked the way the gateway will use it). */
export function cipherListError(ciphers: string): string | undefined {
  try {
    createSecureContext({ ciphers });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Does a certificate name (exact or `*.suffix`, one label) cover `host` (exact or `*.suffix`)? */
export function certificateCovers(names: readonly string[], host: string): boolean {
  const h = host.toLowerCase();
  for (const n of names) {
    if (n === h) return true;
    if (n.startsWith('*.') && !h.startsWith('*.')) {
      const rest = h.slice(h.indexOf('.') + 1);
      if (h.indexOf('.') > 0 && `*.${rest}` === n) return true;
    }
  }
  return false;
}
