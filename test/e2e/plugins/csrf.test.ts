// Csrf end to end: safe requests get the token cookie (kept when valid), unsafe requests need the
// same token in header and cookie, signed with the key and not expired; every failure is 401 JSON.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, type Res } from '../../helpers/http.js';

let e: Edgion;
let echo: EchoServer;
let port: number;
const KEY = 'csrf-signing-key-0123456789abcdef';

const plugin = (name: string, config: Record<string, unknown>) => `apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: ${name}, namespace: default }
spec:
  requestPlugins:
    - type: Csrf
      config: ${JSON.stringify(config)}
`;
const route = (name: string, host: string, set: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules:
    - filters: [{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: EdgionPlugins, name: ${set} } }]
      backendRefs: [{ name: echo, port: ${echo.port} }]
`;

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('echo', echo.port)].join('---\n'),
      'plugins.yaml': [plugin('csrf', { key: KEY, expires: 3600 }), plugin('named', { key: KEY, name: 'x-csrf' }), plugin('bad', { expires: 10 })].join('---\n'),
      'routes.yaml': [route('csrf', 'csrf.test', 'csrf'), route('named', 'named.test', 'named'), route('bad', 'bad.test', 'bad')].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const call = (host: string, method: string, headers: Record<string, string> = {}): Promise<Res> => request({ port, host, path: '/form', method, headers, ...(method === 'POST' ? { body: 'a=1' } : {}) });
const tokenCookie = (r: Res, name = 'apisix-csrf-token') => (r.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${name}=`));
const valueOf = (cookie: string) => cookie.slice(cookie.indexOf('=') + 1, cookie.indexOf(';'));

function token(key: string, issuedAt: number): string {
  const random = 'ab'.repeat(32);
  const sign = createHash('sha256').update(`{expires:${issuedAt},random:${random},key:${key}}`).digest('hex');
  return Buffer.from(JSON.stringify({ random, expires: issuedAt, sign })).toString('base64');
}

test('GET gets the token cookie: Path=/, Secure, SameSite=Lax, Max-Age, not HttpOnly; token format', async () => {
  const r = await call('csrf.test', 'GET');
  assert.equal(r.status, 200);
  const c = tokenCookie(r);
  assert.ok(c);
  assert.match(c, /; Path=\/; Secure; SameSite=Lax; Max-Age=3600$/);
  assert.doesNotMatch(c, /HttpOnly/i);
  const t = JSON.parse(Buffer.from(valueOf(c), 'base64').toString());
  assert.deepEqual(Object.keys(t), ['random', 'expires', 'sign']);
  assert.match(t.random, /^[0-9a-f]{64}$/);
  assert.ok(Math.abs(t.expires - Date.now() / 1000) < 60);
  assert.equal(t.sign, createHash('sha256').update(`{expires:${t.expires},random:${t.random},key:${KEY}}`).digest('hex'));
});

test('a GET with a valid token cookie keeps it; an invalid one is replaced (DECISIONS §37)', async () => {
  const t = valueOf(tokenCookie(await call('csrf.test', 'GET'))!);
  const kept = await call('csrf.test', 'GET', { cookie: `apisix-csrf-token=${t}` });
  assert.equal(tokenCookie(kept), undefined);
  const replaced = await call('csrf.test', 'HEAD', { cookie: 'apisix-csrf-token=garbage' });
  assert.ok(tokenCookie(replaced));
});

test('POST with the same valid token in header and cookie reaches the backend', async () => {
  const t = valueOf(tokenCookie(await call('csrf.test', 'GET'))!);
  const r = await call('csrf.test', 'POST', { 'apisix-csrf-token': t, cookie: `session=1; apisix-csrf-token=${t}` });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.method, 'POST');
  assert.equal(r.json.body, 'a=1');
  const own = token(KEY, Math.floor(Date.now() / 1000));
  assert.equal((await call('csrf.test', 'DELETE', { 'apisix-csrf-token': own, cookie: `apisix-csrf-token=${own}` })).status, 200, 'a token made by the documented recipe works');
});

test('failures: no header, no cookie, mismatch, bad signature, expired: 401 with the JSON error', async () => {
  const t = valueOf(tokenCookie(await call('csrf.test', 'GET'))!);
  const cases: [Record<string, string>, string][] = [
    [{ cookie: `apisix-csrf-token=${t}` }, 'no csrf token in headers'],
    [{ 'apisix-csrf-token': t }, 'no csrf cookie'],
    [{ 'apisix-csrf-token': t, cookie: `apisix-csrf-token=${token(KEY, Math.floor(Date.now() / 1000))}` }, 'csrf token mismatch'],
    [{ 'apisix-csrf-token': token('other-key', 1e10), cookie: `apisix-csrf-token=${token('other-key', 1e10)}` }, 'Failed to verify the csrf token signature'],
    [{ 'apisix-csrf-token': token(KEY, Math.floor(Date.now() / 1000) - 7200), cookie: `apisix-csrf-token=${token(KEY, Math.floor(Date.now() / 1000) - 7200)}` }, 'Failed to verify the csrf token signature'],
  ];
  const before = echo.seen.length;
  for (const [headers, msg] of cases) {
    const r = await call('csrf.test', 'POST', headers);
    assert.equal(r.status, 401, msg);
    assert.match(String(r.headers['content-type']), /application\/json/);
    assert.deepEqual(r.json, { error_msg: msg });
  }
  assert.equal(echo.seen.length, before, 'nothing reached the backend');
});

test('OPTIONS is safe: passes without a token', async () => {
  assert.equal((await call('csrf.test', 'OPTIONS')).status, 200);
});

test('the cookie and header name follow `name`', async () => {
  const c = tokenCookie(await call('named.test', 'GET'), 'x-csrf');
  assert.ok(c);
  const t = valueOf(c);
  assert.equal((await call('named.test', 'PUT', { 'x-csrf': t, cookie: `x-csrf=${t}` })).status, 200);
});

test('a config without key is rejected and its route fails closed', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.requestPlugins\[0\]\.config/);
  assert.match(accepted.message, /key/);
  assert.equal((await call('bad.test', 'GET')).status, 500);
});
