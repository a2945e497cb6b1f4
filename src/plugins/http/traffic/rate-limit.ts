// RateLimit (plugins.md §4.14): fixed windows aligned to the epoch (DECISIONS.md §32), counted
// gateway-wide (the primary's store, lent to workers in small batches) in a count-min sketch of
// `estimatorSlotsK` thousand slots, so memory is bounded whatever the number of keys.
import { Type } from 'typebox';
import { createHash } from 'node:crypto';
import { definePlugin, type CounterResult, type PluginProblem, type PluginReply, type PluginSession } from '../../runtime/define-plugin.js';
import { keyGetProblems } from '../../runtime/key-get.js';
import { CommonLimitFields, compileKey, DurationSchema, limitHeadersFor, parseDurationMs, rejectReply } from './limit-common.js';

const Schema = Type.Object({
  rate: Type.Integer({ minimum: 1, description: 'requests per interval' }),
  interval: Type.Optional(DurationSchema),
  ...CommonLimitFields,
  scope: Type.Union([Type.Literal('Instance'), Type.Literal('Cluster')], { default: 'Instance' }),
  skewTolerance: Type.Number({ default: 1.2 }),
  estimatorSlotsK: Type.Integer({ minimum: 1, maximum: 1024, default: 64, description: 'count-min sketch width in thousands of slots' }),
});

/** Gateway instances sharing a Cluster-scope limit (one in standalone mode). */
export const GATEWAY_INSTANCES = 1;

/** The per-gateway limit: Cluster scope divides the rate between gateway instances. */
export function effectiveLimit(rate: number, scope: string, skewTolerance: number, instances = GATEWAY_INSTANCES): number {
  if (scope !== 'Cluster' || instances <= 1) return rate;
  const skew = Math.min(2, Math.max(1, skewTolerance));
  return Math.ceil((rate * skew) / instances);
}

export const RateLimit = definePlugin({
  type: 'RateLimit',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    if (c.interval !== undefined && parseDurationMs(c.interval) === undefined) {
      out.push({ path: 'interval', message: `"${String(c.interval)}" is not a duration (use a number with ms, s, m, h or d, e.g. "1s", "500ms", "1m")` });
    }
    c.key.forEach((k, i) => out.push(...keyGetProblems(k, `key[${i}]`)));
    return out;
  },
  create(c, deps) {
    const windowMs = parseDurationMs(c.interval ?? '1s') ?? 1000;
    const limit = effectiveLimit(c.rate, c.scope, c.skewTolerance);
    const keyOf = compileKey(c.key, c.defaultKey);
    const sketch = deps.id ?? `RateLimit|${deps.namespace}|${createHash('sha1').update(JSON.stringify(c)).digest('hex')}`;
    const opts = { sketch, slotsK: c.estimatorSlotsK };
    const retryAfterS = Math.max(1, Math.ceil(windowMs / 1000));
    const headers = limitHeadersFor(c, [{ limit, windowMs }], deps.now);
    const reject = { status: c.rejectStatus, message: c.rejectMessage, headers, retryAfterS, error: 'RateLimited' };
    const denyMissing = { ...reject, retryAfterS: 0, error: 'RateLimitKeyMissing' };

    const decide = (s: PluginSession, r: CounterResult): PluginReply | undefined => {
      if (!r.allowed) {
        s.log(`limited: ${r.count}/${limit}`);
        return rejectReply(reject, { limit, remaining: r.remaining, resetAt: r.resetAt }, deps.now());
      }
      headers?.set(s, limit, r.remaining, r.resetAt);
      return undefined;
    };
    const withKey = (s: PluginSession, key: string | undefined): PluginReply | undefined | Promise<PluginReply | undefined> => {
      if (key === undefined) {
        if (c.onMissingKey === 'Allow') return undefined;
        s.log('no key: denied');
        const now = deps.now();
        return rejectReply(denyMissing, { limit, remaining: 0, resetAt: now - (now % windowMs) + windowMs }, now);
      }
      const r = deps.counters.take(key, 1, limit, windowMs, opts);
      if (r instanceof Promise) return r.then((v) => decide(s, v));
      return decide(s, r);
    };
    return {
      onRequest(s) {
        const key = keyOf(s);
        if (key instanceof Promise) return key.then((k) => withKey(s, k));
        return withKey(s, key);
      },
    };
  },
});
