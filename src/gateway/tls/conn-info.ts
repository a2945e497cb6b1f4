// What the TLS listener learned about a connection (SNI, certificate policy, verified client
// certificate), attached to the TLS socket so request guards and the access log can read it. The
// symbol also reaches HTTP/2 requests: their `req.socket` proxy forwards property reads.

import { randomBytes } from 'node:crypto';
import type { ClientCertInfo } from '../stream/stream-observe.js';
import type { TlsPolicy } from '../stream/compile-l4.js';

export const kTlsConn = Symbol.for('edgion.tls-conn');

export interface TlsConnInfo {
  tlsId: string;
  /** The SNI the certificate was chosen for (the fallbackSni when the client sent none). */
  sni: string;
  fallback: boolean;
  policy: TlsPolicy;
  /** securityProtect.requireSniHostMatch of the Gateway that owns the SNI on this port. */
  requireSniHostMatch: boolean;
  clientCert?: ClientCertInfo;
}

export function tlsConnOf(socket: unknown): TlsConnInfo | undefined {
  if (socket === null || typeof socket !== 'object') return undefined;
  return (socket as { [kTlsConn]?: TlsConnInfo })[kTlsConn];
}

/** `%08x-%08x`: low 32 bits of the millisecond clock, 32 random bits (tls.md §3). */
export function newTlsId(): string {
  const t = (Date.now() % 0x100000000).toString(16).padStart(8, '0');
  return `${t}-${randomBytes(4).toString('hex')}`;
}
