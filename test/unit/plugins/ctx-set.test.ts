// CtxSet (plugins.md §4.23, DECISIONS §30): sources, templates, extract, every transform, mapping,
// default, ordering between variables, webhook keys, and rejected configs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSession, type FakeRequest } from '../../helpers/fake-session.js';
import type { WebhookResolver } from '../../../src/plugins/runtime/key-get.js';
import { parseTemplate } from '../../../src/plugins/http/utility/template.js';
import { make, problems, validate, warnings } from './plugin-test-kit.js';

async function vars(config: unknown, req: FakeRequest = {}, webhook?: WebhookResolver): Promise<Record<string, string>> {
  const s = new FakeSession(req);
  assert.equal(await make('CtxSet', config, webhook ? { webhook } : {}).onRequest!(s), undefined);
  return Object.fromEntries(s.vars);
}
const one = async (v: Record<string, unknown>, req: FakeRequest = {}) => (await vars({ vars: [{ name: 'v', ...v }] }, req)).v;

const REQ: FakeRequest = {
  method: 'POST',
  path: '/shop/items/42',
  host: 'acme.shop.example',
  query: 'q=Shoes&page=2',
  clientIp: '203.0.113.7',
  headers: { host: 'acme.shop.example', 'x-tenant': '  Acme-Corp  ', cookie: 'sid=s3cr3t; lang=fr', authorization: 'Bearer tok.en.x' },
  vars: { plan: 'gold' },
};

const CASES: [name: string, v: Record<string, unknown>, want: string | undefined][] = [
  // sources
  ['value', { value: 'const' }, 'const'],
  ['from header', { from: { type: 'header', name: 'X-Tenant' } }, '  Acme-Corp  '],
  ['from query', { from: { type: 'query', name: 'q' } }, 'Shoes'],
  ['from cookie', { from: { type: 'cookie', name: 'lang' } }, 'fr'],
  ['from ctx', { from: { type: 'ctx', name: 'plan' } }, 'gold'],
  ['from path', { from: { type: 'path' } }, '/shop/items/42'],
  ['from method', { from: { type: 'method' } }, 'POST'],
  ['from clientIp', { from: { type: 'clientIp' } }, '203.0.113.7'],
  ['from clientIpAndPath', { from: { type: 'clientIpAndPath' } }, '203.0.113.7:/shop/items/42'],
  ['missing source: unset', { from: { type: 'header', name: 'x-none' } }, undefined],
  ['missing source: default', { from: { type: 'header', name: 'x-none' }, default: 'dflt' }, 'dflt'],
  ['value wins over template and from', { value: 'v', template: 't', from: { type: 'method' } }, 'v'],
  ['template wins over from', { template: 't', from: { type: 'method' } }, 't'],
  // templates
  ['template with every placeholder', { template: '${method} ${path} ${clientIp} ${header:x-tenant}|${query:page}|${cookie:sid}|${ctx:plan}|${host}|${scheme}' }, 'POST /shop/items/42 203.0.113.7   Acme-Corp  |2|s3cr3t|gold|acme.shop.example|http'],
  ['template: missing placeholders render empty', { template: 'a-${header:nope}-b' }, 'a--b'],
  ['template: all empty is missing → default', { template: '${header:nope}', default: 'none' }, 'none'],
  ['template: literal $ and $${', { template: 'cost $5 $${x}' }, 'cost $5 ${x}'],
  // extract
  ['extract group 1 (default)', { from: { type: 'header', name: 'host' }, extract: { regex: '^([a-z0-9-]+)\\.shop\\.example$' } }, 'acme'],
  ['extract group 0', { from: { type: 'path' }, extract: { regex: '\\d+', group: 0 } }, '42'],
  ['extract group 2', { from: { type: 'header', name: 'authorization' }, extract: { regex: '^(\\w+) (.+)$', group: 2 } }, 'tok.en.x'],
  ['extract no match: missing → default', { from: { type: 'path' }, extract: { regex: '^/api/(.*)' }, default: 'none' }, 'none'],
  ['extract (?i)', { from: { type: 'query', name: 'q' }, extract: { regex: '(?i)^(shoe)' } }, 'Shoe'],
  // transforms
  ['transform replace (all matches, $1 refs)', { value: 'a-b-c', transform: { replace: { pattern: '-(\\w)', with: '_$1' } } }, 'a_b_c'],
  ['transform replace with nothing', { value: 'a1b2', transform: { replace: { pattern: '\\d' } } }, 'ab'],
  ['transform substring [start, end)', { value: 'abcdef', transform: { substring: [1, 4] } }, 'bcd'],
  ['transform substring [start]', { value: 'abcdef', transform: { substring: [2] } }, 'cdef'],
  ['transform substring: characters, not bytes', { value: 'h€llo😀x', transform: { substring: [1, 6] } }, '€llo😀'],
  ['transform substring: end past the length is clamped', { value: 'abc', transform: { substring: [1, 99] } }, 'bc'],
  ['transform substring: start > end swaps (JavaScript substring)', { value: 'abcdef', transform: { substring: [4, 1] } }, 'bcd'],
  ['transform substring: empty result is missing', { value: 'abc', transform: { substring: [5, 9] }, default: 'short' }, 'short'],
  ['transform case upper', { value: 'Acme', transform: { case: 'upper' } }, 'ACME'],
  ['transform case lower', { value: 'Acme', transform: { case: 'lower' } }, 'acme'],
  ['transform prefix', { value: 'acme', transform: { prefix: 'tenant-' } }, 'tenant-acme'],
  ['transform suffix', { value: 'acme', transform: { suffix: '.v1' } }, 'acme.v1'],
  ['transform trim', { from: { type: 'header', name: 'x-tenant' }, transform: { trim: true } }, 'Acme-Corp'],
  ['transform trim false: nothing', { value: ' a ', transform: { trim: false } }, ' a '],
  ['only the first transform present applies', { value: 'Acme', transform: { prefix: 'p-', case: 'upper' } }, 'ACME'],
  // mapping
  ['mapping hit', { from: { type: 'ctx', name: 'plan' }, mapping: { values: { gold: '1000', free: '10' } } }, '1000'],
  ['mapping miss with mapping default', { value: 'silver', mapping: { values: { gold: '1000' }, default: '100' } }, '100'],
  ['mapping miss without default: unchanged', { value: 'silver', mapping: { values: { gold: '1000' } } }, 'silver'],
  ['mapping is not applied to a missing value; the var default is', { from: { type: 'header', name: 'x-none' }, mapping: { values: {}, default: 'm' }, default: 'd' }, 'd'],
  // the whole pipeline
  ['pipeline: from → extract → transform → mapping', { from: { type: 'header', name: 'host' }, extract: { regex: '^([a-z]+)\\.' }, transform: { case: 'upper' }, mapping: { values: { ACME: 'enterprise' } } }, 'enterprise'],
];
for (const [name, v, want] of CASES) test(`CtxSet: ${name}`, async () => assert.equal(await one(v, REQ), want));

