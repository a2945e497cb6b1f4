// BasicAuth: schema, htpasswd formats, anonymous consumer, cache, failure replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { BasicAuth } from '../../../src/plugins/http/auth/basic-auth.js';
import { hashKind, md5Crypt, passwordVerifier } from '../../../src/plugins/http/auth/htpasswd.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { basic, fakeDeps, instance, problems, validConfig } from './auth-helpers.js';

const sha = (p: string) => `{SHA}${createHash('sha1').update(p).digest('base64')}`;
const users = {
  'default/u-bcrypt': { username: 'ann', password: bcrypt.hashSync('ann-pw', 4) },
  'default/u-2y': { username: 'yves', password: bcrypt.hashSync('yves-pw', 4).replace(/^\$2[ab]\$/, '$2y$') },
  'default/u-sha': { username: 'sam', password: sha('sam-pw') },
  'default/u-apr1': { username: 'apu', password: '$apr1$xyz12$vTNrCNty62tUnUF0t0cdi/' }, // openssl passwd -apr1 -salt xyz12 secret
  'default/u-md5': { username: 'mo', password: '$1$abcdefgh$Ps6mtBcCj4TZHets6p0KA1' }, // openssl passwd -1 -salt abcdefgh 'p@ss wörd'
  'default/u-plain': { username: 'pat', password: 'plain-pw' },
  'default/u-dup': { username: 'pat', password: 'other' },
};
const refs = Object.keys(users).map((k) => ({ name: k.split('/')[1]! }));

test('defaults, and configs that cannot work are rejected with the field', () => {
  assert.deepEqual(validConfig('BasicAuth', { secretRefs: [{ name: 'a' }] }), { secretRefs: [{ name: 'a' }], realm: 'API Gateway', hideCredentials: false, authFailureDelayMs: 0 });
  assert.deepEqual(problems('BasicAuth', {}), ['config.secretRefs: BasicAuth needs secretRefs (the users) or an anonymous consumer']);
  assert.deepEqual(problems('BasicAuth', { secretRefs: [] }), ['config.secretRefs: must not be empty']);
  assert.match(problems('BasicAuth', { secretRefs: [{ name: 'a' }], realm: '' }).join(), /config\.realm/);
  assert.match(problems('BasicAuth', { secretRefs: [{ name: 'a' }], authFailureDelayMs: -1 }).join(), /config\.authFailureDelayMs/);
  assert.deepEqual(problems('BasicAuth', { anonymous: 'guest' }), []);
});

test('md5-crypt and apr1 match openssl passwd', () => {
  assert.equal(md5Crypt('secret', 'xyz12', '$apr1$'), '$apr1$xyz12$vTNrCNty62tUnUF0t0cdi/');
  assert.equal(md5Crypt('p@ss wörd', 'abcdefgh', '$1$'), '$1$abcdefgh$Ps6mtBcCj4TZHets6p0KA1');
  assert.equal(md5Crypt('', 's', '$1$'), '$1$s$iXWZU0LDEJ7Jjmms7KFsH0');
  assert.deepEqual(['$2b$10$x', '{SHA}x', '$apr1$a$b', '$1$a$b', 'hunter2', '$5$x'].map(hashKind), ['bcrypt', 'sha1', 'apr1', 'md5-crypt', 'plain', 'plain']);
  assert.equal(passwordVerifier('$apr1$xyz12$vTNrCNty62tUnUF0t0cdi/')('secret'), true);
  assert.equal(passwordVerifier('$apr1$xyz12$vTNrCNty62tUnUF0t0cdi/')('Secret'), false);
});

test('every password format lets its user in with X-Consumer-Username', async () => {
  const p = instance(BasicAuth, { secretRefs: refs, realm: 'staff' }, fakeDeps(users));
  for (const [user, pw] of [['ann', 'ann-pw'], ['yves', 'yves-pw'], ['sam', 'sam-pw'], ['apu', 'secret'], ['mo', 'p@ss wörd'], ['pat', 'plain-pw']] as const) {
    const { s, reply } = await p.run({ headers: { authorization: basic(user, pw), 'x-anonymous-consumer': 'true' } });
    assert.equal(reply, undefined, `${user} should pass`);
    assert.equal(s.header('x-consumer-username'), user);
    assert.equal(s.header('x-anonymous-consumer'), undefined, 'a forged anonymous flag is removed');
    assert.equal(s.header('authorization'), basic(user, pw), 'kept without hideCredentials');
  }
});

