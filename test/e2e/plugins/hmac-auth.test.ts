// HmacAuth end to end: signed requests through the real gateway (request target with query,
// Date freshness, enforced headers), the body digest checked and the body still delivered,
// whitelisted credential headers, anonymous, failures, and a rejected configuration.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { accepted, baseConf, docs, entry, plugins, route, secretText, up } from './auth-conf.js';

const SECRET = 'svc-a-secret-svc-a-secret-svc-a-secret';
const CREDS = `- username: svc-a
  secret: ${SECRET}
  headers:
    X-Tenant: acme
`;

let e: Edgion;
let echo: EchoServer;
let port: number;

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  const ref = [{ name: 'hmac-creds' }];
  e = await Edgion.start({
    conf: {
      'base.yaml': baseConf(port, echo.port),
      'auth.yaml': docs(
        secretText('hmac-creds', { 'credentials.yaml': CREDS }),
        plugins('hm-main', [entry('HmacAuth', { secretRefs: ref, enforceHeaders: ['@request-target'], clockSkew: 120, upstreamHeaderFields: ['X-Tenant'], hideCredentials: true })]),
        plugins('hm-body', [entry('HmacAuth', { secretRefs: ref, validateRequestBody: true })]),
        plugins('hm-anon', [entry('HmacAuth', { secretRefs: ref, anonymous: 'guest' })]),
        plugins('hm-bad', [entry('HmacAuth', { secretRefs: ref, algorithms: ['hmac-md5'] })]),
        ...['main', 'body', 'anon', 'bad'].map((n) => route(`hm-${n}`, `hm-${n}.test`, `hm-${n}`, echo.port)),
      ),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

function sign(method: string, path: string, headers: Record<string, string>, names: string[], secret = SECRET, alg = 'hmac-sha256'): Record<string, string> {
  const lines = names.map((n) => (n === '@request-target' ? `${n}: ${method.toLowerCase()} ${path}` : `${n}: ${headers[n]}`));
  const sig = createHmac(alg.slice(5), secret).update(lines.join('\n')).digest('base64');
  return { ...headers, authorization: `hmac username="svc-a", algorithm="${alg}", headers="${names.join(' ')}", signature="${sig}"` };
}

test('a signed request passes: consumer and credential headers upstream, credentials hidden', async () => {
  const path = '/orders?page=2';
  const r = await request({ port, host: 'hm-main.test', path, headers: sign('GET', path, { date: new Date().toUTCString(), 'x-tenant': 'forged' }, ['@request-target', 'date']) });
  assert.equal(r.status, 200, r.body);
  assert.equal(up(r, 'x-consumer-username'), 'svc-a');
  assert.equal(up(r, 'x-tenant'), 'acme');
  assert.equal(up(r, 'authorization'), undefined);
});

test('failures get 401 hmac realm="edgion" with the reason', async () => {
  const path = '/orders';
  const cases: [Record<string, string>, string][] = [
    [{}, 'Missing HMAC credentials'],
    [sign('GET', path, { date: new Date().toUTCString() }, ['@request-target', 'date'], 'another-secret-another-secret-another-secret'), 'HMAC signature cannot be verified'],
    [sign('GET', path, { date: new Date(Date.now() - 600_000).toUTCString() }, ['@request-target', 'date']), 'date is outside the allowed clock skew'],
    [sign('GET', path, { date: new Date().toUTCString() }, ['date']), 'Header @request-target must be signed'],
    [sign('GET', '/other', { date: new Date().toUTCString() }, ['@request-target', 'date']), 'HMAC signature cannot be verified'],
  ];
  for (const [headers, msg] of cases) {
    const r = await request({ port, host: 'hm-main.test', path, headers });
    assert.equal(r.status, 401, msg);
    assert.equal(r.headers['www-authenticate'], 'hmac realm="edgion"');
    assert.equal(r.body, `401 Unauthorized - ${msg}`);
  }
});

test('validateRequestBody: the digest is checked and the body still reaches the upstream', async () => {
  const body = JSON.stringify({ amount: 10, to: 'acme' });
  const digest = `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
  const headers = sign('POST', '/pay', { date: new Date().toUTCString(), digest, 'content-type': 'application/json' }, ['@request-target', 'date', 'digest']);
  let r = await request({ port, host: 'hm-body.test', path: '/pay', method: 'POST', headers, body });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.body, body);
  r = await request({ port, host: 'hm-body.test', path: '/pay', method: 'POST', headers, body: body.replace('10', '99') });
  assert.equal(r.status, 401);
  assert.equal(r.body, '401 Unauthorized - Body digest does not match');
});

test('anonymous without credentials', async () => {
  const r = await request({ port, host: 'hm-anon.test', path: '/' });
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-anonymous-consumer'), 'true');
  assert.equal(up(r, 'x-consumer-username'), 'guest');
});

test('a bad configuration is rejected in the status; the route fails closed', async () => {
  const a = await accepted((p) => e.api(p), 'EdgionPlugins', 'hm-bad');
  assert.equal(a?.status, 'False');
  assert.match(a!.message, /config\.algorithms\[0\]: HmacAuth: must be one of/);
  assert.equal((await request({ port, host: 'hm-bad.test', path: '/' })).status, 500);
});
