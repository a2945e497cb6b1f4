// JweDecrypt end to end: a random 32-byte key in Secret data, the decrypted payload upstream in
// the forward header and as payload headers, the statuses of the table (403/400/500), and a
// rejected configuration.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { accepted, baseConf, docs, entry, plugins, route, secretData, up } from './auth-conf.js';

let e: Edgion;
let echo: EchoServer;
let port: number;
const KEY = randomBytes(32);
const enc = (payload: string, key: Uint8Array = KEY, alg = 'A256GCM') => new CompactEncrypt(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'dir', enc: alg }).encrypt(key);

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': baseConf(port, echo.port),
      'auth.yaml': docs(
        secretData('jwe-key', { secret: KEY }),
        secretData('jwe-short', { secret: randomBytes(16) }),
        plugins('jw-main', [entry('JweDecrypt', { secretRef: { name: 'jwe-key' }, stripPrefix: 'Bearer ', forwardHeader: 'x-decrypted-claims', hideCredentials: true, payloadToHeaders: { sub: 'X-User-Id', 'org.name': 'X-Org' } })]),
        plugins('jw-lax', [entry('JweDecrypt', { secretRef: { name: 'jwe-key' }, strict: false })]),
        plugins('jw-short', [entry('JweDecrypt', { secretRef: { name: 'jwe-short' } })]),
        plugins('jw-bad', [entry('JweDecrypt', { secretRef: { name: 'jwe-key' }, keyManagementAlgorithm: 'RSA-OAEP-256' })]),
        ...['main', 'lax', 'short', 'bad'].map((n) => route(`jw-${n}`, `jw-${n}.test`, `jw-${n}`, echo.port)),
      ),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string, headers: Record<string, string> = {}) => request({ port, host, path: '/d', headers });

test('the payload reaches the upstream in forwardHeader and payload headers; the token is hidden', async () => {
  const payload = JSON.stringify({ sub: 'u-17', org: { name: 'Acme' } });
  const r = await get('jw-main.test', { authorization: `Bearer ${await enc(payload)}`, 'x-org': 'forged' });
  assert.equal(r.status, 200, r.body);
  assert.equal(up(r, 'x-decrypted-claims'), payload);
  assert.equal(up(r, 'x-user-id'), 'u-17');
  assert.equal(up(r, 'x-org'), 'Acme');
  assert.equal(up(r, 'authorization'), undefined);
});

test('statuses: missing 403, malformed 400, wrong key 403, key of the wrong length 500', async () => {
  const cases: [string, Record<string, string>, number, string][] = [
    ['jw-main.test', {}, 403, '403 JWE token required'],
    ['jw-main.test', { authorization: 'Bearer not-a-jwe' }, 400, '400 Malformed JWE token'],
    ['jw-main.test', { authorization: `Bearer ${await enc('x', randomBytes(32))}` }, 403, '403 JWE decryption failed'],
    ['jw-main.test', { authorization: `Bearer ${await enc('x', randomBytes(16), 'A128GCM')}` }, 400, '400 JWE algorithm not allowed'],
    ['jw-main.test', { authorization: `Bearer ${'a'.repeat(9000)}` }, 400, '400 JWE token too large'],
    ['jw-short.test', { authorization: await enc('x') }, 500, '500 JWE key has the wrong length'],
  ];
  for (const [host, headers, status, body] of cases) {
    const r = await get(host, headers);
    assert.equal(r.status, status, body);
    assert.equal(r.body, body);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="edgion"');
  }
});

test('strict: false passes requests without a token', async () => {
  const r = await get('jw-lax.test');
  assert.equal(r.status, 200);
  const d = await get('jw-lax.test', { authorization: await enc('plain text') });
  assert.equal(up(d, 'authorization'), 'plain text');
});

test('a bad configuration is rejected in the status; the route fails closed', async () => {
  const a = await accepted((p) => e.api(p), 'EdgionPlugins', 'jw-bad');
  assert.equal(a?.status, 'False');
  assert.match(a!.message, /config\.keyManagementAlgorithm: JweDecrypt: only direct key agreement \(Dir\) is supported/);
  assert.equal((await get('jw-bad.test')).status, 500);
});
