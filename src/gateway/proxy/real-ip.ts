// The real client address (resources.md §12): when the TCP peer is a trusted proxy, the
// configured header is read right to left and the first untrusted address wins; malformed
// entries are skipped; if every entry is trusted, the peer address is used.

import { rightmostUntrusted } from '../../shared/net.js';
import type { ListenerSettings } from '../compile/runtime.js';
import type { RequestContext } from './context.js';

export { rightmostUntrusted };

export function resolveRealIp(ctx: RequestContext, s: ListenerSettings): string {
  const peer = ctx.clientAddr;
  if (s.trustedProxies.size === 0 || !s.trustedProxies.has(peer)) return peer;
  const header = s.realIpHeader === 'x-forwarded-for' ? ctx.xff : ctx.header(s.realIpHeader);
  if (!header) return peer;
  return rightmostUntrusted(header, s.trustedProxies) ?? peer;
}
