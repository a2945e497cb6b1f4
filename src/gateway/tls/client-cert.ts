// Client-certificate rules of an EdgionTls (tls.md §2.2), checked right after the handshake and
// before any byte of the connection is used: the chain verified against the CA (OpenSSL did the
// verification; its verdict is read from the socket), the chain depth, the SAN and CN allow-lists.

import type { TLSSocket, DetailedPeerCertificate } from 'node:tls';
import type { ClientAuthIR } from '../../ir/index.js';
import type { ClientCertInfo } from '../stream/stream-observe.js';

export interface ClientCertVerdict {
  ok: boolean;
  error?: string;
  cert?: ClientCertInfo;
  /** AllowInsecureFallback let a connection in whose certificate failed: why it failed. */
  untrusted?: string;
}

/** SANs as the reference renders them: DNS names as-is, `IP:`, `email:`, `uri:`. */
export function renderSans(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  const out: string[] = [];
  for (const raw of subjectaltname.split(/,\s*/)) {
    const i = raw.indexOf(':');
    if (i < 0) continue;
    const type = raw.slice(0, i);
    const value = raw.slice(i + 1).replace(/^"|"$/g, '');
    if (type === 'DNS') out.push(value);
    else if (type === 'IP Address') out.push(`IP:${value}`);
    else if (type === 'email') out.push(`email:${value}`);
    else if (type === 'URI') out.push(`uri:${value}`);
  }
  return out;
}

/** Exact, or `*.domain` = exactly one more label. */
export function patternMatches(pattern: string, value: string): boolean {
  const p = pattern.startsWith('DNS:') ? pattern.slice(4) : pattern;
  const v = value;
  if (!p.startsWith('*.')) return p.toLowerCase() === v.toLowerCase();
  const suffix = p.slice(1).toLowerCase();
  const lv = v.toLowerCase();
  return lv.length > suffix.length && lv.endsWith(suffix) && !lv.slice(0, lv.length - suffix.length).includes('.') && !lv.includes(':');
}

function subjectString(subject: Record<string, unknown> | undefined): string {
  if (!subject) return '';
  return Object.entries(subject)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(',');
}

export function certInfo(peer: DetailedPeerCertificate): ClientCertInfo {
  const cn = (peer.subject as { CN?: string | string[] } | undefined)?.CN;
  return {
    subject: subjectString(peer.subject as unknown as Record<string, unknown>),
    sans: renderSans(peer.subjectaltname),
    ...(cn !== undefined ? { cn: Array.isArray(cn) ? cn[0]! : cn } : {}),
    fingerprint: peer.fingerprint256 ?? '',
  };
}

/** OpenSSL's verdict on the peer chain (Node keeps it on the native handle). */
function verifyError(socket: TLSSocket): { code?: string; message: string } | null | undefined {
  const handle = (socket as unknown as { _handle?: { verifyError?: () => { code?: string; message: string } | null } })._handle;
  if (!handle || typeof handle.verifyError !== 'function') return undefined;
  return handle.verifyError();
}

export function checkClientCertificate(socket: TLSSocket, auth: ClientAuthIR): ClientCertVerdict {
  const v = verdict(socket, auth);
  // AllowInsecureFallback (Gateway spec.tls.frontend): the connection goes on, but a certificate
  // that failed is not reported as verified (no `cert`, so the socket is not marked authorized).
  if (auth.mode === 'InsecureFallback' && !v.ok) return { ok: true, ...(v.error !== undefined ? { untrusted: v.error } : {}) };
  return v;
}

function verdict(socket: TLSSocket, auth: ClientAuthIR): ClientCertVerdict {
  const peer = socket.getPeerCertificate(true);
  const present = peer !== null && typeof peer === 'object' && peer.raw !== undefined;
  if (!present) {
    if (auth.mode === 'Mutual') return { ok: false, error: 'no client certificate' };
    return { ok: true };
  }
  const cert = certInfo(peer);
  const ve = verifyError(socket);
  if (ve === undefined) return { ok: false, error: 'cannot read the certificate verification result', cert };
  if (ve !== null) return { ok: false, error: `client certificate not trusted: ${ve.code ?? ve.message}`, cert };
  // Certificates above the leaf in the verified chain (1 = issued directly by a trusted CA).
  let depth = 0;
  let c: DetailedPeerCertificate | undefined = peer;
  const seen = new Set<string>();
  while (c && c.issuerCertificate && c.issuerCertificate !== c && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    depth++;
    c = c.issuerCertificate;
    if (depth > 20) break;
  }
  if (depth > auth.verifyDepth) return { ok: false, error: `client certificate chain depth ${depth} exceeds verifyDepth ${auth.verifyDepth}`, cert };
  if (auth.allowedSans.length && !cert.sans.some((s) => auth.allowedSans.some((p) => patternMatches(p, s)))) {
    return { ok: false, error: `no SAN of the client certificate (${cert.sans.join(', ') || 'none'}) is in allowedSans`, cert };
  }
  if (auth.allowedCns.length && !(cert.cn !== undefined && auth.allowedCns.some((p) => patternMatches(p, cert.cn!)))) {
    return { ok: false, error: `client certificate CN ${cert.cn ?? '(none)'} is not in allowedCns`, cert };
  }
  return { ok: true, cert };
}
