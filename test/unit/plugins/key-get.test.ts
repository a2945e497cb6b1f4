// KeyGet (plugins.md §2): every key type, empty = missing, validation, descriptions, cookies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileKeyGet, cookieValue, describeKey, keyGetProblems, type KeyGet, type WebhookResolver } from '../../../src/plugins/runtime/key-get.js';
import { FakeSession, type FakeRequest } from '../../helpers/fake-session.js';

const REQ: FakeRequest = {
  method: 'PUT',
  path: '/p/q',
  query: 'apikey=k%201&empty=',
  clientIp: '198.51.100.4',
  headers: { 'X-Api-Key': 'h-key', 'x-empty': '', cookie: 'a=1; ak="quoted"; enc=a%20b; bad=%zz' },
  vars: { tenant: 'acme', blank: '' },
};

const CASES: [key: KeyGet, want: string | undefined][] = [
  [{ type: 'clientIp' }, '198.51.100.4'],
  [{ type: 'header', name: 'x-api-key' }, 'h-key'],
  [{ type: 'header', name: 'X-API-KEY' }, 'h-key'],
  [{ type: 'header', name: 'x-empty' }, undefined],
  [{ type: 'header', name: 'x-none' }, undefined],
  [{ type: 'cookie', name: 'a' }, '1'],
  [{ type: 'cookie', name: 'ak' }, 'quoted'],
  [{ type: 'cookie', name: 'enc' }, 'a b'],
  [{ type: 'cookie', name: 'bad' }, '%zz'],
  [{ type: 'cookie', name: 'none' }, undefined],
  [{ type: 'query', name: 'apikey' }, 'k 1'],
  [{ type: 'query', name: 'empty' }, undefined],
  [{ type: 'query', name: 'none' }, undefined],
  [{ type: 'path' }, '/p/q'],
  [{ type: 'method' }, 'PUT'],
  [{ type: 'ctx', name: 'tenant' }, 'acme'],
  [{ type: 'ctx', name: 'blank' }, undefined],
  [{ type: 'ctx', name: 'none' }, undefined],
  [{ type: 'clientIpAndPath' }, '198.51.100.4:/p/q'],
  [{ type: 'webhook', webhookRef: 'ns/w', extract: { source: 'bodyText' } }, undefined],
];
for (const [key, want] of CASES) {
  test(`KeyGet ${JSON.stringify(key)} → ${String(want)}`, async () => {
    assert.equal(await compileKeyGet(key)(new FakeSession(REQ)), want);
  });
}

test('clientIp follows RealIp (session.setRemoteIp)', () => {
  const s = new FakeSession(REQ);
  s.setRemoteIp('1.1.1.1');
  assert.equal(compileKeyGet({ type: 'clientIp' })(s), '1.1.1.1');
  assert.equal(compileKeyGet({ type: 'clientIpAndPath' })(s), '1.1.1.1:/p/q');
});

test('webhook keys go to the resolver with their ref and extract', async () => {
  const seen: unknown[] = [];
  const resolver: WebhookResolver = async (ref, extract) => {
    seen.push([ref, extract]);
    return 'from-webhook';
  };
  const key: KeyGet = { type: 'webhook', webhookRef: 'infra/tenants', extract: { source: 'body', path: 'data.id' } };
  assert.equal(await compileKeyGet(key, resolver)(new FakeSession()), 'from-webhook');
  assert.deepEqual(seen, [['infra/tenants', { source: 'body', path: 'data.id' }]]);
});

const PROBLEMS: [key: KeyGet, problems: string[]][] = [
  [{ type: 'header' }, ['k.name: a header key needs a name']],
  [{ type: 'cookie' }, ['k.name: a cookie key needs a name']],
  [{ type: 'query' }, ['k.name: a query key needs a name']],
  [{ type: 'ctx' }, ['k.name: a ctx key needs a name']],
  [{ type: 'clientIp' }, []],
  [{ type: 'path' }, []],
  [{ type: 'webhook' }, ['k.webhookRef: a webhook key needs webhookRef (namespace/name of a LinkSys)']],
  [{ type: 'webhook', webhookRef: 'a/b/c', extract: { source: 'bodyText' } }, ['k.webhookRef: "a/b/c" is not "namespace/name" or "name"']],
  [{ type: 'webhook', webhookRef: 'a/b' }, ['k.extract: a webhook key needs extract ({source: header|cookie, name} or {source: body, path} or {source: bodyText})']],
  [{ type: 'webhook', webhookRef: 'a/b', extract: { source: 'header' } }, ['k.extract.name: extract from a header needs a name']],
  [{ type: 'webhook', webhookRef: 'a/b', extract: { source: 'cookie' } }, ['k.extract.name: extract from a cookie needs a name']],
  [{ type: 'webhook', webhookRef: 'a/b', extract: { source: 'body' } }, ['k.extract.path: extract from the body needs a path (dot path into the JSON, e.g. data.tenant.id)']],
  [{ type: 'webhook', webhookRef: 'b', extract: { source: 'bodyText' } }, []],
];
for (const [key, want] of PROBLEMS) test(`keyGetProblems ${JSON.stringify(key)}`, () => assert.deepEqual(keyGetProblems(key, 'k').map((p) => `${p.path}: ${p.message}`), want));

test('describeKey: short labels for logs', () => {
  assert.equal(describeKey({ type: 'header', name: 'x-a' }), 'hdr:x-a');
  assert.equal(describeKey({ type: 'query', name: 'q' }), 'query:q');
  assert.equal(describeKey({ type: 'cookie', name: 'c' }), 'cookie:c');
  assert.equal(describeKey({ type: 'ctx', name: 'v' }), 'ctx:v');
  assert.equal(describeKey({ type: 'webhook', webhookRef: 'ns/w' }), 'webhook:ns/w');
  assert.equal(describeKey({ type: 'clientIp' }), 'clientIp');
  assert.equal(describeKey({ type: 'path' }), 'path');
});

test('cookieValue', () => {
  assert.equal(cookieValue(undefined, 'a'), undefined);
  assert.equal(cookieValue('a=1;b=2', 'b'), '2');
  assert.equal(cookieValue(' a = x ', 'a'), 'x');
  assert.equal(cookieValue('noeq; a=1', 'a'), '1');
  assert.equal(cookieValue('a=1', 'A'), undefined);
});
