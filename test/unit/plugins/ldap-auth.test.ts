// LdapAuth: schema, bind DN construction (RFC 4514 escaping), credential parsing, anonymous.
// Binding against a real directory is in test/e2e/plugins/ldap-auth.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindDn, escapeDnValue, LdapAuth } from '../../../src/plugins/http/auth/ldap-auth.js';
import { basic, instance, problems, validConfig } from './auth-helpers.js';

const base = { ldapHost: '127.0.0.1', ldapPort: 1, baseDn: 'ou=people,dc=x', attribute: 'uid', timeout: 200 };

test('defaults and rejected configs', () => {
  const c = validConfig('LdapAuth', base);
  assert.deepEqual(
    [c.ldaps, c.startTls, c.verifyLdapHost, c.headerType, c.realm, c.cacheTtl, c.keepalive, c.credentialIdentifierHeader, c.anonymousHeader, c.hideCredentials],
    [false, false, true, 'ldap', 'API Gateway', 60, 60000, 'X-Credential-Identifier', 'X-Anonymous-Consumer', false],
  );
  assert.equal(validConfig('LdapAuth', { ldapHost: 'h', baseDn: 'b', attribute: 'a' }).ldapPort, undefined, '389, or 636 with ldaps, chosen at run time');
  assert.deepEqual(problems('LdapAuth', { ldapHost: 'h' }), ['config: required field "baseDn" is missing', 'config: required field "attribute" is missing']);
  assert.deepEqual(problems('LdapAuth', { ...base, ldaps: true, startTls: true }), ['config.startTls: ldaps and startTls cannot both be set (ldaps is TLS from the start)']);
  assert.deepEqual(problems('LdapAuth', { ...base, bindDnTemplate: 'cn=admin' }), ['config.bindDnTemplate: must contain {username}']);
  assert.deepEqual(problems('LdapAuth', { ...base, anonymousHeader: 'X Anon' }), ['config.anonymousHeader: "X Anon" is not a valid HTTP header name']);
  assert.match(problems('LdapAuth', { ...base, ldapPort: 70000 }).join(), /config\.ldapPort/);
});

test('bind DN: attribute=user,baseDn or the template, with the user escaped', () => {
  assert.equal(escapeDnValue('carl,jr'), 'carl\\,jr');
  assert.equal(escapeDnValue('#x'), '\\#x');
  assert.equal(escapeDnValue(' #a+b=c; "d" <e>\\ '), '\\ #a\\+b\\=c\\; \\"d\\" \\<e\\>\\\\\\ ');
  assert.equal(bindDn('alice', { attribute: 'uid', baseDn: 'ou=people,dc=x' }), 'uid=alice,ou=people,dc=x');
  assert.equal(bindDn('x,cn=admin', { attribute: 'uid', baseDn: 'dc=x' }), 'uid=x\\,cn\\=admin,dc=x', 'no DN injection');
  assert.equal(bindDn('alice', { attribute: 'uid', baseDn: 'dc=x', bindDnTemplate: 'cn={username},ou=staff,dc=x' }), 'cn=alice,ou=staff,dc=x');
});

test('missing or malformed credentials and empty passwords are 401 without asking the directory', async () => {
  const p = instance(LdapAuth, { ...base, realm: 'corp' });
  for (const auth of [undefined, 'Basic abc', 'ldap !!!', basic('alice', '', 'ldap')]) {
    const { reply } = await p.run({ headers: auth ? { authorization: auth } : {} });
    assert.equal(reply?.status, 401, String(auth));
    assert.equal(reply?.headers?.['www-authenticate'], 'ldap realm="corp"');
    assert.equal(reply?.body, '401 Unauthorized');
  }
  await p.close();
});

test('anonymous: anonymous header and consumer name, no identifier header', async () => {
  const p = instance(LdapAuth, { ...base, anonymous: 'guest', credentialIdentifierHeader: 'X-Who', anonymousHeader: 'X-Anon' });
  const { s, reply } = await p.run({ headers: { 'x-who': 'root' } });
  assert.equal(reply, undefined);
  assert.equal(s.header('x-anon'), 'true');
  assert.equal(s.header('x-who'), undefined, 'no credential header for an anonymous consumer (DECISIONS §28)');
  assert.equal(s.header('x-anonymous-consumer'), 'true');
  assert.equal(s.header('x-consumer-username'), 'guest');
  await p.close();
});
