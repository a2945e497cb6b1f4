// CORS decisions shared by the Cors plugin (plugins.md §4.10) and the Gateway API HTTPRoute `CORS`
// filter (HTTPCORSFilter). Everything that does not depend on the request is compiled once
// (origin sets, anchored patterns, header values); a request only looks up.
//
// Origin entries:
//   `*`                         any origin (echoed as `*`, or as the origin when `starWithCredentials`)
//   `**`                        any origin, always echoed (also with credentials)
//   `https://app.example.com`   exact origin (scheme, host and port compared case-insensitively)
//   `*.corp.test`               any scheme (http/https), any subdomain of corp.test
//   `https://*.corp.test[:p]`   that scheme (and port), any subdomain of corp.test
// Regexes (allowOriginsByRegex) are anchored: the whole origin must match.

import type { PluginReply } from '../../runtime/define-plugin.js';
import { compileUserRegex } from '../../../shared/regex.js';

/** What the CORS code needs from a request (a PluginSession satisfies it). */
export interface CorsRequest {
  readonly method: string;
  header(name: string): string | undefined;
  setResponseHeader(name: string, value: string): void;
  appendResponseHeader(name: string, value: string): void;
}

export interface CorsSpec {
  origins: readonly string[];
  originRegexes?: readonly string[];
  /** Method list; `reflectMethods` echoes Access-Control-Request-Method instead. */
  methods: readonly string[];
  reflectMethods?: boolean;
  /** Header list; `reflectHeaders` echoes Access-Control-Request-Headers instead. */
  headers: readonly string[];
  reflectHeaders?: boolean;
  expose: readonly string[];
  credentials: boolean;
  maxAge?: number;
  preflightContinue?: boolean;
  privateNetwork?: boolean;
  timingOrigins?: readonly string[];
  timingOriginRegexes?: readonly string[];
  /** `*` with credentials echoes the origin (Gateway API) instead of `*`. */
  starWithCredentials?: boolean;
}

const LABELS = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i;
const ORIGIN = /^([a-z][a-z0-9+.-]*):\/\/(\[[0-9a-f:.]+\]|[^/:?#@\s]+)(?::(\d{1,5}))?$/i;

/** Splits a comma list (`a, b,,c`) into trimmed non-empty entries. */
export function splitList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/** Why an origin entry can never match, or undefined when it is well formed. */
export function originEntryProblem(entry: string): string | undefined {
  if (entry === '*' || entry === '**') return undefined;
  if (entry.startsWith('*.')) {
    return HOST.test(entry.slice(2)) ? undefined : `"${entry}" is not a valid "*.domain" pattern`;
  }
  const m = ORIGIN.exec(entry);
  if (!m) {
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/]+\/.*/i.test(entry)) return `"${entry}" is not an origin: an origin has no path (remove the trailing "${entry.slice(entry.indexOf('/', entry.indexOf('//') + 2))}")`;
    return `"${entry}" is not an origin (expected scheme://host[:port], "*.domain", "*" or "**")`;
  }
  const host = m[2]!;
  if (host.startsWith('*.')) {
    if (!HOST.test(host.slice(2))) return `"${entry}" has an invalid wildcard host`;
  } else if (host.includes('*')) {
    return `"${entry}": a wildcard is only allowed as the leftmost label ("https://*.example.com")`;
  } else if (!host.startsWith('[') && !HOST.test(host)) {
    return `"${entry}" has an invalid host`;
  }
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return `"${entry}" has an invalid port`;
  return undefined;
}

/** An anchored regex for a wildcard entry (`*.corp.test`, `https://*.corp.test:8443`). */
function wildcardRegex(entry: string): RegExp {
  if (entry.startsWith('*.')) return new RegExp(`^https?://${LABELS}\\.${escapeRe(entry.slice(2).toLowerCase())}$`);
  const m = ORIGIN.exec(entry)!;
  const port = m[3] !== undefined ? `:${m[3]}` : '';
  return new RegExp(`^${escapeRe(m[1]!.toLowerCase())}://${LABELS}\\.${escapeRe(m[2]!.slice(2).toLowerCase())}${escapeRe(port)}$`);
}

/** Compiles a user regex so that it must match the whole origin. */
export function anchoredRegex(pattern: string): RegExp {
  const ci = pattern.startsWith('(?i)');
  const body = ci ? pattern.slice(4) : pattern;
  return compileUserRegex(`${ci ? '(?i)' : ''}^(?:${body})$`);
}

