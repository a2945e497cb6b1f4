// LdapAuth end to end against a real slapd started here (private instance, free ports):
// simple bind with the user's credentials, bindDnTemplate, LDAPS and StartTLS with and without
// certificate verification, 401 on result 49, 503 when unreachable, the bind cache, anonymous,
// identifier headers, and a rejected configuration. Skips when slapd is missing (never in CI).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { slapdMissing, startSlapd, type Slapd } from '../../helpers/slapd.js';
import { accepted, baseConf, docs, entry, plugins, route, up } from './auth-conf.js';

const missing = slapdMissing();
if (missing && process.env.CI === 'true') throw new Error(`LdapAuth e2e needs slapd in CI: ${missing}`);
const skip = missing ? `slapd is not available: ${missing}` : false;

let e: Edgion;
let echo: EchoServer;
let ldap: Slapd;
let port: number;

before(async () => {
  if (skip) return;
  ldap = await startSlapd();
  echo = await startEcho('echo');
  port = await freePort();
  const dead = await freePort();
  const common = { ldapHost: '127.0.0.1', ldapPort: ldap.port, baseDn: ldap.baseDn, attribute: 'uid', timeout: 2000 };
  e = await Edgion.start({
    // the gateway trusts the directory's self-signed certificate (issued for 127.0.0.1 only)
    env: { NODE_EXTRA_CA_CERTS: ldap.certFile },
    conf: {
      'base.yaml': baseConf(port, echo.port),
      'auth.yaml': docs(
        plugins('ld-main', [entry('LdapAuth', { ...common, realm: 'corp', hideCredentials: true })]),
        plugins('ld-tpl', [entry('LdapAuth', { ...common, attribute: 'cn', bindDnTemplate: `uid={username},${ldap.baseDn}`, headerType: 'Basic' })]),
        plugins('ld-anon', [entry('LdapAuth', { ...common, anonymous: 'guest' })]),
        plugins('ld-ldaps', [entry('LdapAuth', { ...common, ldapPort: ldap.ldapsPort, ldaps: true })]),
        plugins('ld-ldaps-noverify', [entry('LdapAuth', { ...common, ldapHost: 'localhost', ldapPort: ldap.ldapsPort, ldaps: true, verifyLdapHost: false })]),
        plugins('ld-ldaps-mismatch', [entry('LdapAuth', { ...common, ldapHost: 'localhost', ldapPort: ldap.ldapsPort, ldaps: true })]),
        plugins('ld-starttls', [entry('LdapAuth', { ...common, startTls: true })]),
        plugins('ld-dead', [entry('LdapAuth', { ...common, ldapPort: dead })]),
        plugins('ld-cache', [entry('LdapAuth', { ...common, cacheTtl: 60 })]),
        plugins('ld-bad', [entry('LdapAuth', { ...common, ldaps: true, startTls: true })]),
        ...['main', 'tpl', 'anon', 'ldaps', 'ldaps-noverify', 'ldaps-mismatch', 'starttls', 'dead', 'cache', 'bad'].map((n) => route(`ld-${n}`, `ld-${n}.test`, `ld-${n}`, echo.port)),
      ),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
  await ldap?.stop();
});

const cred = (user: string, pass: string, scheme = 'ldap') => `${scheme} ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const get = (host: string, headers: Record<string, string> = {}) => request({ port, host, path: '/l', headers });

test('a simple bind with the user credentials lets the request through', { skip }, async () => {
  const r = await get('ld-main.test', { authorization: cred('alice', 'alice-pass'), 'x-anonymous-consumer': 'true', 'x-credential-identifier': 'root' });
  assert.equal(r.status, 200, r.body);
  assert.equal(up(r, 'x-credential-identifier'), 'alice');
  assert.equal(up(r, 'x-consumer-username'), 'alice');
  assert.equal(up(r, 'x-anonymous-consumer'), undefined);
  assert.equal(up(r, 'authorization'), undefined, 'hideCredentials');
  const p = await get('ld-main.test', { 'proxy-authorization': cred('bob', 'bob-pass'), authorization: 'Bearer other' });
  assert.equal(p.status, 200, 'Proxy-Authorization is preferred');
  assert.equal(up(p, 'x-credential-identifier'), 'bob');
  const c = await get('ld-main.test', { authorization: cred('carl,jr', 'carl-pass') });
  assert.equal(c.status, 200, 'a user name with a comma is escaped in the DN');
});

test('wrong password (result 49), unknown user, missing header → 401', { skip }, async () => {
  const cases: Record<string, string>[] = [{ authorization: cred('alice', 'nope') }, { authorization: cred('mallory', 'x') }, {}, { authorization: cred('alice', '') }, { authorization: cred('x,uid=alice', 'alice-pass') }];
  for (const h of cases) {
    const r = await get('ld-main.test', h);
    assert.equal(r.status, 401, JSON.stringify(h));
    assert.equal(r.headers['www-authenticate'], 'ldap realm="corp"');
    assert.equal(r.body, '401 Unauthorized');
  }
});

test('bindDnTemplate with a Basic header type', { skip }, async () => {
  assert.equal((await get('ld-tpl.test', { authorization: cred('bob', 'bob-pass', 'Basic') })).status, 200);
  const r = await get('ld-tpl.test', { authorization: cred('bob', 'bad', 'Basic') });
  assert.equal(r.status, 401);
  assert.equal(r.headers['www-authenticate'], 'Basic realm="API Gateway"');
});

test('LDAPS and StartTLS, verified; verification failures and an unreachable server → 503', { skip }, async () => {
  assert.equal((await get('ld-ldaps.test', { authorization: cred('alice', 'alice-pass') })).status, 200);
  assert.equal((await get('ld-ldaps.test', { authorization: cred('alice', 'bad') })).status, 401);
  assert.equal((await get('ld-starttls.test', { authorization: cred('bob', 'bob-pass') })).status, 200);
  assert.equal((await get('ld-ldaps-noverify.test', { authorization: cred('bob', 'bob-pass') })).status, 200, 'verifyLdapHost: false accepts a name mismatch');
  const mismatch = await get('ld-ldaps-mismatch.test', { authorization: cred('bob', 'bob-pass') });
  assert.equal(mismatch.status, 503, 'the certificate is not for "localhost"');
  const dead = await get('ld-dead.test', { authorization: cred('bob', 'bob-pass') });
  assert.equal(dead.status, 503);
  assert.equal(dead.body, '503 An unexpected error occurred');
});

test('anonymous without credentials', { skip }, async () => {
  const r = await get('ld-anon.test', { 'x-credential-identifier': 'forged' });
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-anonymous-consumer'), 'true');
  assert.equal(up(r, 'x-credential-identifier'), undefined);
  assert.equal(up(r, 'x-consumer-username'), 'guest');
  assert.equal((await get('ld-anon.test', { authorization: cred('alice', 'bad') })).status, 401);
});

test('a bad configuration is rejected in the status; the route fails closed', { skip }, async () => {
  const a = await accepted((p) => e.api(p), 'EdgionPlugins', 'ld-bad');
  assert.equal(a?.status, 'False');
  assert.match(a!.message, /config\.startTls: LdapAuth: ldaps and startTls cannot both be set/);
  assert.equal((await get('ld-bad.test', { authorization: cred('alice', 'alice-pass') })).status, 500);
});

test('successful binds are cached: the directory going away does not log a cached user out', { skip }, async () => {
  assert.equal((await get('ld-cache.test', { authorization: cred('alice', 'alice-pass') })).status, 200);
  await ldap.stop();
  assert.equal((await get('ld-cache.test', { authorization: cred('alice', 'alice-pass') })).status, 200, 'from the cache');
  assert.equal((await get('ld-cache.test', { authorization: cred('bob', 'bob-pass') })).status, 503, 'not cached: the directory is gone');
});
