// RateLimitRedis (plugins.md §4.15): limits shared by every gateway through Redis. Up to 10
// policies (SlidingWindow — the default —, FixedWindow, TokenBucket) are checked and consumed in
// one Lua script, atomically: a request is admitted only if every policy admits it, and then
// consumes `cost` from each (a refused request consumes nothing). The most restrictive policy
// answers the headers. Windows are aligned to the epoch (DECISIONS.md §32).
import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginReply, type PluginSession } from '../../runtime/define-plugin.js';
import { keyGetProblems } from '../../runtime/key-get.js';
import { CommonLimitFields, compileKey, DurationSchema, limitHeadersFor, parseDurationMs, rejectReply } from './limit-common.js';
import { acquireRedis, redisConfigProblems, type RedisClient, type RedisLinkConfig } from './redis-clients.js';

const Policy = Type.Object({
  rate: Type.Integer({ minimum: 1 }),
  interval: DurationSchema,
  algorithm: Type.Union([Type.Literal('SlidingWindow'), Type.Literal('FixedWindow'), Type.Literal('TokenBucket')], { default: 'SlidingWindow' }),
});

const Schema = Type.Object({
  redisRef: Type.String({ minLength: 1, description: '"namespace/name" of a LinkSys with type: redis' }),
  policies: Type.Array(Policy, { minItems: 1, maxItems: 10 }),
  ...CommonLimitFields,
  keyPrefix: Type.String({ default: 'edgion:rl:', pattern: ':$' }),
  onRedisFailure: Type.Union([Type.Literal('Allow'), Type.Literal('Deny')], { default: 'Allow' }),
  cost: Type.Integer({ minimum: 1, default: 1 }),
  maxKeyLen: Type.Integer({ minimum: 64, maximum: 65536, default: 4096 }),
});

// ARGV: now, cost, n, then per policy: algorithm (1 sw, 2 fw, 3 tb), rate, interval ms.
// KEYS: per policy: sw → current and previous window; fw → window; tb → bucket.
// Returns: allowed, then per policy: ok, remaining, resetAt (epoch ms).
const SCRIPT = `
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local allowed = 1
local ki = 1
local st = {}
for i = 1, n do
  local b = 3 + (i - 1) * 3
  local alg = tonumber(ARGV[b + 1])
  local rate = tonumber(ARGV[b + 2])
  local interval = tonumber(ARGV[b + 3])
  local ok, used, reset, tokens
  if alg == 1 then
    local cur = tonumber(redis.call('GET', KEYS[ki]) or '0')
    local prev = tonumber(redis.call('GET', KEYS[ki + 1]) or '0')
    local elapsed = now % interval
    used = math.floor(prev * (interval - elapsed) / interval) + cur
    ok = used + cost <= rate
    reset = now - elapsed + interval
    st[i] = { alg, ki, ok, used, reset, interval, rate }
    ki = ki + 2
  elseif alg == 2 then
    used = tonumber(redis.call('GET', KEYS[ki]) or '0')
    ok = used + cost <= rate
    reset = now - (now % interval) + interval
    st[i] = { alg, ki, ok, used, reset, interval, rate }
    ki = ki + 1
  else
    local h = redis.call('HMGET', KEYS[ki], 'tokens', 'ts')
    tokens = tonumber(h[1])
    local ts = tonumber(h[2])
    if tokens == nil or ts == nil then tokens = rate; ts = now end
    if now > ts then tokens = math.min(rate, tokens + (now - ts) * rate / interval) end
    ok = tokens >= cost
    local left = tokens
    if ok then left = tokens - cost end
    used = rate - left
    if ok then
      reset = now + math.ceil((rate - left) * interval / rate)
    else
      reset = now + math.ceil((cost - tokens) * interval / rate)
    end
    st[i] = { alg, ki, ok, used, reset, interval, rate, tokens }
    ki = ki + 1
  end
  if not ok then allowed = 0 end
end
local out = { allowed }
for i = 1, n do
  local s = st[i]
  local alg, k, ok, used, reset, interval, rate = s[1], s[2], s[3], s[4], s[5], s[6], s[7]
  local remaining
  if alg == 3 then
    if allowed == 1 then
      redis.call('HSET', KEYS[k], 'tokens', tostring(s[8] - cost), 'ts', tostring(now))
      redis.call('PEXPIRE', KEYS[k], interval * 2)
      remaining = math.floor(s[8] - cost)
    else
      remaining = math.floor(s[8])
      if not ok then remaining = 0 end
    end
  else
    if allowed == 1 then
      redis.call('INCRBY', KEYS[k], cost)
      if alg == 1 then redis.call('PEXPIRE', KEYS[k], interval * 2) else redis.call('PEXPIRE', KEYS[k], interval) end
      used = used + cost
    end
    remaining = rate - used
    if remaining < 0 or not ok then remaining = 0 end
  end
  out[#out + 1] = ok and 1 or 0
  out[#out + 1] = remaining
  out[#out + 1] = reset
end
return out
`;

