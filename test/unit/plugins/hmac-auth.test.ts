// HmacAuth: schema, signing string, clock skew, enforced headers, body digest, anonymous.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { HmacAuth, digestMatches, signingString } from '../../../src/plugins/http/auth/hmac-auth.js';
import { parseAuthParams } from '../../../src/plugins/http/auth/common.js';
import { FakeSession, type FakeRequest } from '../../helpers/fake-session.js';
import { fakeDeps, instance, problems, validConfig } from './auth-helpers.js';

const SECRET = 'svc-a-secret-svc-a-secret-svc-a-secret';
const CREDS = `- username: svc-a
  secret: ${SECRET}
  headers:
    X-Tenant: acme
    X-Team: core
- username: short
  secret: too-short
- client: svc-b
  key: svc-b-secret-svc-b-secret-svc-b-secret!
`;
const deps = () => fakeDeps({ 'default/hmac': { 'credentials.yaml': CREDS } });

/** Signs a request the way a client does. */
function signed(req: FakeRequest, o: { user?: string; secret?: string; alg?: string; headers?: string[]; header?: string } = {}): FakeRequest {
  const names = o.headers ?? ['@request-target', 'date'];
  const alg = o.alg ?? 'hmac-sha256';
  const s = new FakeSession(req);
  const text = signingString(s, names);
  assert.equal(typeof text, 'string');
  const sig = createHmac(alg.replace('hmac-', ''), o.secret ?? SECRET).update(text as string).digest('base64');
  const value = `hmac username="${o.user ?? 'svc-a'}", algorithm="${alg}", headers="${names.join(' ')}", signature="${sig}"`;
  return { ...req, headers: { ...req.headers, [o.header ?? 'authorization']: value } };
}
const date = (offsetMs = 0) => new Date(Date.now() + offsetMs).toUTCString();

test('defaults and rejected configs', () => {
  const c = validConfig('HmacAuth', { secretRefs: [{ name: 'hmac' }] });
  assert.deepEqual([c.usernameField, c.secretField, c.algorithms, c.clockSkew, c.validateRequestBody, c.minSecretLength, c.realm], ['username', 'secret', ['hmac-sha256', 'hmac-sha384', 'hmac-sha512'], 300, false, 32, 'edgion']);
  assert.deepEqual(problems('HmacAuth', { secretRefs: [{ name: 'h' }], algorithms: ['hmac-md5'] }), ['config.algorithms[0]: must be one of: hmac-sha256, hmac-sha384, hmac-sha512 (got "hmac-md5")']);
  assert.deepEqual(problems('HmacAuth', { secretRefs: [{ name: 'h' }], enforceHeaders: ['date', '(request-target)', 'bad header'] }), ['config.enforceHeaders[2]: "bad header" is not a header name or @request-target']);
  assert.match(problems('HmacAuth', { secretRefs: [{ name: 'h' }], clockSkew: -1 }).join(), /config\.clockSkew/);
});

test('auth-params parsing', () => {
  assert.deepEqual(parseAuthParams('username="a b", algorithm=hmac-sha256,  signature="x\\"y"'), { username: 'a b', algorithm: 'hmac-sha256', signature: 'x"y' });
  assert.equal(parseAuthParams('garbage'), undefined);
  assert.equal(parseAuthParams('a="unclosed'), undefined);
});

test('signing string: lower-case names, request target with the query, lines joined by \\n', () => {
  const s = new FakeSession({ method: 'POST', path: '/v1/items', query: 'a=1&b=2', headers: { Date: 'Tue, 01 Jan 2030 00:00:00 GMT', 'X-Body-Digest': 'SHA-256=abc' } });
  assert.equal(signingString(s, ['@request-target', 'date', 'x-body-digest']), '@request-target: post /v1/items?a=1&b=2\ndate: Tue, 01 Jan 2030 00:00:00 GMT\nx-body-digest: SHA-256=abc');
  assert.deepEqual(signingString(s, ['x-missing']), { missing: 'x-missing' });
});

