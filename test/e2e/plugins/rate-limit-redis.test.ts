// RateLimitRedis end to end against a private redis-server: the three algorithms, several
// policies, cost, key layout and truncation, headers, a missing LinkSys, and Redis down or slow
// with onRedisFailure Allow and Deny.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { awayFromWindowEnd, pluginsYaml, redisBinary, routeYaml, sleep, startRedis, type RedisServer } from '../../helpers/traffic.js';

const missing = !redisBinary();
if (missing && process.env.CI) throw new Error('redis-server is required in CI');
const skip = missing ? 'redis-server is not installed' : false;

let e: Edgion;
let a: EchoServer;
let redis: RedisServer;
let probe: Redis;
let port: number;
const HOUR = 3_600_000;

const rlr = (config: Record<string, unknown>) => [{ type: 'RateLimitRedis', config: { redisRef: 'default/main-redis', key: [{ type: 'header', name: 'x-user' }], ...config } }];

before(async () => {
  if (skip) return;
  redis = await startRedis();
  probe = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  a = await startEcho('a');
  port = await freePort();
  const svc = [{ name: 'svc-a', port: a.port }];
  const link = `apiVersion: edgion.io/v1
kind: LinkSys
metadata: { name: main-redis, namespace: default }
spec:
  type: redis
  config:
    endpoints: ["redis://127.0.0.1:${redis.port}"]
    db: 0
    timeout: { connect: 500, read: 300, write: 300 }
`;
  e = await Edgion.start({
    workers: 2,
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('svc-a', a.port), link].join('---\n'),
      'plugins.yaml': [
        pluginsYaml('sw', { request: rlr({ policies: [{ rate: 3, interval: '1h' }] }) }),
        pluginsYaml('fw', { request: rlr({ policies: [{ rate: 2, interval: '1h', algorithm: 'FixedWindow' }], keyPrefix: 'test:fw:' }) }),
        pluginsYaml('tb', { request: rlr({ policies: [{ rate: 2, interval: '4s', algorithm: 'TokenBucket' }] }) }),
        pluginsYaml('multi', { request: rlr({ policies: [{ rate: 100, interval: '1h', algorithm: 'FixedWindow' }, { rate: 3, interval: '1h', algorithm: 'FixedWindow' }], keyPrefix: 'multi:', standardHeaders: 'Draft8' }) }),
        pluginsYaml('cost', { request: rlr({ policies: [{ rate: 5, interval: '1h', algorithm: 'FixedWindow' }], cost: 2, keyPrefix: 'cost:', maxKeyLen: 64, headerNames: { remaining: 'X-Left' } }) }),
        pluginsYaml('allow', { request: rlr({ policies: [{ rate: 1000, interval: '1h' }], keyPrefix: 'allow:' }) }),
        pluginsYaml('deny', { request: rlr({ policies: [{ rate: 1000, interval: '1h' }], keyPrefix: 'deny:', onRedisFailure: 'Deny' }) }),
        pluginsYaml('nolink', { request: rlr({ redisRef: 'default/nope', policies: [{ rate: 1, interval: '1s' }] }) }),
        pluginsYaml('bad', { request: rlr({ policies: [{ rate: 1, interval: '50ms' }], keyPrefix: 'no-colon' }) }),
      ].join('---\n'),
      'routes.yaml': ['sw', 'fw', 'tb', 'multi', 'cost', 'allow', 'deny', 'nolink', 'bad'].map((n) => routeYaml(n, `${n}.test`, n, svc)).join('---\n'),
    },
  });
  await awayFromWindowEnd(HOUR, 60_000);
});

after(async () => {
  if (skip) return;
  probe?.disconnect();
  await e?.stop();
  await a?.close();
  await redis?.stop();
});

const get = (host: string, user?: string) => request({ port, host, path: '/', ...(user ? { headers: { 'x-user': user } } : {}) });

test('SlidingWindow (default): rate per interval across workers, headers, JSON rejection', { skip }, async () => {
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await get('sw.test', 'alice')).status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const ok = await get('sw.test', 'bob');
  assert.equal(ok.headers['x-ratelimit-limit'], '3');
  assert.equal(ok.headers['x-ratelimit-remaining'], '2');
  assert.equal(ok.headers['x-ratelimit-reset'], String((Date.now() - (Date.now() % HOUR) + HOUR) / 1000));
  const r = await get('sw.test', 'alice');
  assert.equal(r.status, 429);
  assert.deepEqual(r.json, { message: 'Rate limit exceeded' });
  assert.equal(r.headers['retry-after'], '3600');
  assert.equal(r.headers['x-ratelimit-remaining'], '0');
  const wid = Math.floor(Date.now() / HOUR);
  await probe.connect().catch(() => undefined);
  assert.equal(await probe.get(`edgion:rl:sw:0:alice:${wid}`), '3', 'refused requests consume nothing');
});