test('variables are set in order: a later one reads an earlier one', async () => {
  const out = await vars(
    {
      vars: [
        { name: 'tenant', from: { type: 'header', name: 'host' }, extract: { regex: '^([a-z0-9-]+)\\.shop\\.example$' }, default: 'public' },
        { name: 'plan', from: { type: 'ctx', name: 'tenant' }, mapping: { values: { acme: 'gold' }, default: 'basic' } },
        { name: 'key', template: '${ctx:tenant}/${ctx:plan}' },
      ],
    },
    { headers: { host: 'acme.shop.example' } },
  );
  assert.deepEqual(out, { tenant: 'acme', plan: 'gold', key: 'acme/gold' });
  const other = await vars({ vars: [{ name: 'tenant', from: { type: 'header', name: 'host' }, extract: { regex: '^([a-z0-9-]+)\\.shop\\.example$' }, default: 'public' }, { name: 'plan', from: { type: 'ctx', name: 'tenant' }, mapping: { values: { acme: 'gold' }, default: 'basic' } }] }, { headers: { host: 'other.example' } });
  assert.deepEqual(other, { tenant: 'public', plan: 'basic' });
});

test('a missing value leaves an existing variable untouched', async () => {
  assert.deepEqual(await vars({ vars: [{ name: 'plan', from: { type: 'header', name: 'x-none' } }] }, { vars: { plan: 'gold' } }), { plan: 'gold' });
});

test('webhook keys: the plugin waits for the webhook; a failure is a missing value', async () => {
  const calls: string[] = [];
  const webhook: WebhookResolver = async (ref, extract) => {
    calls.push(`${ref}:${extract?.source}:${extract?.path ?? extract?.name}`);
    return ref === 'infra/ok' ? 't-42' : undefined;
  };
  const out = await vars(
    {
      vars: [
        { name: 'a', value: 'first' },
        { name: 'tenant', from: { type: 'webhook', webhookRef: 'infra/ok', extract: { source: 'body', path: 'data.tenant' } }, transform: { prefix: 'x-' } },
        { name: 'failed', from: { type: 'webhook', webhookRef: 'infra/down', extract: { source: 'header', name: 'x-t' } }, default: 'fallback' },
        { name: 'after', template: '${ctx:tenant}!' },
      ],
    },
    {},
    webhook,
  );
  assert.deepEqual(out, { a: 'first', tenant: 'x-t-42', failed: 'fallback', after: 'x-t-42!' });
  assert.deepEqual(calls, ['infra/ok:body:data.tenant', 'infra/down:header:x-t']);
});

test('a webhook resolver that throws is a missing value, not a failure', async () => {
  const out = await vars({ vars: [{ name: 'x', from: { type: 'webhook', webhookRef: 'a/b', extract: { source: 'bodyText' } }, default: 'd' }] }, {}, () => Promise.reject(new Error('boom')));
  assert.deepEqual(out, { x: 'd' });
});

test('without webhooks the handler is synchronous', () => {
  const r = make('CtxSet', { vars: [{ name: 'a', value: '1' }] }).onRequest!(new FakeSession());
  assert.equal(r, undefined);
});

