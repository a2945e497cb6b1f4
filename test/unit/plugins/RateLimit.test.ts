// RateLimit: schema defaults and errors, handler decisions, the counter store (count-min sketch,
// memory bound) and the worker-side lease client (batches, exhaustion, coalescing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { RateLimit, effectiveLimit } from '../../../src/plugins/http/traffic/rate-limit.js';
import { parseDurationMs } from '../../../src/plugins/http/traffic/limit-common.js';
import { LocalCounters } from '../../../src/gateway/plugins-engine/local-counters.js';
import { ClusterCounters, answerLeases, batchFor, sliceFor, type LeaseRequest, type LeaseRequests } from '../../../src/gateway/plugins-engine/cluster-counters.js';
import type { PluginReply } from '../../../src/plugins/runtime/define-plugin.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from '../../helpers/traffic.js';

/** One instant for the counting tests: takes that straddled a window's end would count in two windows. */
const FIXED = () => 1_000_000_000_500;
/** Plugin deps whose counters and clock stand at FIXED. */
const fixedDeps = (over: Parameters<typeof fakeDeps>[0] = {}) => fakeDeps({ counters: new LocalCounters(FIXED), now: FIXED, ...over });

const reg = builtinRegistry();
const validate = (config: unknown) => reg.validateEntry('requestPlugins', { type: 'RateLimit', config });

test('defaults are applied', () => {
  const { problems, config } = validate({ rate: 5 });
  assert.deepEqual(problems, []);
  assert.deepEqual(config, { rate: 5, key: [], onMissingKey: 'Allow', rejectStatus: 429, rejectMessage: 'Rate limit exceeded', showLimitHeaders: true, scope: 'Instance', skewTolerance: 1.2, estimatorSlotsK: 64 });
});

test('bad configs are rejected with the path a user sees', () => {
  const missing = validate({}).problems[0]!;
  assert.match(`${missing.path} ${missing.message}`, /rate/);
  assert.equal(validate({ rate: 0 }).problems[0]!.path, 'config.rate');
  const iv = validate({ rate: 1, interval: 'fast' }).problems[0]!;
  assert.equal(iv.path, 'config.interval');
  assert.match(iv.message, /not a duration/);
  assert.equal(validate({ rate: 1, key: [{ type: 'header' }] }).problems[0]!.path, 'config.key[0].name');
  assert.equal(validate({ rate: 1, estimatorSlotsK: 2048 }).problems[0]!.path, 'config.estimatorSlotsK');
  assert.equal(validate({ rate: 1, onMissingKey: 'Maybe' }).problems[0]!.path, 'config.onMissingKey');
});

test('durations: units, long names, bare numbers are seconds', () => {
  assert.equal(parseDurationMs('500ms'), 500);
  assert.equal(parseDurationMs('2s'), 2000);
  assert.equal(parseDurationMs('1m'), 60_000);
  assert.equal(parseDurationMs('1 hour'), 3_600_000);
  assert.equal(parseDurationMs('1d'), 86_400_000);
  assert.equal(parseDurationMs('1.5s'), 1500);
  assert.equal(parseDurationMs(3), 3000);
  assert.equal(parseDurationMs('10'), 10_000);
  assert.equal(parseDurationMs('0s'), undefined);
  assert.equal(parseDurationMs('1w'), undefined);
});

test('Cluster scope divides the rate between gateway instances (one in standalone mode)', () => {
  assert.equal(effectiveLimit(100, 'Cluster', 1.2, 1), 100);
  assert.equal(effectiveLimit(100, 'Cluster', 1.2, 3), 40);
  assert.equal(effectiveLimit(100, 'Cluster', 5, 4), 50, 'skewTolerance is clamped to 2');
  assert.equal(effectiveLimit(100, 'Instance', 1.2, 4), 100);
});

function plugin(config: Record<string, unknown>, now = () => 1_000_000_000_500) {
  const cfg = validate(config).config as never;
  return { inst: RateLimit.create(cfg, fakeDeps({ counters: new LocalCounters(now), now })), now };
}

