import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { RateLimitRedis, truncateUtf8 } from '../../../src/plugins/http/traffic/rate-limit-redis.js';
import { openRedisClients, redisConfigProblems } from '../../../src/plugins/http/traffic/redis-clients.js';
import type { PluginReply } from '../../../src/plugins/runtime/define-plugin.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from '../../helpers/traffic.js';

const reg = builtinRegistry();
const validate = (config: unknown) => reg.validateEntry('requestPlugins', { type: 'RateLimitRedis', config });
const base = { redisRef: 'infra/main-redis', policies: [{ rate: 10, interval: '1s' }] };

test('schema: defaults, policies, prefix, interval minimum, maxKeyLen range', () => {
  const { problems, config } = validate(base);
  assert.deepEqual(problems, []);
  assert.deepEqual(config, {
    redisRef: 'infra/main-redis',
    policies: [{ rate: 10, interval: '1s', algorithm: 'SlidingWindow' }],
    key: [],
    onMissingKey: 'Allow',
    rejectStatus: 429,
    rejectMessage: 'Rate limit exceeded',
    showLimitHeaders: true,
    keyPrefix: 'edgion:rl:',
    onRedisFailure: 'Allow',
    cost: 1,
    maxKeyLen: 4096,
  });
  assert.equal(validate({ ...base, policies: [] }).problems[0]!.path, 'config.policies');
  assert.equal(validate({ ...base, policies: Array.from({ length: 11 }, () => ({ rate: 1, interval: '1s' })) }).problems[0]!.path, 'config.policies');
  assert.equal(validate({ ...base, policies: [{ rate: 1, interval: '50ms' }] }).problems[0]!.path, 'config.policies[0].interval');
  assert.equal(validate({ ...base, policies: [{ rate: 1, interval: '1s', algorithm: 'Leaky' }] }).problems[0]!.path.startsWith('config.policies'), true);
  assert.equal(validate({ ...base, keyPrefix: 'nocolon' }).problems[0]!.path, 'config.keyPrefix');
  assert.equal(validate({ ...base, maxKeyLen: 10 }).problems[0]!.path, 'config.maxKeyLen');
  assert.equal(validate({ ...base, cost: 0 }).problems[0]!.path, 'config.cost');
  assert.deepEqual(RateLimitRedis.linkSysRefs!(validate(base).config as never), ['infra/main-redis']);
});

test('keys are truncated at a UTF-8 boundary', () => {
  assert.equal(truncateUtf8('abc', 64), 'abc');
  const s = 'é'.repeat(40);
  const t = truncateUtf8(s, 65);
  assert.equal(Buffer.byteLength(t), 64);
  assert.equal(t, 'é'.repeat(32));
});

test('a missing or wrong LinkSys answers 500 {"message":"Internal rate limiter error"}', () => {
  const cfg = validate(base).config as never;
  const links: Record<string, { type: string; config: Record<string, unknown> }>[] = [{}, { 'infra/main-redis': { type: 'webhook', config: {} } }, { 'infra/main-redis': { type: 'redis', config: {} } }];
  for (const linkSys of links) {
    const inst = RateLimitRedis.create(cfg, fakeDeps({ linkSys }));
    const r = inst.onRequest!(new FakeSession()) as PluginReply;
    assert.equal(r.status, 500);
    assert.equal(r.body, '{"message":"Internal rate limiter error"}');
  }
  assert.deepEqual(redisConfigProblems({ endpoints: ['redis://127.0.0.1:6379'] }), []);
  assert.match(redisConfigProblems({ topology: { mode: 'sentinel' } }).join(), /masterName/);
});

test('one client per LinkSys per process, closed when the last instance is retired', async () => {
  const linkSys = { 'infra/main-redis': { type: 'redis', config: { endpoints: ['redis://127.0.0.1:1'], timeout: { connect: 50 } } } };
  const before = openRedisClients();
  const a = RateLimitRedis.create(validate({ ...base, defaultKey: 'k' }).config as never, fakeDeps({ linkSys }));
  const b = RateLimitRedis.create(validate({ ...base, keyPrefix: 'b:' }).config as never, fakeDeps({ linkSys }));
  assert.equal(openRedisClients(), before + 1);
  // Redis is unreachable: the default onRedisFailure Allow lets the request through.
  assert.equal(await a.onRequest!(new FakeSession({ headers: {} })), undefined);
  await a.close!();
  assert.equal(openRedisClients(), before + 1);
  await b.close!();
  assert.equal(openRedisClients(), before);
});
