// Plugin conditions (plugins.md §1.4): every condition type, skip (any) and run (all), labels for
// the access log's cond_skip, validation, and webhook keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileConditions, conditionProblems, type Conditions } from '../../../src/plugins/runtime/conditions.js';
import { FakeSession, type FakeRequest } from '../../helpers/fake-session.js';
import { validate } from './plugin-test-kit.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const REQ: FakeRequest = { path: '/public/docs', method: 'GET', headers: { 'x-internal-token': 't', 'x-env': 'Staging' }, query: 'tier=gold', clientIp: '10.1.2.3' };

async function holds(cond: Record<string, unknown>, req: FakeRequest = REQ): Promise<boolean> {
  const c = compileConditions({ run: [cond] } as Conditions)!;
  return (await c.evaluate(new FakeSession(req), NOW)) === undefined;
}

const CASES: [name: string, cond: Record<string, unknown>, want: boolean][] = [
  ['keyExist: present', { type: 'keyExist', key: { type: 'header', name: 'x-internal-token' } }, true],
  ['keyExist: absent', { type: 'keyExist', key: { type: 'header', name: 'x-none' } }, false],
  ['keyExist: query', { type: 'keyExist', key: { type: 'query', name: 'tier' } }, true],
  ['keyMatch: value', { type: 'keyMatch', key: { type: 'query', name: 'tier' }, value: 'gold' }, true],
  ['keyMatch: value differs', { type: 'keyMatch', key: { type: 'query', name: 'tier' }, value: 'Gold' }, false],
  ['keyMatch: values', { type: 'keyMatch', key: { type: 'query', name: 'tier' }, values: ['silver', 'gold'] }, true],
  ['keyMatch: regex, unanchored', { type: 'keyMatch', key: { type: 'path' }, regex: ['docs'] }, true],
  ['keyMatch: any of several regexes', { type: 'keyMatch', key: { type: 'header', name: 'x-env' }, regex: ['^prod', '(?i)^staging$'] }, true],
  ['keyMatch: no regex matches', { type: 'keyMatch', key: { type: 'header', name: 'x-env' }, regex: ['^prod', '^staging$'] }, false],
  ['keyMatch: missing key is false', { type: 'keyMatch', key: { type: 'header', name: 'x-none' }, regex: ['.*'] }, false],
  ['timeRange: inside', { type: 'timeRange', after: '2025-01-01T00:00:00Z', before: '2026-01-01T00:00:00Z' }, true],
  ['timeRange: after only', { type: 'timeRange', after: '2025-06-01T12:00:00Z' }, true],
  ['timeRange: before is exclusive', { type: 'timeRange', before: '2025-06-01T12:00:00Z' }, false],
  ['timeRange: not yet', { type: 'timeRange', after: '2025-07-01T00:00:00+02:00' }, false],
  ['timeRange: no bounds', { type: 'timeRange' }, true],
  ['probability 1', { type: 'probability', ratio: 1 }, true],
  ['probability 0', { type: 'probability', ratio: 0 }, false],
  ['probability clamped above 1', { type: 'probability', ratio: 7 }, true],
  ['probability clamped below 0', { type: 'probability', ratio: -1 }, false],
  ['include: prefix*', { type: 'include', key: { type: 'path' }, values: ['/public/*'] }, true],
  ['include: *suffix', { type: 'include', key: { type: 'path' }, values: ['*/docs'] }, true],
  ['include: *middle*', { type: 'include', key: { type: 'path' }, values: ['*lic/d*'] }, true],
  ['include: *', { type: 'include', key: { type: 'header', name: 'x-none' }, values: ['*'] }, true],
  ['include: exact', { type: 'include', key: { type: 'path' }, values: ['/public/docs'] }, true],
  ['include: exact differs', { type: 'include', key: { type: 'path' }, values: ['/public'] }, false],
  ['include: regex', { type: 'include', key: { type: 'method' }, regex: ['^(GET|HEAD)$'] }, true],
  ['include: missing key is the empty string', { type: 'include', key: { type: 'header', name: 'x-none' }, values: [''] }, true],
  ['exclude: negation', { type: 'exclude', key: { type: 'path' }, values: ['/public/*'] }, false],
  ['exclude: no match', { type: 'exclude', key: { type: 'path' }, values: ['/admin/*'] }, true],
  ['exclude: missing key', { type: 'exclude', key: { type: 'header', name: 'x-none' }, values: ['x*'] }, true],
];
for (const [name, cond, want] of CASES) test(`condition ${name}`, async () => assert.equal(await holds(cond), want));

test('probability with a key is stable per value and near the ratio over many values', async () => {
  const cond = { type: 'probability', ratio: 0.25, key: { type: 'header', name: 'x-user' } };
  const c = compileConditions({ run: [cond] } as Conditions)!;
  let hits = 0;
  for (let i = 0; i < 2000; i++) {
    const s = new FakeSession({ headers: { 'x-user': `user-${i}` } });
    const first = (await c.evaluate(s, NOW)) === undefined;
    for (let j = 0; j < 3; j++) assert.equal((await c.evaluate(s, NOW)) === undefined, first, 'same value, same answer');
    if (first) hits++;
  }
  assert.ok(hits > 400 && hits < 600, `~25% of 2000, got ${hits}`);
});