test('a correctly signed request passes with the consumer and whitelisted headers', async () => {
  const p = instance(HmacAuth, { secretRefs: [{ name: 'hmac' }], upstreamHeaderFields: ['X-Tenant', 'X-Region'] }, deps());
  for (const alg of ['hmac-sha256', 'hmac-sha384', 'hmac-sha512']) {
    const { s, reply } = await p.run(signed({ method: 'GET', path: '/x', query: 'q=1', headers: { date: date(), 'x-region': 'forged' } }, { alg }));
    assert.equal(reply, undefined, alg);
    assert.equal(s.header('x-consumer-username'), 'svc-a');
    assert.equal(s.header('x-tenant'), 'acme');
    assert.equal(s.header('x-team'), undefined, 'not whitelisted');
    assert.equal(s.header('x-region'), undefined, 'whitelisted but not in the credential: the client value is removed');
    assert.ok(s.header('authorization'));
  }
  // Proxy-Authorization, the Signature header, (request-target) and x-date work too
  assert.equal((await p.run(signed({ headers: { date: date() } }, { header: 'proxy-authorization' }))).reply, undefined);
  const sig = signed({ headers: { 'x-date': date() } }, { headers: ['(request-target)', 'x-date'] });
  assert.equal((await p.run({ ...sig, headers: { ...sig.headers, signature: sig.headers!.authorization!.slice(5), authorization: '' } })).reply, undefined);
});

test('a request-target line without its name prefix is accepted too', async () => {
  const p = instance(HmacAuth, { secretRefs: [{ name: 'hmac' }] }, deps());
  const d = date();
  const sig = createHmac('sha256', SECRET).update(`get /x?q=1\ndate: ${d}`).digest('base64');
  const auth = `hmac username="svc-a", algorithm="hmac-sha256", headers="@request-target date", signature="${sig}"`;
  assert.equal((await p.run({ path: '/x', query: 'q=1', headers: { date: d, authorization: auth } })).reply, undefined);
  assert.equal((await p.run({ path: '/y', query: 'q=1', headers: { date: d, authorization: auth } })).reply?.status, 401);
});

test('usernameField / secretField; short secrets are ignored', async () => {
  const d = deps();
  const p = instance(HmacAuth, { secretRefs: [{ name: 'hmac' }], usernameField: 'client', secretField: 'key' }, d);
  assert.equal((await p.run(signed({ headers: { date: date() } }, { user: 'svc-b', secret: 'svc-b-secret-svc-b-secret-svc-b-secret!' }))).reply, undefined);
  const q = instance(HmacAuth, { secretRefs: [{ name: 'hmac' }] }, d);
  assert.match(d.logged.join('\n'), /secret of short .* shorter than minSecretLength/);
  assert.equal((await q.run(signed({ headers: { date: date() } }, { user: 'short', secret: 'too-short' }))).reply?.status, 401);
});

test('failures: 401 with WWW-Authenticate hmac realm and a descriptive message', async () => {
  const p = instance(HmacAuth, { secretRefs: [{ name: 'hmac' }], enforceHeaders: ['@request-target'], clockSkew: 60 }, deps());
  const cases: [FakeRequest, string][] = [
    [{}, 'Missing HMAC credentials'],
    [{ headers: { authorization: 'hmac garbage' } }, 'Malformed HMAC credentials'],
    [signed({ headers: { date: date() } }, { secret: 'wrong-secret-wrong-secret-wrong-secret' }), 'HMAC signature cannot be verified'],
    [signed({ headers: { date: date() } }, { user: 'nobody' }), 'HMAC signature cannot be verified'],
    [signed({ headers: { date: date(), host: 'h.test' } }, { headers: ['@request-target', 'host'] }), 'Date or X-Date must be signed'],
    [signed({ headers: { date: date() } }, { headers: ['date'] }), 'Header @request-target must be signed'],
    [signed({ headers: { date: date(-120_000) } }), 'date is outside the allowed clock skew'],
    [signed({ headers: { date: date(+120_000) } }), 'date is outside the allowed clock skew'],
    [signed({ headers: { date: 'yesterday' } }), 'date is not a valid date'],
  ];
  for (const [req, msg] of cases) {
    const { reply } = await p.run(req);
    assert.equal(reply?.status, 401, msg);
    assert.equal(reply?.headers?.['www-authenticate'], 'hmac realm="edgion"');
    assert.equal(reply?.body, `401 Unauthorized - ${msg}`);
  }
  // a signature made for another path does not pass
  const other = signed({ path: '/a', headers: { date: date() } });
  assert.equal((await p.run({ ...other, path: '/b' })).reply?.status, 401);
  // an algorithm outside the allowed list
  const only = instance(HmacAuth, { secretRefs: [{ name: 'hmac' }], algorithms: ['hmac-sha512'] }, deps());
  assert.equal((await only.run(signed({ headers: { date: date() } }))).reply?.body, '401 Unauthorized - HMAC algorithm not allowed');
});

