// Mock (plugins.md §4.20): schema defaults, rejected configs, the reply, terminate: false, delay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSession } from '../../helpers/fake-session.js';
import { make, problems, validate, warnings } from './plugin-test-kit.js';

test('defaults: 200, terminate true, application/json', async () => {
  assert.deepEqual(validate('Mock', {}).config, { statusCode: 200, terminate: true });
  assert.deepEqual(await make('Mock', {}).onRequest!(new FakeSession()), { status: 200, headers: { 'content-type': 'application/json' }, body: '' });
});

test('the reply carries status, configured headers, content type and body', async () => {
  const r = await make('Mock', { statusCode: 503, contentType: 'application/json', body: '{"status":"maintenance"}', headers: { 'Retry-After': '120', 'X-N': 5, 'X-B': true } }).onRequest!(new FakeSession());
  assert.deepEqual(r, { status: 503, headers: { 'retry-after': '120', 'x-n': '5', 'x-b': 'true', 'content-type': 'application/json' }, body: '{"status":"maintenance"}' });
});

test('a Content-Type in headers wins over contentType', async () => {
  const r = (await make('Mock', { headers: { 'Content-Type': 'text/html' }, contentType: 'text/plain' }).onRequest!(new FakeSession())) as { headers: Record<string, string> };
  assert.equal(r.headers['content-type'], 'text/html');
});

test('terminate false: only response headers, the request continues', async () => {
  const s = new FakeSession();
  assert.equal(await make('Mock', { terminate: false, headers: { 'X-Mock': 'yes' }, body: 'ignored' }).onRequest!(s), undefined);
  assert.equal(s.responseHeaders.get('x-mock'), 'yes');
});

test('delay waits before answering (and before continuing)', async () => {
  let t = Date.now();
  const r = await make('Mock', { delay: 120, statusCode: 204 }).onRequest!(new FakeSession());
  assert.ok(Date.now() - t >= 110);
  assert.equal((r as { status: number }).status, 204);
  t = Date.now();
  assert.equal(await make('Mock', { delay: 80, terminate: false }).onRequest!(new FakeSession()), undefined);
  assert.ok(Date.now() - t >= 70);
});

const BAD: [config: unknown, message: string][] = [
  [{ statusCode: 99 }, 'config.statusCode: must be >= 100 (got 99)'],
  [{ statusCode: 600 }, 'config.statusCode: must be <= 599 (got 600)'],
  [{ statusCode: '200' }, 'config.statusCode: must be an integer (got "200")'],
  [{ delay: -1 }, 'config.delay: must be >= 0 (got -1)'],
  [{ delay: 60_001 }, 'config.delay: must be <= 60000 (got 60001)'],
  [{ body: 5 }, 'config.body: must be a string (got 5)'],
  [{ terminate: 'no' }, 'config.terminate: must be a boolean (got "no")'],
  [{ headers: { 'Bad Name': 'x' } }, 'config.headers.Bad Name: "Bad Name" is not a valid header name'],
  [{ headers: { 'X-A': 'line\nbreak' } }, 'config.headers.X-A: must not contain control characters (line breaks included)'],
  [{ contentType: 'text/plain\r\nX-Evil: 1' }, 'config.contentType: must not contain control characters (line breaks included) (got "text/plain\\r\\nX-Evil: 1")'],
];
for (const [config, message] of BAD) test(`rejected: ${message}`, () => assert.deepEqual(problems('Mock', config), [message]));

test('an unknown field is accepted (the original ignores it) with a warning naming it', () => {
  assert.deepEqual(problems('Mock', { status: 200 }), []);
  assert.deepEqual(warnings('Mock', { status: 200 }), ['config.status: unknown field "status" is ignored']);
});
