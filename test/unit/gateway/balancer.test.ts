import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsistentHashBalancer, EwmaBalancer, LeastConnBalancer, RoundRobinBalancer } from '../../../src/gateway/upstream/balancer.js';
import type { EndpointIR } from '../../../src/ir/index.js';

const eps = (n: number, start = 1): EndpointIR[] => Array.from({ length: n }, (_, i) => ({ address: `10.0.0.${start + i}`, port: 80, ready: true }));
const all = () => true;

test('round robin visits every ready endpoint evenly and skips unhealthy ones', () => {
  const list = eps(3);
  const unhealthy = list[1]!;
  const b = new RoundRobinBalancer(list, (e) => e !== unhealthy);
  const counts = new Map<string, number>();
  for (let i = 0; i < 60; i++) {
    const e = b.pick()!;
    counts.set(e.address, (counts.get(e.address) ?? 0) + 1);
  }
  assert.deepEqual([...counts.entries()].sort(), [['10.0.0.1', 30], ['10.0.0.3', 30]]);
});

test('round robin avoids endpoints that already failed for the request', () => {
  const list = eps(2);
  const b = new RoundRobinBalancer(list, all);
  for (let i = 0; i < 5; i++) assert.equal(b.pick(undefined, [list[0]!])!.address, '10.0.0.2');
});

test('not-ready endpoints are never picked', () => {
  const b = new RoundRobinBalancer([{ address: 'a', port: 1, ready: false }], all);
  assert.equal(b.pick(), undefined);
});

test('least connections prefers the endpoint with fewer requests in flight', () => {
  const list = eps(2);
  const b = new LeastConnBalancer(list, all);
  b.started(list[0]!);
  b.started(list[0]!);
  b.started(list[1]!);
  assert.equal(b.pick()!.address, '10.0.0.2');
  b.ended(list[0]!, 1);
  b.ended(list[0]!, 1);
  assert.equal(b.pick()!.address, '10.0.0.1');
});

test('EWMA prefers the faster endpoint', () => {
  const list = eps(2);
  const b = new EwmaBalancer(list, all);
  for (let i = 0; i < 20; i++) {
    b.started(list[0]!);
    b.ended(list[0]!, 50);
    b.started(list[1]!);
    b.ended(list[1]!, 2);
  }
  const picks = Array.from({ length: 10 }, () => b.pick()!.address);
  assert.deepEqual(new Set(picks), new Set(['10.0.0.2']));
});

test('consistent hashing is stable per key and moves few keys when an endpoint is added', () => {
  const before = new ConsistentHashBalancer(eps(4), all);
  const after = new ConsistentHashBalancer(eps(5), all);
  const keys = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
  for (const k of keys.slice(0, 50)) assert.equal(before.pick(k)!.address, before.pick(k)!.address);
  const moved = keys.filter((k) => before.pick(k)!.address !== after.pick(k)!.address).length;
  // Ideal is 1/5 of the keys; every moved key must go to the new endpoint.
  assert.ok(moved < 2000 * 0.3, `moved ${moved}`);
  assert.ok(keys.every((k) => before.pick(k)!.address === after.pick(k)!.address || after.pick(k)!.address === '10.0.0.5'));
});

test('consistent hashing skips an unhealthy owner and falls back to round robin without a key', () => {
  const list = eps(3);
  const b = new ConsistentHashBalancer(list, all);
  const owner = b.pick('k')!;
  const b2 = new ConsistentHashBalancer(list, (e) => e.address !== owner.address);
  assert.notEqual(b2.pick('k')!.address, owner.address);
  const seen = new Set([b.pick()!.address, b.pick()!.address, b.pick()!.address]);
  assert.equal(seen.size, 3);
});
