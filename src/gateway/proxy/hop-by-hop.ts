// Headers that describe one connection, not the message: never forwarded in either direction
// (RFC 9110 §7.6.1). `expect` is answered by the gateway itself; `host` is set explicitly.
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Extra header names a `Connection: a, b` header marks as hop-by-hop for this message. */
export function connectionTokens(value: string | undefined): string[] | undefined {
  if (!value || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return undefined;
  const out: string[] = [];
  for (const t of value.split(',')) {
    const n = t.trim().toLowerCase();
    if (n && n !== 'close' && n !== 'keep-alive' && n !== 'upgrade') out.push(n);
  }
  return out.length ? out : undefined;
}
