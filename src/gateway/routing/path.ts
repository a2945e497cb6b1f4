// Request path normalisation for matching, and path templates with `:param` segments (an Edgion
// extension: `/users/:id`, `::` escapes a literal colon).

/**
 * The path used for matching: query removed, consecutive slashes merged, dot segments resolved.
 * The upstream still receives the client's own path unless a filter rewrites it.
 */
export function normalizePath(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  let p = q === -1 ? rawUrl : rawUrl.slice(0, q);
  if (p.charCodeAt(0) !== 47 /* / */) {
    // absolute-form (http://host/path) or asterisk-form
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*(\/.*)?$/.exec(p);
    p = m ? (m[1] ?? '/') : '/' + p;
  }
  if (p.indexOf('//') === -1 && p.indexOf('/.') === -1) return p;
  const out: string[] = [];
  const parts = p.split('/');
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i]!;
    if (seg === '' && i < parts.length - 1) continue; // merged slash
    if (seg === '.') continue;
    if (seg === '..') {
      out.pop();
      continue;
    }
    out.push(seg);
  }
  const last = parts[parts.length - 1];
  let joined = '/' + out.join('/');
  if ((last === '.' || last === '..') && joined !== '/') joined += '/';
  return joined;
}

export function queryString(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  return q === -1 ? '' : rawUrl.slice(q + 1);
}

export interface PathTemplate {
  /** Literal length, used for precedence ("parameters count as their literal length"). */
  length: number;
  segments: ({ literal: string } | { param: string })[];
  /** Exact: the whole path; prefix: a whole-segment prefix. */
  prefix: boolean;
}

export function hasParams(value: string): boolean {
  return /(^|\/):[A-Za-z_]/.test(value);
}

export function compileTemplate(value: string, prefix: boolean): PathTemplate {
  const segments = value
    .split('/')
    .slice(1)
    .map((s) => {
      if (s.startsWith('::')) return { literal: s.slice(1) };
      if (s.startsWith(':') && s.length > 1) return { param: s.slice(1) };
      return { literal: s };
    });
  // A trailing slash on a prefix template does not add a segment.
  if (prefix && segments.length > 1 && 'literal' in segments[segments.length - 1]! && (segments[segments.length - 1] as { literal: string }).literal === '') {
    segments.pop();
  }
  return { length: value.length, segments, prefix };
}

/** Matches a template against a normalised path; returns the captured parameters or undefined. */
export function matchTemplate(t: PathTemplate, path: string): Record<string, string> | undefined {
  const parts = path.split('/');
  // parts[0] is '' (leading slash)
  const n = parts.length - 1;
  if (t.prefix ? n < t.segments.length : n !== t.segments.length) {
    // `/a/` (n=2, last '') matches exact `/a/` only; prefix `/a` matches `/a`
    return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < t.segments.length; i++) {
    const seg = t.segments[i]!;
    const got = parts[i + 1]!;
    if ('param' in seg) {
      if (got === '') return undefined;
      params[seg.param] = decodeSegment(got);
    } else if (seg.literal !== got) {
      return undefined;
    }
  }
  return params;
}

function decodeSegment(s: string): string {
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** PathPrefix semantics on whole segments: `/foo` matches `/foo`, `/foo/`, `/foo/bar`, not `/foobar`. */
export function prefixMatches(prefixKey: string, path: string): boolean {
  if (prefixKey === '') return true;
  if (!path.startsWith(prefixKey)) return false;
  return path.length === prefixKey.length || path.charCodeAt(prefixKey.length) === 47;
}

/** `/foo/` and `/foo` are the same prefix; `/` is the empty key. */
export function prefixKey(value: string): string {
  let v = value;
  while (v.length > 0 && v.charCodeAt(v.length - 1) === 47) v = v.slice(0, -1);
  return v;
}
