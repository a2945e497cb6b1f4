// Request guards (run once the listener is known, before routing) for TLS and ACME:
//  - HTTPS: the connection's TLS facts reach the request (SNI, tls_id, client certificate); with
//    `securityProtect.requireSniHostMatch` (default on) a request whose Host differs from the SNI
//    is answered 421 (tls.md §3); with `edgion.io/expose-client-cert` the verified client
//    certificate goes upstream as X-Client-Cert-Dn / -San / -Fingerprint (client copies removed).
//  - HTTP: ACME HTTP-01 challenges of EdgionAcme resources are answered (tls.md §7.3).

import type { RequestContext } from '../proxy/context.js';
import type { Reply } from '../pipeline/steps.js';
import type { GatewayRuntime } from '../compile/runtime.js';
import type { L4Runtime } from '../stream/compile-l4.js';
import { tlsConnOf, type TlsConnInfo } from './conn-info.js';
import { errorBodyText } from '../proxy/status-text.js';

export const CLIENT_CERT_HEADERS = { dn: 'x-client-cert-dn', san: 'x-client-cert-san', fingerprint: 'x-client-cert-fingerprint' } as const;

const ACME_PREFIX = '/.well-known/acme-challenge/';

export function tlsGuard(ctx: RequestContext): Reply | undefined {
  if (!ctx.tls) return undefined;
  const info = tlsConnOf(ctx.req.socket);
  if (info !== undefined) {
    ctx.sni = info.sni;
    ctx.tlsId = info.tlsId;
    if (info.policy.exposeClientCert) {
      const h = ctx.upHeaders;
      h.remove(CLIENT_CERT_HEADERS.dn);
      h.remove(CLIENT_CERT_HEADERS.san);
      h.remove(CLIENT_CERT_HEADERS.fingerprint);
      const c = info.clientCert;
      if (c !== undefined) {
        h.set(CLIENT_CERT_HEADERS.dn, c.subject);
        h.set(CLIENT_CERT_HEADERS.san, c.sans.join(','));
        h.set(CLIENT_CERT_HEADERS.fingerprint, c.fingerprint);
        ctx.clientCertJson = JSON.stringify(c);
      }
    }
  }
  return misdirected(ctx, info);
}

/** 421 when the connection's Gateway requires the Host to be the SNI and it is not. */
function misdirected(ctx: RequestContext, info: TlsConnInfo | undefined): Reply | undefined {
  const required = info?.requireSniHostMatch ?? ctx.listener?.settings.requireSniHostMatch ?? true;
  if (!required || ctx.sni === undefined || ctx.sni === ctx.host) return undefined;
  return { status: 421, body: errorBodyText(421, `the request is for ${ctx.host} but the TLS connection was made for ${ctx.sni}`), error: 'SniHostMismatch' };
}

/** No listener of the port accepts the Host: on TLS a Host that is not the SNI is misdirected (421), not unknown. */
export function unmatchedHostGuard(ctx: RequestContext): Reply | undefined {
  if (!ctx.tls) return undefined;
  const info = tlsConnOf(ctx.req.socket);
  if (info !== undefined) ctx.sni = info.sni;
  return misdirected(ctx, info);
}

/** HTTP-01: `GET /.well-known/acme-challenge/<token>` for the challenge's domain, before routing. */
export function acmeChallengeGuard(l4: (rt: GatewayRuntime) => L4Runtime): (ctx: RequestContext) => Reply | undefined {
  return (ctx) => {
    if (ctx.tls || !ctx.path.startsWith(ACME_PREFIX)) return undefined;
    const list = l4(ctx.runtime).challenges.get(ctx.path.slice(ACME_PREFIX.length));
    if (list === undefined) return undefined;
    const now = Date.now() / 1000;
    const gw = ctx.listener?.gateway.key;
    const c = list.find((x) => x.domain === ctx.host && x.expireAt > now && (x.gateway === undefined || x.gateway === gw));
    if (c === undefined) return undefined;
    return { status: 200, headers: { 'content-type': 'text/plain' }, body: c.keyAuthorization };
  };
}
