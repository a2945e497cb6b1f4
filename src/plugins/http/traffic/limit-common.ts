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
};

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

/**
 * Limit headers on allowed requests (they reach whatever response the client gets). One per plugin
 * instance: the texts that repeat request after request (the limit, the window's end) are made once.
 */
export class LimitHeaders {
  private limit = -1;
  private limitText = '';
  private resetSec = -1;
  private resetText = '';

  constructor(private readonly names: HeaderNames) {}

  set(s: PluginSession, limit: number, remaining: number, resetAt: number): void {
    const n = this.names;
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
}

/** The rejection: `rejectStatus`, JSON `{"message"}`, Retry-After and limit headers with remaining 0. */
export function rejectReply(
  o: { status: number; message: string; showHeaders: boolean; names: HeaderNames; retryAfterS: number; error: string },
  st: LimitState | undefined,
  now: number,
): PluginReply {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'retry-after': String(o.retryAfterS) };
  if (o.showHeaders && st !== undefined) {
    const n = o.names;
    if (n.limit) headers[n.limit] = String(st.limit);
    if (n.remaining) headers[n.remaining] = '0';
    if (n.reset) headers[n.reset] = String(Math.ceil(st.resetAt / 1000));
    if (n.retryIn) headers[n.retryIn] = formatRetryIn(Math.max(0, st.resetAt - now));
  }
  return { status: o.status, headers, body: JSON.stringify({ message: o.message }), error: o.error };
}
