// RequestHeaderModifier / ResponseHeaderModifier as plugins (plugins.md §4.18, resources.md §7.3).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSession } from '../../helpers/fake-session.js';
import { make, problems, response, warnings } from './plugin-test-kit.js';

test('RequestHeaderModifier: set, then add (comma-joined), then remove; names case-insensitive', async () => {
  const s = new FakeSession({ headers: { 'X-Set': 'old', 'X-Add': 'a', 'X-Gone': '1' } });
  await make('RequestHeaderModifier', { set: [{ name: 'X-Set', value: 'new' }, { name: 'X-New', value: 'n' }], add: [{ name: 'x-add', value: 'b' }, { name: 'X-Fresh', value: 'f' }], remove: ['X-GONE'] }).onRequest!(s);
  assert.equal(s.headers.get('x-set'), 'new');
  assert.equal(s.headers.get('x-new'), 'n');
  assert.equal(s.headers.get('x-add'), 'a,b');
  assert.equal(s.headers.get('x-fresh'), 'f');
  assert.equal(s.headers.has('x-gone'), false);
});

test('ResponseHeaderModifier in upstreamResponseFilterPlugins: set overwrites, add adds a line, remove deletes', () => {
  const res = response(200, { 'x-set': 'old', 'x-add': 'a', 'x-gone': '1', 'x-two': ['1', '2'] });
  make('ResponseHeaderModifier', { set: [{ name: 'X-Set', value: 'new' }], add: [{ name: 'X-Add', value: 'b' }, { name: 'X-Two', value: '3' }, { name: 'X-New', value: 'n' }], remove: ['x-gone'] }, {}, 'upstreamResponseFilterPlugins').onResponseHeaders!(new FakeSession(), res);
  assert.deepEqual(res.headers, { 'x-set': 'new', 'x-add': ['a', 'b'], 'x-two': ['1', '2', '3'], 'x-new': 'n' });
});

test('ResponseHeaderModifier in requestPlugins queues the edits for whatever response the client gets', async () => {
  const s = new FakeSession();
  await make('ResponseHeaderModifier', { set: [{ name: 'X-A', value: '1' }], add: [{ name: 'X-B', value: '2' }], remove: ['X-C'] }).onRequest!(s);
  assert.equal(s.responseHeaders.get('x-a'), '1');
  assert.equal(s.responseHeaders.get('x-b'), '2');
  assert.deepEqual(s.removedResponseHeaders, ['x-c']);
});

test('an empty modifier is valid and does nothing', async () => {
  const s = new FakeSession({ headers: { a: '1' } });
  await make('RequestHeaderModifier', {}).onRequest!(s);
  assert.deepEqual([...s.headers], [['a', '1']]);
});

const BAD: [type: string, config: unknown, message: string][] = [
  ['RequestHeaderModifier', { set: [{ name: 'bad name', value: 'x' }] }, "config.set[0].name: must be a header name (letters, digits and !#$%&'*+-.^_`|~) (got \"bad name\")"],
  ['RequestHeaderModifier', { set: [{ name: 'x-a', value: 'a\r\nInjected: 1' }] }, 'config.set[0].value: must not contain control characters (line breaks included) (got "a\\r\\nInjected: 1")'],
  ['RequestHeaderModifier', { set: [{ name: 'x-a' }] }, 'config.set[0]: required field "value" is missing'],
  ['RequestHeaderModifier', { add: [{ name: '', value: 'x' }] }, "config.add[0].name: must be a header name (letters, digits and !#$%&'*+-.^_`|~) (got \"\")"],
  ['RequestHeaderModifier', { remove: ['x a'] }, "config.remove[0]: must be a header name (letters, digits and !#$%&'*+-.^_`|~) (got \"x a\")"],
  ['RequestHeaderModifier', { set: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }] }, 'config.set[1].name: header "x-a" is already set by set[0] (names are case-insensitive)'],
  ['RequestHeaderModifier', { remove: ['a', 'A'] }, 'config.remove[1]: header "A" is listed twice'],
  ['RequestHeaderModifier', { set: Array.from({ length: 17 }, (_, i) => ({ name: `x-${i}`, value: 'v' })) }, 'config.set: must have at most 16 items (got 17)'],
  ['ResponseHeaderModifier', { add: [{ name: 'x', value: 1 }] }, 'config.add[0].value: must be a string (got 1)'],
];
for (const [type, config, message] of BAD) test(`${type} rejected: ${message}`, () => assert.deepEqual(problems(type, config), [message]));

test('stages: RequestHeaderModifier only in requestPlugins', () => {
  assert.deepEqual(problems('RequestHeaderModifier', {}, 'upstreamResponseFilterPlugins'), ['type: RequestHeaderModifier does not run in upstreamResponseFilterPlugins (it runs in requestPlugins)']);
  assert.deepEqual(problems('ResponseHeaderModifier', {}, 'upstreamResponseBodyFilterPlugins'), ['type: ResponseHeaderModifier does not run in upstreamResponseBodyFilterPlugins (it runs in upstreamResponseFilterPlugins, requestPlugins)']);
});

test('an unknown field is accepted (the original ignores it) with a warning naming it', () => {
  assert.deepEqual(problems('RequestHeaderModifier', { replace: [] }), []);
  assert.deepEqual(warnings('RequestHeaderModifier', { replace: [] }), ['config.replace: unknown field "replace" is ignored']);
});