test('wrong password, unknown user, duplicate user, malformed and missing credentials → 401', async () => {
  const p = instance(BasicAuth, { secretRefs: refs, realm: 'staff' }, fakeDeps(users));
  for (const auth of [basic('ann', 'nope'), basic('zed', 'x'), basic('pat', 'other'), 'Basic !!!', 'Basic', 'Basic ' + Buffer.from('nocolon').toString('base64'), undefined, 'Bearer abc']) {
    const { reply } = await p.run({ headers: auth ? { authorization: auth } : {} });
    assert.equal(reply?.status, 401, String(auth));
    assert.equal(reply?.headers?.['www-authenticate'], 'Basic realm="staff"');
    assert.equal(reply?.body, '401 Unauthorized - Authentication required');
  }
});

test('hideCredentials removes Authorization; scheme is case-insensitive', async () => {
  const p = instance(BasicAuth, { secretRefs: refs, hideCredentials: true }, fakeDeps(users));
  const { s, reply } = await p.run({ headers: { authorization: basic('pat', 'plain-pw', 'basic') } });
  assert.equal(reply, undefined);
  assert.equal(s.header('authorization'), undefined);
});

test('anonymous: no credentials pass as the anonymous consumer; bad credentials still fail', async () => {
  const p = instance(BasicAuth, { secretRefs: refs, anonymous: 'guest' }, fakeDeps(users));
  let r = await p.run({ headers: { 'x-consumer-username': 'admin' } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-consumer-username'), 'guest');
  assert.equal(r.s.header('x-anonymous-consumer'), 'true');
  r = await p.run({ headers: { authorization: basic('ann', 'bad') } });
  assert.equal(r.reply?.status, 401);
  const only = instance(BasicAuth, { anonymous: '' });
  r = await only.run({ headers: { 'x-consumer-username': 'admin' } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-consumer-username'), undefined, 'a nameless anonymous consumer has no username');
  assert.equal(r.s.header('x-anonymous-consumer'), 'true');
});

test('a missing Secret is logged and its user rejected', async () => {
  const deps = fakeDeps({});
  const p = instance(BasicAuth, { secretRefs: [{ name: 'gone', namespace: 'other' }] }, deps);
  assert.match(deps.logged.join('\n'), /Secret other\/gone is missing/);
  assert.equal((await p.run({ headers: { authorization: basic('a', 'b') } })).reply?.status, 401);
});

test('successful verifications are cached for 300 s', async () => {
  const deps = fakeDeps({ 'default/u': { username: 'ann', password: bcrypt.hashSync('pw', 4) } });
  const inst = BasicAuth.create(validConfig('BasicAuth', { secretRefs: [{ name: 'u' }] }) as never, deps);
  const req = () => new FakeSession({ headers: { authorization: basic('ann', 'pw') } });
  const first = inst.onRequest!(req());
  assert.ok(first instanceof Promise, 'bcrypt runs the first time');
  assert.equal(await first, undefined);
  const again = inst.onRequest!(req());
  assert.ok(!(again instanceof Promise), 'the second verification comes from the cache (no bcrypt)');
  deps.clock.now += 301_000;
  const expired = inst.onRequest!(req());
  assert.ok(expired instanceof Promise, 'after 300 s bcrypt runs again');
  assert.equal(await expired, undefined);
  const wrong = inst.onRequest!(new FakeSession({ headers: { authorization: basic('ann', 'other') } }));
  assert.equal(((await wrong) as { status: number }).status, 401, 'a cached password does not open the door to another one');
});

test('authFailureDelayMs delays failures only', async () => {
  const p = instance(BasicAuth, { secretRefs: refs, authFailureDelayMs: 120 }, fakeDeps(users));
  let t = Date.now();
  assert.equal((await p.run({ headers: { authorization: basic('pat', 'x') } })).reply?.status, 401);
  assert.ok(Date.now() - t >= 110);
  t = Date.now();
  assert.equal((await p.run({ headers: { authorization: basic('pat', 'plain-pw') } })).reply, undefined);
  assert.ok(Date.now() - t < 100);
});
