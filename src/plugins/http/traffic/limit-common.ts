// What RateLimit and RateLimitRedis share: durations, the key, the headers and the rejection.
import { Type } from 'typebox';
import type { PluginReply, PluginSession } from '../../runtime/define-plugin.js';
import { compileKeyGet, KeyGetSchema, type KeyGet, type WebhookResolver } from '../../runtime/key-get.js';

const UNITS: Record<string, number> = {
  ms: 1,
  msec: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** `1s`, `500ms`, `1m`, `2 hours`, `1.5s`, bare number = seconds. Undefined when unparsable. */
export function parseDurationMs(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  const mult = unit === '' ? 1000 : UNITS[unit];
  if (mult === undefined) return undefined;
  const ms = Math.round(Number(m[1]) * mult);
  return ms > 0 ? ms : undefined;
}

export const DurationSchema = Type.Union([Type.String({ minLength: 1 }), Type.Number({ exclusiveMinimum: 0 })], {
  description: 'duration: ms, s, m, h, d (or their long names); a bare number is seconds',
});

export const HeaderNamesSchema = Type.Object({
  limit: Type.Optional(Type.String({ minLength: 1 })),
  remaining: Type.Optional(Type.String({ minLength: 1 })),
  reset: Type.Optional(Type.String({ minLength: 1 })),
  retryIn: Type.Optional(Type.String({ minLength: 1 })),
});

/** Fields RateLimit and RateLimitRedis have in common. */
export const CommonLimitFields = {
  key: Type.Array(KeyGetSchema, { default: [] }),
  onMissingKey: Type.Union([Type.Literal('Allow'), Type.Literal('Deny')], { default: 'Allow' }),
  defaultKey: Type.Optional(Type.String()),
  rejectStatus: Type.Integer({ minimum: 400, maximum: 599, default: 429 }),
  rejectMessage: Type.String({ default: 'Rate limit exceeded' }),
  showLimitHeaders: Type.Boolean({ default: true }),
  headerNames: Type.Optional(HeaderNamesSchema),
  // Extensions (not in the original): the IETF RateLimit header fields, and a way to drop X-RateLimit-*.
  standardHeaders: Type.Optional(
    Type.Union([Type.Literal('Off'), Type.Literal('Draft6'), Type.Literal('Draft7'), Type.Literal('Draft8')], {
      description: 'also send the IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers) in this version',
    }),
  ),
  legacyHeaders: Type.Optional(Type.Boolean({ description: 'send X-RateLimit-* (or the headerNames); default true' })),
};

export type StandardHeadersMode = 'Off' | 'Draft6' | 'Draft7' | 'Draft8';

/** The header settings of a RateLimit or RateLimitRedis config. */
export interface LimitHeaderConfig {
  showLimitHeaders: boolean;
  headerNames?: HeaderNames | undefined;
  standardHeaders?: StandardHeadersMode | undefined;
  legacyHeaders?: boolean | undefined;
}

export interface HeaderNames {
  limit?: string | undefined;
  remaining?: string | undefined;
  reset?: string | undefined;
  retryIn?: string | undefined;
}

/** The header names in use: the custom ones only, when `headerNames` is given. */
export function resolveHeaderNames(h: HeaderNames | undefined): HeaderNames {
  if (h === undefined) return { limit: 'x-ratelimit-limit', remaining: 'x-ratelimit-remaining', reset: 'x-ratelimit-reset' };
  return {
    ...(h.limit ? { limit: h.limit.toLowerCase() } : {}),
    ...(h.remaining ? { remaining: h.remaining.toLowerCase() } : {}),
    ...(h.reset ? { reset: h.reset.toLowerCase() } : {}),
    ...(h.retryIn ? { retryIn: h.retryIn.toLowerCase() } : {}),
  };
}

/** `1.0s`, `500ms`, `2.5s`. */
export function formatRetryIn(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * The request's key: the values of the present keys joined with `_`, else `defaultKey`, else
 * undefined. Async only when a key is (webhook).
 */
export function compileKey(keys: KeyGet[], defaultKey: string | undefined, webhook?: WebhookResolver): (s: PluginSession) => string | undefined | Promise<string | undefined> {
  const getters = keys.map((k) => compileKeyGet(k, webhook));
  const dflt = defaultKey === '' ? undefined : defaultKey;
  if (getters.length === 0) return () => dflt;
  if (getters.length === 1) {
    // The usual case (one key): no per-request arrays.
    const g = getters[0]!;
    const one = (v: string | undefined): string | undefined => (v === undefined || v === '' ? dflt : v);
    return (s) => {
      const v = g(s);
      return typeof v === 'object' ? v.then(one) : one(v);
    };
  }
  return (s) => {
    const values: (string | undefined | Promise<string | undefined>)[] = getters.map((g) => g(s));
    if (values.some((v) => typeof v === 'object')) {
      return Promise.all(values).then((vs) => join(vs, dflt));
    }
    return join(values as (string | undefined)[], dflt);
  };
}

function join(values: (string | undefined)[], dflt: string | undefined): string | undefined {
  let out: string | undefined;
  for (const v of values) {
    if (v === undefined || v === '') continue;
    out = out === undefined ? v : `${out}_${v}`;
  }
  return out ?? dflt;
}

export interface LimitState {
  limit: number;
  remaining: number;
  /** Epoch ms of the window's end (or when the next unit is available). */
  resetAt: number;
}

/** One quota of a limit: `limit` requests per `windowMs`. */
export interface LimitPolicy {
  limit: number;
  windowMs: number;
}

/** Where limit headers go: the response of an allowed request (the session), or a rejection's headers. */
interface HeaderSink {
  setResponseHeader(name: string, value: string): void;
}

/** `1s`, `90s`, `5m`, `2h`, `1d`, `500ms`: a window as a policy name shows it. */
function windowText(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers), in the three versions
 * clients implement (named as express-rate-limit names them):
 * - Draft6: `RateLimit-Policy: 100;w=60`, `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds left);
 * - Draft7: `RateLimit-Policy: 100;w=60`, `RateLimit: limit=100, remaining=99, reset=60`;
 * - Draft8: `RateLimit-Policy: "100-in-1m";q=100;w=60`, `RateLimit: "100-in-1m";r=99;t=60`.
 * RateLimit-Policy lists every policy of the plugin; the other fields describe the deciding one.
 */
export class StandardLimitHeaders {
  /** The RateLimit-Policy value, made once. */
  readonly policy: string;
  private readonly names: string[];

  constructor(
    readonly mode: Exclude<StandardHeadersMode, 'Off'>,
    private readonly policies: readonly LimitPolicy[],
  ) {
    const w = (p: LimitPolicy) => Math.max(1, Math.ceil(p.windowMs / 1000));
    this.names = policies.map((p) => `"${p.limit}-in-${windowText(p.windowMs)}"`);
    this.policy = policies.map((p, i) => (mode === 'Draft8' ? `${this.names[i]};q=${p.limit};w=${w(p)}` : `${p.limit};w=${w(p)}`)).join(', ');
  }

  put(out: HeaderSink, pick: number, remaining: number, resetAt: number, now: number): void {
    const limit = this.policies[pick]!.limit;
    const r = Math.max(0, remaining);
    const t = Math.max(0, Math.ceil((resetAt - now) / 1000));
    out.setResponseHeader('ratelimit-policy', this.policy);
    if (this.mode === 'Draft6') {
      out.setResponseHeader('ratelimit-limit', String(limit));
      out.setResponseHeader('ratelimit-remaining', String(r));
      out.setResponseHeader('ratelimit-reset', String(t));
    } else if (this.mode === 'Draft7') {
      out.setResponseHeader('ratelimit', `limit=${limit}, remaining=${r}, reset=${t}`);
    } else {
      out.setResponseHeader('ratelimit', `${this.names[pick]};r=${r};t=${t}`);
    }
  }
}

/**
 * A plugin instance's limit headers: X-RateLimit-* (or the `headerNames`) and, when asked for, the
 * standard fields. Undefined when no header is to be sent. The texts that repeat request after
 * request (the limit, the window's end) are made once.
 */
export function limitHeadersFor(c: LimitHeaderConfig, policies: readonly LimitPolicy[], now: () => number): LimitHeaders | undefined {
  if (!c.showLimitHeaders) return undefined;
  const names = c.legacyHeaders === false ? undefined : resolveHeaderNames(c.headerNames);
  const mode = c.standardHeaders ?? 'Off';
  const standard = mode === 'Off' ? undefined : new StandardLimitHeaders(mode, policies);
  return names || standard ? new LimitHeaders(names, standard, now) : undefined;
}

export class LimitHeaders {
  private limit = -1;
  private limitText = '';
  private resetSec = -1;
  private resetText = '';

  constructor(
    private readonly names: HeaderNames | undefined,
    private readonly standard: StandardLimitHeaders | undefined,
    private readonly now: () => number,
  ) {}

  /** On an allowed request; `pick` is the deciding policy (RateLimitRedis has several). */
  set(s: PluginSession, limit: number, remaining: number, resetAt: number, pick = 0): void {
    const n = this.names;
    if (n !== undefined) {
      if (n.limit) {
        if (limit !== this.limit) {
          this.limit = limit;
          this.limitText = String(limit);
        }
        s.setResponseHeader(n.limit, this.limitText);
      }
      if (n.remaining) s.setResponseHeader(n.remaining, String(Math.max(0, remaining)));
      if (n.reset) {
        const sec = Math.ceil(resetAt / 1000);
        if (sec !== this.resetSec) {
          this.resetSec = sec;
          this.resetText = String(sec);
        }
        s.setResponseHeader(n.reset, this.resetText);
      }
    }
    this.standard?.put(s, pick, remaining, resetAt, this.now());
  }

  /** On a rejection: remaining 0, and `retryIn` when named. */
  reject(headers: Record<string, string>, st: LimitState, now: number, pick = 0): void {
    const n = this.names;
    if (n !== undefined) {
      if (n.limit) headers[n.limit] = String(st.limit);
      if (n.remaining) headers[n.remaining] = '0';
      if (n.reset) headers[n.reset] = String(Math.ceil(st.resetAt / 1000));
      if (n.retryIn) headers[n.retryIn] = formatRetryIn(Math.max(0, st.resetAt - now));
    }
    this.standard?.put({ setResponseHeader: (name, value) => (headers[name] = value) }, pick, 0, st.resetAt, now);
  }
}

/** The rejection: `rejectStatus`, JSON `{"message"}`, Retry-After and the limit headers with remaining 0. */
export function rejectReply(
  o: { status: number; message: string; headers: LimitHeaders | undefined; retryAfterS: number; error: string },
  st: LimitState | undefined,
  now: number,
  pick = 0,
): PluginReply {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'retry-after': String(o.retryAfterS) };
  if (st !== undefined) o.headers?.reject(headers, st, now, pick);
  return { status: o.status, headers, body: JSON.stringify({ message: o.message }), error: o.error };
}