const BAD: [config: unknown, message: string][] = [
  [{}, 'config: required field "vars" is missing'],
  [{ vars: [] }, 'config.vars: must not be empty'],
  [{ vars: [{ value: 'x' }] }, 'config.vars[0]: required field "name" is missing'],
  [{ vars: [{ name: 'a' }] }, 'config.vars[0]: one of value, template or from is required'],
  [{ vars: [{ name: 'a', template: '${nope}' }] }, 'config.vars[0].template: unknown placeholder "${nope}" (known: ${header:Name}, ${query:name}, ${cookie:name}, ${ctx:name}, ${path}, ${method}, ${clientIp}, ${host}, ${scheme})'],
  [{ vars: [{ name: 'a', template: '${header:}' }] }, 'config.vars[0].template: placeholder "${header:}" needs a name after "header:"'],
  [{ vars: [{ name: 'a', template: 'x ${path' }] }, 'config.vars[0].template: unclosed placeholder at character 3: "${path"'],
  [{ vars: [{ name: 'a', from: { type: 'header' } }] }, 'config.vars[0].from.name: a header key needs a name'],
  [{ vars: [{ name: 'a', from: { type: 'body' } }] }, 'config.vars[0].from.type: must be one of: clientIp, header, cookie, query, path, method, ctx, clientIpAndPath, webhook (got "body")'],
  [{ vars: [{ name: 'a', value: 'x', extract: { regex: '(' } }] }, 'config.vars[0].extract.regex: invalid regular expression: Invalid regular expression: /(/: Unterminated group'],
  [{ vars: [{ name: 'a', value: 'x', extract: { regex: 'a(b)', group: 2 } }] }, 'config.vars[0].extract.group: the regex has 1 capture group; group 2 does not exist'],
  [{ vars: [{ name: 'a', value: 'x', extract: { regex: '(?s)a' } }] }, 'config.vars[0].extract.regex: invalid regular expression: inline flag group "(?s)" is not supported (only a leading "(?i)" is)'],
  [{ vars: [{ name: 'a', value: 'x', transform: { replace: { pattern: '[' } } }] }, 'config.vars[0].transform.replace.pattern: invalid regular expression: Invalid regular expression: /[/: Unterminated character class'],
  [{ vars: [{ name: 'a', value: 'x', transform: { case: 'title' } }] }, 'config.vars[0].transform.case: must be one of: upper, lower (got "title")'],
  [{ vars: [{ name: 'a', value: 'x', transform: { substring: [-1, 2] } }] }, 'config.vars[0].transform.substring[0]: must be >= 0 (got -1)'],
  [{ vars: [{ name: 'a', value: 'x', transform: { substring: [1, 2, 3] } }] }, 'config.vars[0].transform.substring: must have at most 2 items (got 3)'],
  [{ vars: [{ name: 'a', value: 'x', mapping: { values: { a: 1 } } }] }, 'config.vars[0].mapping.values.a: must be a string (got 1)'],
  [{ vars: [{ name: 'a', from: { type: 'webhook' } }] }, 'config.vars[0].from.webhookRef: a webhook key needs webhookRef (namespace/name of a LinkSys)'],
  [{ vars: [{ name: 'a', from: { type: 'webhook', webhookRef: 'ns/x' } }] }, 'config.vars[0].from.extract: a webhook key needs extract ({source: header|cookie, name} or {source: body, path} or {source: bodyText})'],
  [{ vars: [{ name: '', value: 'x' }] }, 'config.vars[0].name: must not be empty'],
];
for (const [config, message] of BAD) test(`rejected: ${message}`, () => assert.deepEqual(problems('CtxSet', config), [message]));

test('warnings: several sources, several transforms', () => {
  assert.deepEqual(warnings('CtxSet', { vars: [{ name: 'a', value: 'x', from: { type: 'method' } }, { name: 'b', value: 'y', transform: { trim: true, case: 'lower' } }] }), [
    'config.vars[0]: value and from are all given; only value is used (priority: value, template, from)',
    'config.vars[1].transform: only one transform applies: case (the others, trim, are ignored)',
  ]);
});

test('defaults filled by the controller: extract.group 1, replace.with ""', () => {
  const c = validate('CtxSet', { vars: [{ name: 'a', value: 'x', extract: { regex: '(x)' }, transform: { replace: { pattern: 'x' } } }] }).config;
  assert.equal(c.vars[0].extract.group, 1);
  assert.equal(c.vars[0].transform.replace.with, '');
});

test('templates are parsed once; a constant template needs no session', () => {
  const t = parseTemplate('plain text');
  assert.equal(t.constant, true);
  assert.equal(t.render(new FakeSession()), 'plain text');
  assert.equal(parseTemplate('${path}').constant, false);
});

test('an unknown field is accepted (the original ignores it) with a warning naming it', () => {
  assert.deepEqual(problems('CtxSet', { vars: [{ name: 'a', value: 'x', transform: { upper: true } }] }), []);
  assert.deepEqual(warnings('CtxSet', { vars: [{ name: 'a', value: 'x', transform: { upper: true } }] }), ['config.vars[0].transform.upper: unknown field "upper" is ignored']);
});
