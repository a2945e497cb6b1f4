// The real client address (resources.md §12): when the TCP peer is a trusted proxy, the
// configured header is read right to left and the first untrusted address wins; malformed
// entries are skipped; if every entry is trusted, the peer address is used.

import { isIP } from 'node:net';
import type { ListenerSettings } from '../compile/runtime.js';
import type { RequestContext } from './context.js';

export function resolveRealIp(ctx: RequestContext, s: ListenerSettings): string {
  const peer = ctx.clientAddr;
  if (s.trustedProxies.size === 0 || !s.trustedProxies.has(peer)) return peer;
  const header = s.realIpHeader === 'x-forwarded-for' ? ctx.xff : ctx.header(s.realIpHeader);
  if (!header) return peer;
  return rightmostUntrusted(header, s.trustedProxies) ?? peer;
}

export function rightmostUntrusted(header: string, trusted: { has(ip: string): boolean }): string | undefined {
  let end = header.length;
  while (end > 0) {
    const start = header.lastIndexOf(',', end - 1);
    let candidate = header.slice(start + 1, end).trim();
    end = start < 0 ? 0 : start;
    if (candidate.startsWith('[')) candidate = candidate.slice(1, candidate.indexOf(']') === -1 ? undefined : candidate.indexOf(']'));
    else if (candidate.indexOf(':') !== -1 && candidate.indexOf(':') === candidate.lastIndexOf(':')) candidate = candidate.slice(0, candidate.indexOf(':'));
    if (isIP(candidate) === 0) continue;
    if (!trusted.has(candidate)) return candidate;
  }
  return undefined;
}
