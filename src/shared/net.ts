// IP and CIDR helpers on top of node:net.BlockList (fast, handles IPv4/IPv6 and v4-mapped v6).
import net from 'node:net';

export function normalizeIp(ip: string): string {
  // ::ffff:127.0.0.1 is how IPv4 peers appear on dual-stack sockets.
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

export interface CidrList {
  has(ip: string): boolean;
  readonly size: number;
}

/** Builds a matcher from IPs and CIDRs; invalid entries are returned in `invalid`. */
const SEEN_MAX = 4096;

export function cidrList(entries: readonly string[]): CidrList & { invalid: string[] } {
  const list = new net.BlockList();
  const invalid: string[] = [];
  let size = 0;
  for (const raw of entries) {
    const entry = raw.trim();
    const slash = entry.indexOf('/');
    const addr = slash === -1 ? entry : entry.slice(0, slash);
    const family = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : undefined;
    if (!family) {
      invalid.push(raw);
      continue;
    }
    if (slash === -1) {
      list.addAddress(addr, family);
    } else {
      const bits = entry.slice(slash + 1);
      const prefix = Number(bits);
      const max = family === 'ipv4' ? 32 : 128;
      // `10.0.0.0/` must not read as /0 (Number('') is 0): that would match every address.
      if (!/^\d{1,3}$/.test(bits) || prefix > max) {
        invalid.push(raw);
        continue;
      }
      list.addSubnet(addr, prefix, family);
    }
    size++;
  }
  const seen = new Map<string, boolean>();
  return {
    invalid,
    size,
    has(ip: string): boolean {
      if (size === 0) return false;
      // The same few peers ask again and again; BlockList.check crosses into C++ each time.
      let hit = seen.get(ip);
      if (hit === undefined) {
        const a = normalizeIp(ip);
        const family = net.isIPv4(a) ? 'ipv4' : net.isIPv6(a) ? 'ipv6' : undefined;
        hit = family ? list.check(a, family) : false;
        if (seen.size >= SEEN_MAX) seen.clear(); // addresses come from clients: stay bounded
        seen.set(ip, hit);
      }
      return hit;
    },
  };
}

export function isIp(value: string): boolean {
  return net.isIP(value) !== 0;
}

/**
 * Real-IP header scan (resources.md §12, DECISIONS §36): the first address from the right that is
 * not trusted. Entries may carry a port (`1.2.3.4:5`, `[::1]:5`); malformed entries are skipped.
 */
export function rightmostUntrusted(header: string, trusted: { has(ip: string): boolean }): string | undefined {
  let end = header.length;
  while (end > 0) {
    const start = header.lastIndexOf(',', end - 1);
    const candidate = parseForwardedEntry(header.slice(start + 1, end));
    end = start < 0 ? 0 : start;
    if (candidate !== undefined && !trusted.has(candidate)) return candidate;
  }
  return undefined;
}

/** The leftmost well-formed address of a real-IP header (the RealIp plugin's all-trusted case). */
export function leftmostAddress(header: string): string | undefined {
  for (const part of header.split(',')) {
    const a = parseForwardedEntry(part);
    if (a !== undefined) return a;
  }
  return undefined;
}

/** One entry of X-Forwarded-For or a similar header: the address without port, or undefined. */
export function parseForwardedEntry(entry: string): string | undefined {
  let candidate = entry.trim();
  if (candidate.startsWith('[')) candidate = candidate.slice(1, candidate.indexOf(']') === -1 ? undefined : candidate.indexOf(']'));
  else if (candidate.indexOf(':') !== -1 && candidate.indexOf(':') === candidate.lastIndexOf(':')) candidate = candidate.slice(0, candidate.indexOf(':'));
  return net.isIP(candidate) === 0 ? undefined : normalizeIp(candidate);
}
