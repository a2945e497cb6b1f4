// Session persistence values with timeouts the gateway enforces itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSession } from '../../../src/gateway/proxy/http-proxy.js';

const t = (n: number) => n.toString(36);

test('a bare value pins while no idle timeout applies', () => {
  assert.deepEqual(parseSession('abc', {}, 1000), { value: 'abc' });
  assert.deepEqual(parseSession('abc', { absoluteTimeoutMs: 60_000 }, 1000), { value: 'abc' });
  assert.equal(parseSession('abc', { idleTimeoutMs: 60_000 }, 1000), undefined, 'no last-use time: a new session');
});

test('idle and absolute timeouts end a session; within them it pins', () => {
  const v = `abc.${t(1000)}.${t(1050)}`;
  assert.deepEqual(parseSession(v, { idleTimeoutMs: 60_000 }, 1100), { value: 'abc', startedSec: 1000 });
  assert.equal(parseSession(v, { idleTimeoutMs: 60_000 }, 1111), undefined, 'idle 61 s');
  assert.deepEqual(parseSession(v, { absoluteTimeoutMs: 120_000 }, 1120), { value: 'abc', startedSec: 1000 });
  assert.equal(parseSession(v, { absoluteTimeoutMs: 120_000 }, 1121), undefined, 'began 121 s ago');
});

test('malformed values start a new session', () => {
  for (const v of ['abc.', '.1.2', 'abc.zz!.1', 'abc.1']) assert.equal(parseSession(v, { idleTimeoutMs: 1000 }, 5), undefined, v);
});