test('FixedWindow with a custom keyPrefix; the key expires with the window', { skip }, async () => {
  assert.deepEqual([(await get('fw.test', 'carol')).status, (await get('fw.test', 'carol')).status, (await get('fw.test', 'carol')).status], [200, 200, 429]);
  const key = `test:fw:fw:0:carol:${Math.floor(Date.now() / HOUR)}`;
  assert.equal(await probe.get(key), '2');
  const ttl = await probe.pttl(key);
  assert.ok(ttl > 0 && ttl <= HOUR, `ttl ${ttl}`);
});

test('TokenBucket refills rate tokens per interval', { skip }, async () => {
  assert.deepEqual([(await get('tb.test', 'dan')).status, (await get('tb.test', 'dan')).status, (await get('tb.test', 'dan')).status], [200, 200, 429]);
  // One token comes back every 2 s: slow enough that a loaded machine's request times do not matter.
  await sleep(2200);
  assert.equal((await get('tb.test', 'dan')).status, 200, 'one token back after half the interval');
  assert.equal((await get('tb.test', 'dan')).status, 429);
});

test('several policies: the most restrictive decides and reports its headers', { skip }, async () => {
  const r1 = await get('multi.test', 'erin');
  assert.equal(r1.headers['x-ratelimit-limit'], '3');
  assert.equal(r1.headers['x-ratelimit-remaining'], '2');
  // standardHeaders Draft8: every policy in RateLimit-Policy, the deciding one in RateLimit.
  assert.equal(r1.headers['ratelimit-policy'], '"100-in-1h";q=100;w=3600, "3-in-1h";q=3;w=3600');
  assert.match(String(r1.headers['ratelimit']), /^"3-in-1h";r=2;t=\d+$/);
  await get('multi.test', 'erin');
  await get('multi.test', 'erin');
  const r4 = await get('multi.test', 'erin');
  assert.equal(r4.status, 429);
  assert.equal(r4.headers['x-ratelimit-limit'], '3');
  assert.match(String(r4.headers['ratelimit']), /^"3-in-1h";r=0;t=\d+$/);
  const wid = Math.floor(Date.now() / HOUR);
  assert.equal(await probe.get(`multi:fw:0:erin:${wid}`), '3', 'the refused request consumed no policy');
});

test('cost units per request, custom header names, long keys truncated to maxKeyLen', { skip }, async () => {
  const user = 'é'.repeat(40); // 80 bytes of UTF-8
  const r1 = await request({ port, host: 'cost.test', path: '/', headers: { 'x-user': encodeURIComponent(user) } });
  assert.equal(r1.status, 200);
  assert.equal(r1.headers['x-left'], '3');
  assert.equal(r1.headers['x-ratelimit-limit'], undefined);
  assert.equal((await request({ port, host: 'cost.test', path: '/', headers: { 'x-user': encodeURIComponent(user) } })).status, 200);
  assert.equal((await request({ port, host: 'cost.test', path: '/', headers: { 'x-user': encodeURIComponent(user) } })).status, 429);
  const keys = await probe.keys('cost:*');
  assert.equal(keys.length, 1);
  const userPart = keys[0]!.slice('cost:fw:0:'.length, keys[0]!.lastIndexOf(':'));
  assert.equal(Buffer.byteLength(userPart), 64);
});

test('a LinkSys that does not exist: 500 {"message":"Internal rate limiter error"}', { skip }, async () => {
  const r = await get('nolink.test', 'x');
  assert.equal(r.status, 500);
  assert.deepEqual(r.json, { message: 'Internal rate limiter error' });
});

test('a bad config is rejected with paths', { skip }, async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((x: { type: string }) => x.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /config\.keyPrefix/);
});

test('Redis slow (paused) or down: Allow lets requests through, Deny answers 503; it recovers', { skip }, async () => {
  assert.equal((await get('allow.test', 'f')).status, 200);
  assert.equal((await get('deny.test', 'f')).status, 200);
  redis.pause();
  try {
    const t0 = Date.now();
    assert.equal((await get('allow.test', 'f')).status, 200);
    const d = await get('deny.test', 'f');
    assert.equal(d.status, 503);
    assert.deepEqual(d.json, { message: 'Rate limiter unavailable' });
    assert.ok(Date.now() - t0 < 3000, 'a slow Redis costs at most the read timeout');
  } finally {
    redis.resume();
  }
  const redisPort = redis.port;
  await redis.stop();
  for (let i = 0; i < 3; i++) {
    assert.equal((await get('allow.test', 'g')).status, 200);
    assert.equal((await get('deny.test', 'g')).status, 503);
  }
  redis = await startRedis(redisPort);
  probe.disconnect();
  probe = new Redis({ port: redis.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  let back = 0;
  for (let i = 0; i < 60 && back !== 200; i++) {
    await sleep(100);
    back = (await get('deny.test', 'g')).status;
  }
  assert.equal(back, 200, 'the limiter reconnects when Redis is back');
});
