// Host lookup: exact names first, then wildcards (`*.example.com`, longest suffix first), then the
// catch-all. The first level that has an entry for the host is used exclusively (a more specific
// hostname owns the request even when none of its routes match the path), as Edgion, Envoy-based
// gateways and the Gateway API hostname precedence do.

export class HostIndex<T> {
  private readonly exact = new Map<string, T>();
  private wildcards: { suffix: string; value: T }[] = [];
  private any: T | undefined;

  /** `name` is lower-case: an exact host, `*.suffix`, or `*` for any host. */
  getOrCreate(name: string, create: () => T): T {
    if (name === '*' || name === '') {
      this.any ??= create();
      return this.any;
    }
    if (name.startsWith('*.')) {
      const suffix = name.slice(1);
      let w = this.wildcards.find((x) => x.suffix === suffix);
      if (!w) {
        w = { suffix, value: create() };
        this.wildcards.push(w);
        this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
      }
      return w.value;
    }
    let v = this.exact.get(name);
    if (v === undefined) {
      v = create();
      this.exact.set(name, v);
    }
    return v;
  }

  lookup(host: string): T | undefined {
    const e = this.exact.get(host);
    if (e !== undefined) return e;
    for (const w of this.wildcards) {
      if (host.length > w.suffix.length && host.endsWith(w.suffix)) return w.value;
    }
    return this.any;
  }

  values(): T[] {
    const out = [...this.exact.values(), ...this.wildcards.map((w) => w.value)];
    if (this.any !== undefined) out.push(this.any);
    return out;
  }

  get size(): number {
    return this.exact.size + this.wildcards.length + (this.any === undefined ? 0 : 1);
  }
}

/** Host header → lookup key: lower-case, port and trailing dot removed. Fast path for the common case. */
export function normalizeHost(raw: string): string {
  let h = raw;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']');
    return (end === -1 ? h : h.slice(0, end + 1)).toLowerCase();
  }
  const colon = h.indexOf(':');
  if (colon !== -1) h = h.slice(0, colon);
  if (h.charCodeAt(h.length - 1) === 46 /* . */) h = h.slice(0, -1);
  return h.toLowerCase();
}

/** Does a listener/route hostname (exact, `*.suffix` or undefined = any) cover this host? */
export function hostnameMatches(pattern: string | undefined, host: string): boolean {
  if (!pattern || pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.length > pattern.length - 1 && host.endsWith(pattern.slice(1));
  return pattern === host;
}