test('allows up to rate per window per key, with headers; then rejects with JSON', () => {
  const { inst } = plugin({ rate: 2, interval: '1s', key: [{ type: 'header', name: 'x-user' }] });
  const s1 = new FakeSession({ headers: { 'x-user': 'a' } });
  assert.equal(inst.onRequest!(s1), undefined);
  assert.equal(s1.responseHeaders.get('x-ratelimit-limit'), '2');
  assert.equal(s1.responseHeaders.get('x-ratelimit-remaining'), '1');
  assert.equal(s1.responseHeaders.get('x-ratelimit-reset'), '1000000001');
  assert.equal(inst.onRequest!(new FakeSession({ headers: { 'x-user': 'a' } })), undefined);
  const r = inst.onRequest!(new FakeSession({ headers: { 'x-user': 'a' } })) as PluginReply;
  assert.equal(r.status, 429);
  assert.equal(r.body, '{"message":"Rate limit exceeded"}');
  assert.deepEqual(r.headers, { 'content-type': 'application/json', 'retry-after': '1', 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1000000001' });
  assert.equal(inst.onRequest!(new FakeSession({ headers: { 'x-user': 'b' } })), undefined, 'another key');
});

test('keys: present values joined with _, defaultKey, missing key Allow/Deny', () => {
  const counters = new LocalCounters(FIXED);
  const taken: string[] = [];
  const spy = { take: (k: string, c: number, l: number, w: number) => (taken.push(k), counters.take(k, c, l, w)) };
  const cfg = validate({ rate: 5, key: [{ type: 'header', name: 'x-a' }, { type: 'query', name: 'q' }, { type: 'clientIp' }] }).config as never;
  const inst = RateLimit.create(cfg, fixedDeps({ counters: spy }));
  inst.onRequest!(new FakeSession({ headers: { 'x-a': 'A' }, clientIp: '10.0.0.1' }));
  assert.deepEqual(taken, ['A_10.0.0.1']);
  const none = RateLimit.create(validate({ rate: 1 }).config as never, fixedDeps());
  for (let i = 0; i < 5; i++) assert.equal(none.onRequest!(new FakeSession()), undefined, 'no key: nothing is limited');
  const dflt = RateLimit.create(validate({ rate: 1, defaultKey: 'all' }).config as never, fixedDeps());
  assert.equal(dflt.onRequest!(new FakeSession()), undefined);
  assert.equal((dflt.onRequest!(new FakeSession()) as PluginReply).status, 429);
  const deny = RateLimit.create(validate({ rate: 1, key: [{ type: 'header', name: 'x-k' }], onMissingKey: 'Deny', rejectStatus: 403 }).config as never, fixedDeps());
  const r = deny.onRequest!(new FakeSession()) as PluginReply;
  assert.equal(r.status, 403);
  assert.equal(r.headers!['retry-after'], '0');
});

test('custom headerNames: only the named headers, retryIn on rejection', () => {
  const { inst } = plugin({ rate: 1, interval: '1s', defaultKey: 'k', headerNames: { remaining: 'X-Left', retryIn: 'X-Retry-In' } });
  const s = new FakeSession();
  inst.onRequest!(s);
  assert.deepEqual([...s.responseHeaders.keys()], ['x-left']);
  const r = inst.onRequest!(new FakeSession()) as PluginReply;
  assert.equal(r.headers!['x-retry-in'], '500ms');
  assert.equal(r.headers!['x-left'], '0');
  assert.equal(r.headers!['x-ratelimit-limit'], undefined);
});

test('standardHeaders: the IETF RateLimit fields in each draft version, beside or instead of X-RateLimit-*', () => {
  // now = ...000.500: the 1 s window ends in 0.5 s, so the seconds left round up to 1; a 1 m window ends in 59.5 s.
  const allowed = (config: Record<string, unknown>) => {
    const { inst } = plugin({ defaultKey: 'k', ...config });
    const s = new FakeSession();
    assert.equal(inst.onRequest!(s), undefined);
    return Object.fromEntries(s.responseHeaders);
  };
  assert.deepEqual(allowed({ rate: 100, interval: '1m', standardHeaders: 'Draft6' }), {
    'x-ratelimit-limit': '100',
    'x-ratelimit-remaining': '99',
    'x-ratelimit-reset': '1000000020',
    'ratelimit-policy': '100;w=60',
    'ratelimit-limit': '100',
    'ratelimit-remaining': '99',
    'ratelimit-reset': '20',
  });
  assert.deepEqual(allowed({ rate: 100, interval: '1m', standardHeaders: 'Draft7', legacyHeaders: false }), {
    'ratelimit-policy': '100;w=60',
    ratelimit: 'limit=100, remaining=99, reset=20',
  });
  assert.deepEqual(allowed({ rate: 5, interval: '1s', standardHeaders: 'Draft8', legacyHeaders: false }), {
    'ratelimit-policy': '"5-in-1s";q=5;w=1',
    ratelimit: '"5-in-1s";r=4;t=1',
  });
  assert.deepEqual(allowed({ rate: 5, standardHeaders: 'Off' }), { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset': '1000000001' });
  assert.deepEqual(allowed({ rate: 5, standardHeaders: 'Draft8', showLimitHeaders: false }), {}, 'showLimitHeaders false hides every limit header');
  assert.deepEqual(allowed({ rate: 5, legacyHeaders: false }), {}, 'no family left: no header');

  // A rejection carries them with nothing remaining, besides Retry-After.
  const { inst } = plugin({ rate: 1, interval: '500ms', defaultKey: 'k', standardHeaders: 'Draft8', legacyHeaders: false });
  inst.onRequest!(new FakeSession());
  const r = inst.onRequest!(new FakeSession()) as PluginReply;
  assert.equal(r.status, 429);
  assert.deepEqual(r.headers, { 'content-type': 'application/json', 'retry-after': '1', 'ratelimit-policy': '"1-in-500ms";q=1;w=1', ratelimit: '"1-in-500ms";r=0;t=1' });
  assert.equal(validate({ rate: 1, standardHeaders: 'draft-7' }).problems[0]!.path, 'config.standardHeaders');
});

test('windows are aligned to the epoch', () => {
  let t = 1_000_000_000_900;
  const c = new LocalCounters(() => t);
  assert.equal(c.take('k', 1, 1, 1000).allowed, true);
  assert.equal(c.take('k', 1, 1, 1000).allowed, false);
  t += 100; // a new second begins
  const r = c.take('k', 1, 1, 1000);
  assert.equal(r.allowed, true);
  assert.equal(r.resetAt, 1_000_000_002_000);
});

test('the sketch keeps memory bounded whatever the number of keys and never under-counts', () => {
  const c = new LocalCounters(() => 5_000);
  const opts = { sketch: 'rl', slotsK: 1 };
  for (let i = 0; i < 50_000; i++) c.take(`ip-${i}`, 1, 10, 60_000, opts);
  assert.equal(c.size, 0, 'no exact entries');
  assert.equal(c.sketchBytes, 1000 * 4 * 4);
  // With 50k keys in 1000 slots collisions are everywhere: estimates only go up (refuse early).
  let allowed = 0;
  for (let i = 0; i < 20; i++) if (c.take('hot', 1, 10, 60_000, opts).allowed) allowed++;
  assert.ok(allowed <= 10);
  // A wide sketch is exact enough for a few keys.
  const wide = new LocalCounters(() => 5_000);
  for (let k = 0; k < 100; k++) for (let i = 0; i < 3; i++) assert.equal(wide.take(`u${k}`, 1, 3, 1000, { sketch: 'x', slotsK: 64 }).allowed, true);
  assert.equal(wide.take('u7', 1, 3, 1000, { sketch: 'x', slotsK: 64 }).allowed, false);
});

/** A ClusterCounters wired to a LocalCounters "primary" with a controllable IPC delay; `workers` > 0: with own slices. */
function cluster(store: LocalCounters, workers = 0, now: () => number = FIXED) {
  const sent: LeaseRequest[] = [];
  let client!: ClusterCounters;
  client = new ClusterCounters(
    (m) => {
      sent.push(...m.q);
      setImmediate(() => client.onReplies({ t: 'lease-replies', r: answerLeases(store, m.q) }));
      return true;
    },
    now,
    workers,
  );
  return { client, sent };
}

test('workers borrow batches of 1%: most takes stay local, the global count never exceeds the limit', async () => {
  assert.equal(batchFor(100, 1), 1);
  assert.equal(batchFor(10_000, 1), 100);
  assert.equal(batchFor(1_000_000, 1), 10_000, "1% whatever the limit");
  assert.equal(batchFor(100_000_000, 1), 1_000_000);
  const store = new LocalCounters(FIXED);
  const w1 = cluster(store);
  const w2 = cluster(store);
  let ok = 0;
  for (let i = 0; i < 1200; i++) {
    const w = i % 2 ? w1 : w2;
    const r = await w.client.take('k', 1, 1000, 60_000);
    if (r.allowed) ok++;
  }
  assert.ok(ok <= 1000 && ok >= 1000 - 2 * 10, `allowed ${ok}`);
  assert.ok(w1.sent.length + w2.sent.length < 250, `${w1.sent.length + w2.sent.length} IPC round trips for 1200 takes`);
  assert.ok(w1.client.localHits > 400);
});

test('a busy key is topped up before its batch runs out: takes never wait for the primary, units held stay under one batch', async () => {
  const store = new LocalCounters(FIXED);
  const w = cluster(store);
  await w.client.take('k', 1, 100_000, 60_000); // the first take waits for the first batch (1000 units)
  let waited = 0;
  for (let i = 0; i < 5000; i++) {
    const r = w.client.take('k', 1, 100_000, 60_000);
    if (r instanceof Promise) {
      waited++;
      await r;
    }
    // Let replies in now and then, as an event loop under load would.
    if (i % 100 === 0) await new Promise((res) => setImmediate(res));
  }
  assert.equal(waited, 0, 'no take waited for a lease after the first');
  const counted = store.lease('k', 0, 0, 100_000, 60_000).count;
  assert.ok(counted - 5001 < 1000, `held by the worker: ${counted - 5001} units (< one batch)`);
  assert.ok(w.sent.every((m) => m.want <= 1000));
});

test('concurrent takes of one key share one pending lease; an exhausted window refuses locally', async () => {
  const store = new LocalCounters(FIXED);
  const w = cluster(store);
  const rs = await Promise.all(Array.from({ length: 5 }, () => w.client.take('k', 1, 3, 60_000)));
  assert.deepEqual(rs.map((r) => r.allowed), [true, true, true, false, false]);
  const before = w.sent.length;
  const r = w.client.take('k', 1, 3, 60_000);
  assert.equal((r as { allowed: boolean }).allowed, false, 'answered synchronously');
  assert.equal(w.sent.length, before);
});

test('the leases of one event-loop turn leave in one message and are answered in one', async () => {
  const store = new LocalCounters(FIXED);
  const messages: LeaseRequests[] = [];
  let client!: ClusterCounters;
  client = new ClusterCounters((m) => {
    messages.push(m);
    setImmediate(() => client.onReplies({ t: 'lease-replies', r: answerLeases(store, m.q) }));
    return true;
  }, FIXED);
  // A limit per client address: 300 clients, each new in this window, in one turn.
  const rs = await Promise.all(Array.from({ length: 300 }, (_, i) => client.take(`10.0.${i >> 8}.${i & 255}`, 1, 2, 60_000)));
  assert.ok(rs.every((r) => r.allowed));
  assert.equal(messages.length, 1, 'one message for the turn');
  assert.equal(messages[0]!.q.length, 300);
  assert.equal(client.roundTrips, 300);
  assert.equal(client.messages, 1);
  // The same clients again: each holds no unit (a limit of 2 lends one at a time), the limit counts across both turns.
  const again = await Promise.all(Array.from({ length: 300 }, (_, i) => client.take(`10.0.${i >> 8}.${i & 255}`, 1, 2, 60_000)));
  const third = await client.take('10.0.0.7', 1, 2, 60_000);
  assert.ok(again.every((r) => r.allowed));
  assert.equal(third.allowed, false, 'the third request of a limit of 2 is refused');
  assert.equal(messages.length, 3);
});

test('own slices: a worker spends 1% of each window without asking; the primary lends only the rest', async () => {
  assert.equal(sliceFor(100, 2), 1);
  assert.equal(sliceFor(1000, 4), 10);
  assert.equal(sliceFor(99, 1), 0, 'none under 100');
  assert.equal(sliceFor(100, 200), 0, 'none when the slices of every worker would not fit');

  // A limit per client address (100/s), two workers: the first request of each key never waits.
  // A fixed clock: every take below falls in one window.
  const now = () => 1_000_000_000_500;
  const store = new LocalCounters(now);
  const w1 = cluster(store, 2, now);
  const w2 = cluster(store, 2, now);
  for (let i = 0; i < 300; i++) {
    for (const w of [w1, w2]) {
      const r = w.client.take(`10.0.${i >> 8}.${i & 255}`, 1, 100, 60_000);
      assert.ok(!(r instanceof Promise), 'answered at once');
      assert.equal(r.allowed, true);
    }
  }
  assert.equal(w1.sent.length + w2.sent.length, 0, 'no lease for 600 first requests');
  assert.equal(w1.client.localHits, 300);

  // A busy key over both workers: never more than the limit, and at most a batch per worker short of it.
  let ok = 0;
  for (let i = 0; i < 1200; i++) if ((await (i % 2 ? w1 : w2).client.take('busy', 1, 1000, 60_000)).allowed) ok++;
  assert.ok(ok <= 1000 && ok >= 1000 - 2 * 10, `allowed ${ok} of 1000`);
  assert.equal(store.lease('busy', 0, 0, 1000, 60_000).count, 1000 - 2 * 10, 'the primary lent only the limit less both slices');

  // All of a key's traffic on one worker: the other worker's slice is what goes unused.
  let one = 0;
  for (let i = 0; i < 1200; i++) if ((await w1.client.take('one-sided', 1, 1000, 60_000)).allowed) one++;
  assert.ok(one <= 1000 - 10 && one >= 1000 - 10 - 10, `allowed ${one}: the limit less the idle worker's slice (and at most a batch)`);

  // Limits under 100 have no slice: exact, as before.
  let small = 0;
  for (let i = 0; i < 40; i++) if ((await (i % 2 ? w1 : w2).client.take('small', 1, 10, 60_000)).allowed) small++;
  assert.equal(small, 10);
});

test('no answer from the primary: the request is let through', async () => {
  const c = new ClusterCounters(() => false);
  const r = await c.take('k', 1, 1, 1000);
  assert.equal(r.allowed, true);
});

test('lease entries of ended windows are dropped (worker memory follows the live keys)', async () => {
  let t = 1_000_000_000_000;
  const store = new LocalCounters(() => t);
  let client!: ClusterCounters;
  client = new ClusterCounters((m) => {
    const r = answerLeases(store, m.q);
    queueMicrotask(() => client.onReplies({ t: 'lease-replies', r }));
    return true;
  }, () => t);
  const opts = { sketch: 'ns/set|requestPlugins[0]|RateLimit|abc', slotsK: 1 };
  for (let i = 0; i < 100; i++) await client.take(`k${i}`, 1, 1000, 1000, opts);
  assert.equal(client.size, 100);
  t += 2500;
  await client.take('other', 1, 1000, 1000, opts);
  assert.equal(client.size, 1);
});
