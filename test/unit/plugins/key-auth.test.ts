// KeyAuth: schema, sources in order, keys.yaml, whitelisted headers over forged ones,
// hideCredentials, anonymous consumer, webhook source, failure replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyAuth } from '../../../src/plugins/http/auth/key-auth.js';
import type { WebhookResolver } from '../../../src/plugins/runtime/key-get.js';
import { fakeDeps, instance, problems, validConfig } from './auth-helpers.js';

const KEYS = `- key: k-orion
  X-Consumer-Username: orion
  X-Tenant: t-north
  X-Plan: gold
  X-Level: 3
- key: k-vega
  X-Consumer-Username: vega
- key: k-orion
  X-Consumer-Username: shadow
- key: "k-bad"
  X-Consumer-Username: "bad\\r\\nX-Evil: 1"
`;
const deps = () => fakeDeps({ 'default/keys': { 'keys.yaml': KEYS }, 'ops/more': { 'keys.yaml': '- token: t-1\n  X-Consumer-Username: ops\n' } });

test('defaults', () => {
  assert.deepEqual(validConfig('KeyAuth', { secretRefs: [{ name: 'keys' }] }), {
    secretRefs: [{ name: 'keys' }],
    keySources: [
      { type: 'header', name: 'apikey' },
      { type: 'query', name: 'apikey' },
    ],
    keyField: 'key',
    upstreamHeaderFields: [],
    hideCredentials: false,
    realm: 'API Gateway',
    authFailureDelayMs: 0,
  });
});

test('bad configs are rejected with the field', () => {
  assert.deepEqual(problems('KeyAuth', { secretRefs: [{ name: 'k' }], keySources: [{ type: 'path' }] }), ['config.keySources[0].type: KeyAuth reads keys from header, query, cookie, ctx, webhook only (got "path")']);
  assert.deepEqual(problems('KeyAuth', { secretRefs: [{ name: 'k' }], keySources: [{ type: 'header' }] }), ['config.keySources[0].name: a header key needs a name']);
  assert.deepEqual(problems('KeyAuth', { secretRefs: [{ name: 'k' }], keySources: [] }), ['config.keySources: must not be empty']);
  assert.deepEqual(problems('KeyAuth', { secretRefs: [{ name: 'k' }], upstreamHeaderFields: ['X Tenant'] }), ['config.upstreamHeaderFields[0]: "X Tenant" is not a valid HTTP header name']);
  assert.deepEqual(problems('KeyAuth', {}), ['config.secretRefs: no secretRefs: every key is rejected (warning)']);
});

test('a valid key sets the whitelisted fields over forged client values', async () => {
  const p = instance(KeyAuth, { secretRefs: [{ name: 'keys' }], upstreamHeaderFields: ['X-Consumer-Username', 'X-Tenant', 'X-Level', 'X-Region'] }, deps());
  const { s, reply } = await p.run({ headers: { apikey: 'k-orion', 'x-tenant': 'forged', 'x-region': 'forged', 'x-anonymous-consumer': 'true' } });
  assert.equal(reply, undefined);
  assert.equal(s.header('x-consumer-username'), 'orion');
  assert.equal(s.header('x-tenant'), 't-north');
  assert.equal(s.header('x-level'), '3', 'numbers in keys.yaml become text');
  assert.equal(s.header('x-region'), undefined, 'a whitelisted field the entry lacks removes the client value');
  assert.equal(s.header('x-plan'), undefined, 'not whitelisted');
  assert.equal(s.header('x-anonymous-consumer'), undefined);
  assert.equal(s.header('apikey'), 'k-orion');
});

test('duplicates: first wins; CR/LF values are not forwarded; keys are case-sensitive', async () => {
  const p = instance(KeyAuth, { secretRefs: [{ name: 'keys' }], upstreamHeaderFields: ['X-Consumer-Username'] }, deps());
  assert.equal((await p.run({ headers: { apikey: 'k-orion' } })).s.header('x-consumer-username'), 'orion');
  const bad = await p.run({ headers: { apikey: 'k-bad', 'x-consumer-username': 'admin' } });
  assert.equal(bad.reply, undefined);
  assert.equal(bad.s.header('x-consumer-username'), undefined);
  assert.equal((await p.run({ headers: { apikey: 'K-ORION' } })).reply?.status, 401);
});

test('no key → 401 Missing; unknown key → 401 Invalid; realm in WWW-Authenticate', async () => {
  const p = instance(KeyAuth, { secretRefs: [{ name: 'keys' }], realm: 'Key Zone' }, deps());
  let { reply } = await p.run();
  assert.equal(reply?.status, 401);
  assert.equal(reply?.headers?.['www-authenticate'], 'ApiKey realm="Key Zone"');
  assert.equal(reply?.body, '401 Unauthorized - Missing API key');
  ({ reply } = await p.run({ query: 'apikey=nope' }));
  assert.equal(reply?.body, '401 Unauthorized - Invalid API key');
  ({ reply } = await p.run({ headers: { apikey: '' } }));
  assert.equal(reply?.body, '401 Unauthorized - Missing API key', 'an empty value is no key');
});

