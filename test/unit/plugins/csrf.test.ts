// Csrf: schema, token format and verification, handler decisions on a fake session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { Csrf, issueCsrfToken, verifyCsrfToken } from '../../../src/plugins/http/security/csrf.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from './security-deps.js';

const registry = builtinRegistry();
const validate = (config: unknown) => registry.validateEntry('requestPlugins', { type: 'Csrf', config });
const KEY = 'a-long-enough-signing-key';

test('defaults and rejected configs', () => {
  assert.deepEqual(validate({ key: KEY }).config, { key: KEY, expires: 7200, name: 'apisix-csrf-token' });
  assert.match(validate({}).problems.map((p) => `${p.path}: ${p.message}`).join('\n'), /^config: .*key/m);
  assert.match(validate({ key: '' }).problems[0]!.path, /config\.key/);
  assert.match(validate({ key: KEY, expires: 0 }).problems[0]!.path, /config\.expires/);
  assert.match(validate({ key: KEY, name: 'bad name' }).problems[0]!.path, /config\.name/);
  const short = validate({ key: 'short' }).problems;
  assert.equal(short[0]?.severity, 'warning', 'a short key is a warning, not an error');
});

test('tokens: format, signature, lifetime counted from the time they carry', () => {
  const now = 1_700_000_000;
  const t = issueCsrfToken(KEY, now);
  const parsed = JSON.parse(Buffer.from(t, 'base64').toString());
  assert.deepEqual(Object.keys(parsed), ['random', 'expires', 'sign']);
  assert.equal(parsed.expires, now);
  assert.ok(verifyCsrfToken(t, KEY, 100, now + 100));
  assert.ok(!verifyCsrfToken(t, KEY, 100, now + 101), 'expired');
  assert.ok(!verifyCsrfToken(t, 'other', 100, now), 'other key');
  assert.ok(!verifyCsrfToken('%%%', KEY, 100, now));
  assert.ok(!verifyCsrfToken(Buffer.from('{"random":1}').toString('base64'), KEY, 100, now));
  const forged = Buffer.from(JSON.stringify({ ...parsed, expires: now + 5000 })).toString('base64');
  assert.ok(!verifyCsrfToken(forged, KEY, 100, now + 5000), 'changing the time breaks the signature');
});

function run(req: ConstructorParameters<typeof FakeSession>[0], now = Date.now()) {
  const c = validate({ key: KEY, expires: 60 }).config as never;
  const s = new FakeSession(req);
  return { s, reply: Csrf.create(c, fakeDeps({ now: () => now })).onRequest!(s) as { status: number; body: string } | undefined };
}

test('GET issues a cookie; a valid one is kept', () => {
  const { s, reply } = run({ method: 'GET' });
  assert.equal(reply, undefined);
  const cookie = s.responseHeaders.get('set-cookie') as string;
  assert.match(cookie, /^apisix-csrf-token=[A-Za-z0-9+/=]+; Path=\/; Secure; SameSite=Lax; Max-Age=60$/);
  const token = cookie.slice(cookie.indexOf('=') + 1, cookie.indexOf(';'));
  const again = run({ method: 'GET', headers: { cookie: `apisix-csrf-token=${token}` } });
  assert.equal(again.s.responseHeaders.get('set-cookie'), undefined);
});

test('POST decisions: each failure has its message; matching valid token passes', () => {
  const t = issueCsrfToken(KEY, Math.floor(Date.now() / 1000));
  const body = (r: { body: string } | undefined) => JSON.parse(r!.body).error_msg;
  assert.equal(body(run({ method: 'POST' }).reply), 'no csrf token in headers');
  assert.equal(body(run({ method: 'POST', headers: { 'apisix-csrf-token': t } }).reply), 'no csrf cookie');
  assert.equal(body(run({ method: 'POST', headers: { 'apisix-csrf-token': t, cookie: 'apisix-csrf-token=x' } }).reply), 'csrf token mismatch');
  assert.equal(body(run({ method: 'POST', headers: { 'apisix-csrf-token': 'x', cookie: 'apisix-csrf-token=x' } }).reply), 'Failed to verify the csrf token signature');
  assert.equal(run({ method: 'POST', headers: { 'apisix-csrf-token': t, cookie: `apisix-csrf-token=${t}` } }).reply, undefined);
  assert.equal(run({ method: 'POST', headers: { 'apisix-csrf-token': t, cookie: `apisix-csrf-token=${t}` } }, Date.now() + 120_000).reply?.status, 401, 'expired');
});