const ALG = { SlidingWindow: 1, FixedWindow: 2, TokenBucket: 3 } as const;
const TAG = { SlidingWindow: 'sw', FixedWindow: 'fw', TokenBucket: 'tb' } as const;

/** Cuts `s` to at most `max` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, max: number): string {
  if (s.length * 3 <= max) return s;
  const b = Buffer.from(s);
  if (b.length <= max) return s;
  let end = max;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}

type RedisWithScript = RedisClient & { edgionRateLimit(numKeys: number, ...args: (string | number)[]): Promise<number[]> };

export const RateLimitRedis = definePlugin({
  type: 'RateLimitRedis',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    c.policies.forEach((p, i) => {
      const ms = parseDurationMs(p.interval);
      if (ms === undefined) out.push({ path: `policies[${i}].interval`, message: `"${String(p.interval)}" is not a duration (use e.g. "1s", "500ms", "1m")` });
      else if (ms < 100) out.push({ path: `policies[${i}].interval`, message: `${ms} ms is under the minimum of 100ms` });
    });
    if (!/^[^/\s]+\/[^/\s]+$/.test(c.redisRef) && !/^[^/\s]+$/.test(c.redisRef)) out.push({ path: 'redisRef', message: `"${c.redisRef}" is not "namespace/name" of a LinkSys` });
    c.key.forEach((k, i) => out.push(...keyGetProblems(k, `key[${i}]`)));
    return out;
  },
  linkSysRefs: (c) => [c.redisRef],
  create(c, deps) {
    const ref = c.redisRef.includes('/') ? c.redisRef : `${deps.namespace}/${c.redisRef}`;
    const link = deps.linkSys[ref];
    const keyOf = compileKey(c.key, c.defaultKey);
    const policies = c.policies.map((p, i) => ({ i, rate: p.rate, ms: parseDurationMs(p.interval) ?? 1000, alg: p.algorithm }));
    const limitHeaders = limitHeadersFor(c, policies.map((p) => ({ limit: p.rate, windowMs: p.ms })), deps.now);
    const internalError: PluginReply = { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'Internal rate limiter error' }), error: 'RateLimitRedisConfig' };

    let problem: string | undefined;
    if (link === undefined) problem = `LinkSys ${ref} does not exist`;
    else if (link.type !== 'redis') problem = `LinkSys ${ref} has type ${link.type}, not redis`;
    else {
      const p = redisConfigProblems(link.config as RedisLinkConfig);
      if (p.length) problem = `LinkSys ${ref}: ${p.join('; ')}`;
    }
    if (problem !== undefined) {
      deps.log.error({ redisRef: ref }, `RateLimitRedis cannot work: ${problem}; requests get 500`);
      return { onRequest: () => internalError };
    }
    const cfg = link!.config as RedisLinkConfig;
    const cluster = cfg.topology?.mode === 'cluster';
    const { client, release } = acquireRedis(ref, cfg, (err) => deps.log.warn({ redisRef: ref, err: err.message }, `Redis ${ref}: ${err.message}`));
    const redis = client as RedisWithScript;
    if (typeof redis.edgionRateLimit !== 'function') redis.defineCommand('edgionRateLimit', { lua: SCRIPT });

    const failure = (s: PluginSession, err: unknown): PluginReply | undefined => {
      s.log(`redis failure: ${(err as Error)?.message ?? String(err)}`);
      if (c.onRedisFailure === 'Allow') return undefined;
      return { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '1' }, body: JSON.stringify({ message: 'Rate limiter unavailable' }), error: 'RateLimitRedisUnavailable' };
    };

    const check = async (s: PluginSession, rawKey: string): Promise<PluginReply | undefined> => {
      const now = deps.now();
      const key = truncateUtf8(rawKey, c.maxKeyLen);
      const k = cluster ? `{${key}}` : key;
      const keys: string[] = [];
      const args: (string | number)[] = [now, c.cost, policies.length];
      for (const p of policies) {
        const base = `${c.keyPrefix}${TAG[p.alg]}:${p.i}:${k}`;
        const wid = Math.floor(now / p.ms);
        if (p.alg === 'SlidingWindow') keys.push(`${base}:${wid}`, `${base}:${wid - 1}`);
        else if (p.alg === 'FixedWindow') keys.push(`${base}:${wid}`);
        else keys.push(base);
        args.push(ALG[p.alg], p.rate, p.ms);
      }
      let r: number[];
      try {
        r = await redis.edgionRateLimit(keys.length, ...keys, ...args);
      } catch (err) {
        return failure(s, err);
      }
      const allowed = r[0] === 1;
      // The deciding policy: when refused, the refusing one that frees up last; else the one with the fewest left.
      let pick = -1;
      for (let i = 0; i < policies.length; i++) {
        const ok = r[1 + i * 3] === 1;
        const remaining = r[2 + i * 3]!;
        const reset = r[3 + i * 3]!;
        if (pick === -1) {
          if (allowed || !ok) pick = i;
          continue;
        }
        const pRemaining = r[2 + pick * 3]!;
        const pReset = r[3 + pick * 3]!;
        if (allowed ? remaining < pRemaining || (remaining === pRemaining && reset > pReset) : !ok && reset > pReset) pick = i;
      }
      const p = policies[pick]!;
      const st = { limit: p.rate, remaining: r[2 + pick * 3]!, resetAt: r[3 + pick * 3]! };
      if (!allowed) {
        s.log(`limited by policy ${p.i}`);
        const retryMs = p.alg === 'TokenBucket' ? st.resetAt - now : p.ms;
        return rejectReply({ status: c.rejectStatus, message: c.rejectMessage, headers: limitHeaders, retryAfterS: Math.max(1, Math.ceil(retryMs / 1000)), error: 'RateLimited' }, st, now, pick);
      }
      limitHeaders?.set(s, st.limit, st.remaining, st.resetAt, pick);
      return undefined;
    };
    const withKey = (s: PluginSession, key: string | undefined): PluginReply | undefined | Promise<PluginReply | undefined> => {
      if (key === undefined) {
        if (c.onMissingKey === 'Allow') return undefined;
        s.log('no key: denied');
        const now = deps.now();
        const p = policies[0]!;
        return rejectReply(
          { status: c.rejectStatus, message: c.rejectMessage, headers: limitHeaders, retryAfterS: 0, error: 'RateLimitKeyMissing' },
          { limit: p.rate, remaining: 0, resetAt: now - (now % p.ms) + p.ms },
          now,
        );
      }
      return check(s, key);
    };
    return {
      onRequest(s) {
        const key = keyOf(s);
        if (key instanceof Promise) return key.then((k) => withKey(s, k));
        return withKey(s, key);
      },
      close() {
        release();
      },
    };
  },
});