class OriginMatcher {
  readonly any: boolean;
  readonly reflectAny: boolean;
  private readonly exact = new Set<string>();
  private readonly patterns: RegExp[] = [];

  constructor(entries: readonly string[], regexes: readonly string[]) {
    let any = false;
    let reflect = false;
    for (const e of entries) {
      if (e === '*') any = true;
      else if (e === '**') reflect = true;
      else if (e.includes('*')) this.patterns.push(wildcardRegex(e));
      else this.exact.add(e.toLowerCase());
    }
    for (const r of regexes) this.patterns.push(anchoredRegex(r));
    this.any = any;
    this.reflectAny = reflect;
  }

  get empty(): boolean {
    return !this.any && !this.reflectAny && this.exact.size === 0 && this.patterns.length === 0;
  }

  /** `lower` is the lower-cased origin; patterns are tried on both spellings. */
  matches(origin: string, lower: string): boolean {
    if (this.any || this.reflectAny || this.exact.has(lower)) return true;
    for (const p of this.patterns) if (p.test(lower) || p.test(origin)) return true;
    return false;
  }
}

export class CorsPolicy {
  private readonly origins: OriginMatcher;
  private readonly timing: OriginMatcher | undefined;
  private readonly methods: string;
  private readonly headers: string;
  private readonly expose: string;
  private readonly vary: boolean;

  constructor(private readonly spec: CorsSpec) {
    this.origins = new OriginMatcher(spec.origins, spec.originRegexes ?? []);
    const timing = new OriginMatcher(spec.timingOrigins ?? [], spec.timingOriginRegexes ?? []);
    this.timing = timing.empty ? undefined : timing;
    this.methods = spec.methods.join(',');
    this.headers = spec.headers.join(',');
    this.expose = spec.expose.join(',');
    // Only a response that is the same for every origin may omit Vary: Origin.
    const sameForAll = this.origins.any && !this.origins.reflectAny && !(spec.credentials && spec.starWithCredentials);
    this.vary = !sameForAll || (this.timing !== undefined && !(this.timing.any && !this.timing.reflectAny));
  }

  /** Is this request a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method)? */
  static isPreflight(r: CorsRequest): boolean {
    return r.method === 'OPTIONS' && r.header('origin') !== undefined && r.header('access-control-request-method') !== undefined;
  }

  /**
   * Applies the policy: sets response headers for actual requests (and continued preflights), or
   * returns the preflight answer. Requests without Origin are left alone.
   */
  handle(r: CorsRequest): PluginReply | undefined {
    const origin = r.header('origin');
    if (origin === undefined || origin === '') return undefined;
    const preflight = r.method === 'OPTIONS' && r.header('access-control-request-method') !== undefined;
    const answer = preflight && !this.spec.preflightContinue;
    const headers: Record<string, string> = {};
    const lower = origin.toLowerCase();
    const allowed = lower !== 'null' && this.origins.matches(origin, lower);
    if (allowed) this.corsHeaders(r, origin, preflight, headers);
    if (this.vary) headers.vary = 'Origin';
    if (this.timing !== undefined && lower !== 'null' && this.timing.matches(origin, lower)) {
      headers['timing-allow-origin'] = this.timing.any && !this.timing.reflectAny ? '*' : origin;
    }
    if (answer) return { status: 200, headers, body: '' };
    for (const [k, v] of Object.entries(headers)) {
      if (k === 'vary') r.appendResponseHeader(k, v);
      else r.setResponseHeader(k, v);
    }
    return undefined;
  }

  private corsHeaders(r: CorsRequest, origin: string, preflight: boolean, out: Record<string, string>): void {
    const s = this.spec;
    const star = this.origins.any && !this.origins.reflectAny && !(s.credentials && s.starWithCredentials);
    out['access-control-allow-origin'] = star ? '*' : origin;
    const methods = s.reflectMethods ? (r.header('access-control-request-method') ?? '').trim() || this.methods : this.methods;
    if (methods) out['access-control-allow-methods'] = methods;
    const headers = s.reflectHeaders ? (r.header('access-control-request-headers') ?? '').trim() : this.headers;
    if (headers) out['access-control-allow-headers'] = headers;
    if (this.expose) out['access-control-expose-headers'] = this.expose;
    if (s.credentials) out['access-control-allow-credentials'] = 'true';
    if (preflight) {
      if (s.maxAge !== undefined) out['access-control-max-age'] = String(s.maxAge);
      if (s.privateNetwork && (r.header('access-control-request-private-network') ?? '').toLowerCase() === 'true') {
        out['access-control-allow-private-network'] = 'true';
      }
    }
  }
}