test('probability without a key draws at random', async () => {
  const c = compileConditions({ run: [{ type: 'probability', ratio: 0.5 }] } as Conditions)!;
  let hits = 0;
  for (let i = 0; i < 1000; i++) if ((await c.evaluate(new FakeSession(), NOW)) === undefined) hits++;
  assert.ok(hits > 400 && hits < 600, `~50%, got ${hits}`);
});

test('skip: any true skips; run: all must hold; labels name the condition and key', async () => {
  const c = compileConditions({
    skip: [
      { type: 'keyExist', key: { type: 'header', name: 'x-bypass' } },
      { type: 'include', key: { type: 'path' }, values: ['/healthz'] },
    ],
    run: [
      { type: 'keyMatch', key: { type: 'query', name: 'tier' }, value: 'gold' },
      { type: 'timeRange', after: '2025-01-01T00:00:00Z' },
    ],
  } as Conditions)!;
  const ev = (r: FakeRequest) => c.evaluate(new FakeSession(r), NOW);
  assert.equal(await ev({ path: '/x', query: 'tier=gold' }), undefined);
  assert.equal(await ev({ path: '/x', query: 'tier=gold', headers: { 'x-bypass': '1' } }), 'skip:keyExist,hdr:x-bypass');
  assert.equal(await ev({ path: '/healthz', query: 'tier=gold' }), 'skip:include,path');
  assert.equal(await ev({ path: '/x', query: 'tier=free' }), '!run:keyMatch,query:tier');
  assert.equal(await c.evaluate(new FakeSession({ path: '/x', query: 'tier=gold' }), Date.parse('2024-01-01T00:00:00Z')), '!run:timeRange');
});

test('no conditions compile to nothing', () => {
  assert.equal(compileConditions(undefined), undefined);
  assert.equal(compileConditions({}), undefined);
  assert.equal(compileConditions({ skip: [], run: [] }), undefined);
});

test('webhook keys in conditions go through the resolver', async () => {
  const c = compileConditions({ run: [{ type: 'keyMatch', key: { type: 'webhook', webhookRef: 'ns/w', extract: { source: 'bodyText' } }, value: 'allow' }] } as Conditions, async () => 'allow')!;
  assert.equal(await c.evaluate(new FakeSession(), NOW), undefined);
  const d = compileConditions({ run: [{ type: 'keyExist', key: { type: 'webhook', webhookRef: 'ns/w', extract: { source: 'bodyText' } } }] } as Conditions, async () => undefined)!;
  assert.equal(await d.evaluate(new FakeSession(), NOW), '!run:keyExist,webhook:ns/w');
});

const BAD: [conditions: unknown, messages: string[]][] = [
  [{ skip: [{ type: 'keyExist' }] }, ['conditions.skip[0]: keyExist needs a key']],
  [{ run: [{ type: 'keyMatch', key: { type: 'path' } }] }, ['conditions.run[0]: keyMatch needs value, values or regex']],
  [{ run: [{ type: 'include', values: ['x'] }] }, ['conditions.run[0]: include needs a key']],
  [{ run: [{ type: 'keyExist', key: { type: 'header' } }] }, ['conditions.run[0].key.name: a header key needs a name']],
  [{ run: [{ type: 'probability' }] }, ['conditions.run[0]: probability needs a ratio (0..1)']],
  [{ run: [{ type: 'keyMatch', key: { type: 'path' }, regex: ['('] }] }, ['conditions.run[0].regex[0]: Invalid regular expression: /(/: Unterminated group']],
  [{ run: [{ type: 'timeRange', after: 'tomorrow' }] }, ['conditions.run[0].after: not an RFC 3339 time: tomorrow']],
  [{ run: [{ type: 'always' }] }, ['conditions.run[0].type: must be one of: keyExist, keyMatch, timeRange, probability, include, exclude (got "always")']],
  [{ skip: { type: 'keyExist' } }, ['conditions.skip: must be a list (got an object)']],
  [{ run: [{ type: 'probability', ratio: 'half' }] }, ['conditions.run[0].ratio: must be a number (got "half")']],
  [{ skip: [{ keyExist: { key: { type: 'header', name: 'x' } } }] }, ['conditions.skip[0]: write "{type: keyExist, ...}" with the fields beside type (the form "- keyExist: {...}" is not accepted)']],
  [{ run: [{ key: { type: 'path' } }] }, ['conditions.run[0]: required field "type" is missing']],
];
/** Problems as the controller reports them for an entry's conditions. */
const conditionsProblems = (conditions: unknown) => validate('Mock', {}, 'requestPlugins', { conditions }).problems.map((p) => `${p.path}: ${p.message}`);
for (const [conditions, messages] of BAD) test(`rejected conditions: ${messages[0]}`, () => assert.deepEqual(conditionsProblems(conditions), messages));

test('conditionProblems is also usable on its own', () => {
  assert.deepEqual(conditionProblems({ run: [{ type: 'keyExist' }] } as Conditions, 'c'), [{ path: 'c.run[0]', message: 'keyExist needs a key' }]);
});
