// Path + conditions matching for one host, in the Gateway API precedence of DECISIONS.md §2:
// Exact paths, then RegularExpression paths (longest pattern first), then PathPrefix (longest first,
// whole segments). Among equal paths: a method match wins, then more header matches, then more
// query matches, then the oldest route, then `namespace/name`, then rule and match order.
// Everything here is built once per snapshot; lookups do map gets and short scans, no allocation
// unless a path template captures parameters.

import { compileTemplate, hasParams, matchTemplate, prefixKey, type PathTemplate } from './path.js';

export interface MatchRequest {
  readonly method: string;
  /** Lower-cased name; multiple values joined with ", ". */
  header(name: string): string | undefined;
  /** First value, URL-decoded. */
  query(name: string): string | undefined;
}

export interface ValueMatcher {
  name: string;
  exact?: string;
  regex?: RegExp;
}

export interface RouteEntryInput<R> {
  rule: R;
  routeOrder: number;
  routeKey: string;
  ruleIndex: number;
  matchIndex: number;
  path: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string; regex?: RegExp };
  method?: string;
  headers: ValueMatcher[];
  query: ValueMatcher[];
}

interface Entry<R> extends RouteEntryInput<R> {
  template?: PathTemplate;
  /** Sort key for the path category (literal or pattern length). */
  pathLength: number;
}

export interface RouteHit<R> {
  rule: R;
  matchIndex: number;
  /** The matched path prefix (PathPrefix), for ReplacePrefixMatch. */
  matchedPrefix?: string;
  params?: Record<string, string>;
}

function matches(v: ValueMatcher, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  return v.regex ? v.regex.test(actual) : actual === v.exact;
}

function conditionsHold<R>(e: Entry<R>, req: MatchRequest): boolean {
  if (e.method !== undefined && e.method !== req.method) return false;
  for (let i = 0; i < e.headers.length; i++) {
    const h = e.headers[i]!;
    if (!matches(h, req.header(h.name))) return false;
  }
  for (let i = 0; i < e.query.length; i++) {
    const q = e.query[i]!;
    if (!matches(q, req.query(q.name))) return false;
  }
  return true;
}

/** Tie-breakers among candidates of equal path precedence. */
function compareEqualPaths<R>(a: Entry<R>, b: Entry<R>): number {
  return (
    Number(b.method !== undefined) - Number(a.method !== undefined) ||
    b.headers.length - a.headers.length ||
    b.query.length - a.query.length ||
    a.routeOrder - b.routeOrder ||
    (a.routeKey < b.routeKey ? -1 : a.routeKey > b.routeKey ? 1 : 0) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

const byLengthThenEqual = <R>(a: Entry<R>, b: Entry<R>): number => b.pathLength - a.pathLength || compareEqualPaths(a, b);

export class RouteTable<R> {
  private readonly exact = new Map<string, Entry<R>[]>();
  private readonly exactTemplates: Entry<R>[] = [];
  private readonly regex: Entry<R>[] = [];
  private readonly prefix = new Map<string, Entry<R>[]>();
  private readonly prefixTemplates: Entry<R>[] = [];
  private entries = 0;

  add(input: RouteEntryInput<R>): void {
    const e: Entry<R> = { ...input, pathLength: input.path.value.length };
    this.entries++;
    const { type, value } = input.path;
    if (type === 'RegularExpression') {
      this.regex.push(e);
    } else if (hasParams(value)) {
      e.template = compileTemplate(value, type === 'PathPrefix');
      (type === 'Exact' ? this.exactTemplates : this.prefixTemplates).push(e);
    } else if (type === 'Exact') {
      push(this.exact, value, e);
    } else {
      const key = prefixKey(value);
      e.pathLength = key.length;
      push(this.prefix, key, e);
    }
  }

  /** Sorts every bucket once the table is complete. */
  finalize(): this {
    for (const list of this.exact.values()) list.sort(compareEqualPaths);
    for (const list of this.prefix.values()) list.sort(compareEqualPaths);
    this.exactTemplates.sort(byLengthThenEqual);
    this.regex.sort(byLengthThenEqual);
    this.prefixTemplates.sort(byLengthThenEqual);
    return this;
  }

  get size(): number {
    return this.entries;
  }

  /** `path` is normalised (see normalizePath). */
  match(path: string, req: MatchRequest): RouteHit<R> | undefined {
    const exact = this.exact.get(path);
    if (exact !== undefined) {
      for (const e of exact) if (conditionsHold(e, req)) return { rule: e.rule, matchIndex: e.matchIndex };
    }
    for (const e of this.exactTemplates) {
      const params = matchTemplate(e.template!, path);
      if (params && conditionsHold(e, req)) return { rule: e.rule, matchIndex: e.matchIndex, params };
    }
    for (const e of this.regex) {
      if (e.path.regex!.test(path) && conditionsHold(e, req)) return { rule: e.rule, matchIndex: e.matchIndex };
    }
    return this.matchPrefix(path, req);
  }

  private matchPrefix(path: string, req: MatchRequest): RouteHit<R> | undefined {
    const templates = this.prefixTemplates;
    let t = 0;
    // Candidate keys: the path itself (without trailing slashes), then each ancestor, then ''.
    let key = prefixKey(path);
    for (;;) {
      while (t < templates.length && templates[t]!.pathLength > key.length) {
        const hit = this.tryTemplate(templates[t]!, path, req);
        if (hit) return hit;
        t++;
      }
      const bucket = this.prefix.get(key);
      if (bucket !== undefined) {
        for (const e of bucket) if (conditionsHold(e, req)) return { rule: e.rule, matchIndex: e.matchIndex, matchedPrefix: key };
      }
      if (key === '') break;
      key = key.slice(0, key.lastIndexOf('/'));
    }
    for (; t < templates.length; t++) {
      const hit = this.tryTemplate(templates[t]!, path, req);
      if (hit) return hit;
    }
    return undefined;
  }

  private tryTemplate(e: Entry<R>, path: string, req: MatchRequest): RouteHit<R> | undefined {
    const params = matchTemplate(e.template!, path);
    if (!params || !conditionsHold(e, req)) return undefined;
    // The matched prefix is as many request segments as the template has.
    const parts = path.split('/');
    const matchedPrefix = parts.slice(0, e.template!.segments.length + 1).join('/');
    return { rule: e.rule, matchIndex: e.matchIndex, params, matchedPrefix };
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