test('sources are tried in order; the first with a value wins; keyField and other namespaces', async () => {
  const p = instance(
    KeyAuth,
    {
      keySources: [
        { type: 'header', name: 'X-Api-Key' },
        { type: 'query', name: 'k' },
        { type: 'cookie', name: 'ak' },
        { type: 'ctx', name: 'key_var' },
      ],
      keyField: 'token',
      secretRefs: [{ name: 'more', namespace: 'ops' }],
      upstreamHeaderFields: ['X-Consumer-Username'],
    },
    deps(),
  );
  assert.equal((await p.run({ headers: { 'x-api-key': 't-1' }, query: 'k=zzz' })).reply, undefined);
  assert.equal((await p.run({ query: 'k=t-1' })).reply, undefined);
  assert.equal((await p.run({ headers: { cookie: 'a=b; ak=t-1' } })).reply, undefined);
  assert.equal((await p.run({ vars: { key_var: 't-1' } })).s.header('x-consumer-username'), 'ops');
  assert.equal((await p.run({ headers: { 'x-api-key': 'zzz' }, query: 'k=t-1' })).reply?.status, 401, 'header wins even when wrong');
});

test('hideCredentials removes a header or ctx source, not query or cookie', async () => {
  const p = instance(KeyAuth, { keySources: [{ type: 'header', name: 'X-Api-Key' }, { type: 'ctx', name: 'kv' }, { type: 'query', name: 'k' }], secretRefs: [{ name: 'keys' }], hideCredentials: true }, deps());
  let r = await p.run({ headers: { 'x-api-key': 'k-vega' } });
  assert.equal(r.s.header('x-api-key'), undefined);
  r = await p.run({ vars: { kv: 'k-vega' } });
  assert.equal(r.s.getVar('kv'), undefined);
  r = await p.run({ query: 'k=k-vega' });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.uri, '/?k=k-vega');
});

test('anonymous: no key passes with the anonymous headers; whitelisted forged headers removed; wrong key still 401', async () => {
  const p = instance(KeyAuth, { secretRefs: [{ name: 'keys' }], anonymous: 'anon-user', upstreamHeaderFields: ['X-Tenant'] }, deps());
  let r = await p.run({ headers: { 'x-tenant': 'forged', 'x-consumer-username': 'admin' } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-anonymous-consumer'), 'true');
  assert.equal(r.s.header('x-consumer-username'), 'anon-user');
  assert.equal(r.s.header('x-tenant'), undefined);
  r = await p.run({ headers: { apikey: 'wrong' } });
  assert.equal(r.reply?.status, 401);
  r = await p.run({ headers: { apikey: 'k-vega', 'x-consumer-username': 'admin' } });
  assert.equal(r.s.header('x-consumer-username'), undefined, 'a forged username never passes, even when not whitelisted');
});

test('a webhook source resolves the key (async) and falls through when it yields nothing', async () => {
  const calls: string[] = [];
  const webhook: WebhookResolver = async (ref, _extract, s) => {
    calls.push(ref);
    return s.header('x-session') === 'good' ? 'k-vega' : undefined;
  };
  const p = instance(
    KeyAuth,
    { keySources: [{ type: 'webhook', webhookRef: 'infra/resolver', extract: { source: 'body', path: 'key' } }, { type: 'header', name: 'apikey' }], secretRefs: [{ name: 'keys' }], upstreamHeaderFields: ['X-Consumer-Username'] },
    { ...deps(), webhook },
  );
  let r = await p.run({ headers: { 'x-session': 'good' } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-consumer-username'), 'vega');
  r = await p.run({ headers: { apikey: 'k-orion' } });
  assert.equal(r.s.header('x-consumer-username'), 'orion', 'falls through to the next source');
  r = await p.run();
  assert.equal(r.reply?.body, '401 Unauthorized - Missing API key');
  assert.deepEqual(calls, ['infra/resolver', 'infra/resolver', 'infra/resolver']);
  assert.deepEqual(KeyAuth.linkSysRefs!(validConfig('KeyAuth', { keySources: [{ type: 'webhook', webhookRef: 'infra/resolver', extract: { source: 'bodyText' } }], secretRefs: [{ name: 'k' }] }) as never), ['infra/resolver']);
});

test('a missing Secret or a broken keys.yaml is logged; keys then fail', async () => {
  const d = fakeDeps({ 'default/broken': { 'keys.yaml': 'key: [unclosed' } });
  const p = instance(KeyAuth, { secretRefs: [{ name: 'broken' }, { name: 'gone' }] }, d);
  assert.match(d.logged.join('\n'), /keys\.yaml of default\/broken/);
  assert.match(d.logged.join('\n'), /default\/gone is missing/);
  assert.equal((await p.run({ headers: { apikey: 'x' } })).reply?.status, 401);
});