test('RFC 3339 dates; clockSkew 0 turns the freshness check off', async () => {
  const p = instance(HmacAuth, { secretRefs: [{ name: 'hmac' }] }, deps());
  assert.equal((await p.run(signed({ headers: { date: new Date().toISOString() } }))).reply, undefined);
  const off = instance(HmacAuth, { secretRefs: [{ name: 'hmac' }], clockSkew: 0 }, deps());
  assert.equal((await off.run(signed({ headers: { date: date(-86_400_000) } }))).reply, undefined);
});

test('validateRequestBody: a signed digest header must match the body', async () => {
  const p = instance(HmacAuth, { secretRefs: [{ name: 'hmac' }], validateRequestBody: true, maxBodyBytes: 64 }, deps());
  const body = '{"amount":10}';
  const sha256 = createHash('sha256').update(body).digest('base64');
  const sha512 = createHash('sha512').update(body).digest('base64');
  const hs = ['@request-target', 'date', 'digest'];
  const ok = (digest: string, name = 'digest') => signed({ method: 'POST', body, headers: { date: date(), [name]: digest } }, { headers: ['@request-target', 'date', name] });
  assert.equal((await p.run(ok(`SHA-256=${sha256}`))).reply, undefined);
  assert.equal((await p.run(ok(`SHA-512=${sha512}`))).reply, undefined);
  assert.equal((await p.run(ok(`sha-256=:${sha256}:`, 'content-digest'))).reply, undefined);
  assert.equal((await p.run(ok(`SHA-256=${sha256}`, 'x-body-digest'))).reply, undefined);
  assert.equal((await p.run(ok(sha256, 'x-body-digest'))).reply, undefined);
  let r = await p.run(ok(`SHA-256=${createHash('sha256').update('other').digest('base64')}`));
  assert.equal(r.reply?.body, '401 Unauthorized - Body digest does not match');
  r = await p.run(signed({ method: 'POST', body, headers: { date: date(), digest: `SHA-256=${sha256}` } }));
  assert.equal(r.reply?.body, '401 Unauthorized - Header digest must be signed');
  r = await p.run(signed({ method: 'POST', body, headers: { date: date() } }));
  assert.equal(r.reply?.body, '401 Unauthorized - Missing body digest');
  const big = 'x'.repeat(100);
  r = await p.run(signed({ method: 'POST', body: big, headers: { date: date(), digest: `SHA-256=${createHash('sha256').update(big).digest('base64')}` } }, { headers: hs }));
  assert.equal(r.reply?.status, 413);
  assert.equal(digestMatches('digest', 'MD5=abc', Buffer.from('')), false, 'no usable algorithm is a mismatch');
});

test('hideCredentials; anonymous; no usable credentials → 500', async () => {
  const p = instance(HmacAuth, { secretRefs: [{ name: 'hmac' }], hideCredentials: true, anonymous: 'guest', upstreamHeaderFields: ['X-Tenant'] }, deps());
  let r = await p.run(signed({ headers: { date: date(), signature: 'x' } }, { header: 'proxy-authorization' }));
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('proxy-authorization'), undefined);
  assert.equal(r.s.header('signature'), undefined);
  r = await p.run({ headers: { 'x-tenant': 'forged' } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-anonymous-consumer'), 'true');
  assert.equal(r.s.header('x-consumer-username'), 'guest');
  assert.equal(r.s.header('x-tenant'), undefined);
  const none = instance(HmacAuth, { secretRefs: [{ name: 'gone' }] }, deps());
  r = await none.run(signed({ headers: { date: date() } }));
  assert.equal(r.reply?.status, 500);
});
