// RealIp (plugins.md §4.22, DECISIONS §36): recomputes the request's real client IP for this
// route. When the TCP peer is trusted, the header (X-Forwarded-For by default) is scanned right to
// left and the first untrusted address wins; malformed entries are skipped; when every address is
// trusted the leftmost one is the client; when none is well formed (or the header is absent, or the
// peer is not trusted) the peer is the client. The result goes to session.setRemoteIp, so later
// plugins (`clientIp` keys, IpRestriction, rate limits), the X-Real-IP header sent upstream and the
// access log's `remote-addr` all use it.
import { Type } from 'typebox';
import { cidrList, leftmostAddress, rightmostUntrusted } from '../../../shared/net.js';
import { definePlugin } from '../../runtime/define-plugin.js';
import { headerName } from './common.js';

const Schema = Type.Object(
  {
    trustedIps: Type.Array(Type.String(), { default: [], description: 'IPs and CIDRs of trusted proxies; invalid entries are skipped (with a warning)' }),
    realIpHeader: headerName({ default: 'X-Forwarded-For' }),
    recursive: Type.Boolean({ default: true, description: 'accepted for compatibility; the scan is always recursive' }),
  },
);

export const RealIp = definePlugin({
  type: 'RealIp',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const { invalid } = cidrList(c.trustedIps);
    return invalid.map((x) => ({ path: `trustedIps[${c.trustedIps.indexOf(x)}]`, message: `"${x}" is not an IP address or CIDR; it is ignored`, severity: 'warning' as const }));
  },
  create(c) {
    const trusted = cidrList(c.trustedIps);
    const header = c.realIpHeader.toLowerCase();
    return {
      onRequest(s) {
        const peer = s.peerIp;
        let ip = peer;
        if (trusted.has(peer)) {
          const value = s.header(header);
          if (value) ip = rightmostUntrusted(value, trusted) ?? leftmostAddress(value) ?? peer;
        }
        s.setRemoteIp(ip);
        if (ip !== peer) s.log(`real ip ${ip}`);
      },
    };
  },
});
