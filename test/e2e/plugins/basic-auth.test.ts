// BasicAuth end to end: users from Secrets (bcrypt, apr1, {SHA}, plain; stringData and data),
// realm, hideCredentials, anonymous consumer, failure delay, and a rejected configuration.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { accepted, baseConf, docs, entry, plugins, route, secretData, secretText, up } from './auth-conf.js';

let e: Edgion;
let echo: EchoServer;
let port: number;

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  const users = [{ name: 'u-ann' }, { name: 'u-apu' }, { name: 'u-sam' }, { name: 'u-pat' }];
  e = await Edgion.start({
    conf: {
      'base.yaml': baseConf(port, echo.port),
      'auth.yaml': docs(
        secretText('u-ann', { username: 'ann', password: bcrypt.hashSync('ann-pw', 6).replace(/^\$2[ab]\$/, '$2y$') }),
        secretText('u-apu', { username: 'apu', password: '$apr1$xyz12$vTNrCNty62tUnUF0t0cdi/' }),
        secretData('u-sam', { username: 'sam', password: `{SHA}${createHash('sha1').update('sam-pw').digest('base64')}` }),
        secretText('u-pat', { username: 'pat', password: 'plain-pw' }),
        plugins('ba-main', [entry('BasicAuth', { secretRefs: users, realm: 'staff' })]),
        plugins('ba-hide', [entry('BasicAuth', { secretRefs: users, hideCredentials: true })]),
        plugins('ba-anon', [entry('BasicAuth', { secretRefs: users, anonymous: 'guest' })]),
        plugins('ba-slow', [entry('BasicAuth', { secretRefs: users, authFailureDelayMs: 300 })]),
        plugins('ba-bad', [entry('BasicAuth', { realm: 'x' })]),
        ...['main', 'hide', 'anon', 'slow', 'bad'].map((n) => route(`ba-${n}`, `ba-${n}.test`, `ba-${n}`, echo.port)),
      ),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const get = (host: string, headers: Record<string, string> = {}) => request({ port, host, path: '/b', headers });

test('each password format lets its user in; X-Consumer-Username upstream', async () => {
  for (const [u, p] of [['ann', 'ann-pw'], ['apu', 'secret'], ['sam', 'sam-pw'], ['pat', 'plain-pw']] as const) {
    const r = await get('ba-main.test', { authorization: basic(u, p), 'x-consumer-username': 'root' });
    assert.equal(r.status, 200, `${u}: ${r.body}`);
    assert.equal(up(r, 'x-consumer-username'), u);
    assert.equal(up(r, 'authorization'), basic(u, p));
  }
});

test('wrong password, unknown user, no credentials → 401 Basic realm', async () => {
  const cases: Record<string, string>[] = [{ authorization: basic('ann', 'nope') }, { authorization: basic('zed', 'x') }, {}];
  for (const h of cases) {
    const r = await get('ba-main.test', h);
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Basic realm="staff"');
    assert.equal(r.body, '401 Unauthorized - Authentication required');
  }
});

test('hideCredentials removes Authorization upstream', async () => {
  const r = await get('ba-hide.test', { authorization: basic('pat', 'plain-pw') });
  assert.equal(r.status, 200);
  assert.equal(up(r, 'authorization'), undefined);
  assert.equal(up(r, 'x-consumer-username'), 'pat');
});

test('anonymous consumer without credentials; wrong credentials still 401', async () => {
  let r = await get('ba-anon.test');
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-consumer-username'), 'guest');
  assert.equal(up(r, 'x-anonymous-consumer'), 'true');
  r = await get('ba-anon.test', { authorization: basic('ann', 'bad') });
  assert.equal(r.status, 401);
});

test('authFailureDelayMs delays failures', async () => {
  const t0 = performance.now();
  assert.equal((await get('ba-slow.test', { authorization: basic('pat', 'x') })).status, 401);
  assert.ok(performance.now() - t0 >= 280);
});

test('a bad configuration is rejected in the status; the route fails closed', async () => {
  const a = await accepted((p) => e.api(p), 'EdgionPlugins', 'ba-bad');
  assert.equal(a?.status, 'False');
  assert.match(a!.message, /config\.secretRefs: BasicAuth: BasicAuth needs secretRefs \(the users\) or an anonymous consumer/);
  assert.equal((await get('ba-bad.test', { authorization: basic('pat', 'plain-pw') })).status, 500);
});
