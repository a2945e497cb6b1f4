// HeaderCertAuth end to end (Header mode): client certificates forwarded by a TLS terminator as
// base64 DER or percent-encoded PEM, verified against the CA of a Secret; identity headers
// upstream; failures with the configured status and message; anonymous; a rejected config.
// (Connection mode needs mTLS on the gateway's listeners; its logic is unit-tested.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { makeCert } from '../../helpers/x509.js';
import { accepted, baseConf, docs, entry, plugins, route, secretText, up } from './auth-conf.js';

const ca = makeCert({ cn: 'Partner CA', org: 'Partner', isCa: true });
const other = makeCert({ cn: 'Rogue CA', isCa: true });
const alice = makeCert({ cn: 'alice', org: 'Partner', issuer: ca, dns: ['alice.partner.test'], emails: ['alice@partner.test'] });
const rogue = makeCert({ cn: 'alice', org: 'Partner', issuer: other, dns: ['alice.partner.test'] });
const expired = makeCert({ cn: 'old', issuer: ca, notBefore: new Date(Date.now() - 5 * 86400e3), notAfter: new Date(Date.now() - 86400e3) });

let e: Edgion;
let echo: EchoServer;
let port: number;

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  const refs = [{ name: 'partner-ca' }];
  e = await Edgion.start({
    conf: {
      'base.yaml': baseConf(port, echo.port),
      'auth.yaml': docs(
        secretText('partner-ca', { 'ca.crt': ca.pem }),
        plugins('hc-b64', [entry('HeaderCertAuth', { caSecretRefs: refs })]),
        plugins('hc-url', [entry('HeaderCertAuth', { caSecretRefs: refs, certificateHeaderName: 'X-SSL-Client-Cert', certificateHeaderFormat: 'urlEncoded', consumerBy: 'cn', errorStatus: 403, errorMessage: 'client certificate refused' })]),
        plugins('hc-anon', [entry('HeaderCertAuth', { caSecretRefs: refs, allowAnonymous: true })]),
        plugins('hc-bad', [entry('HeaderCertAuth', { mode: 'Header' })]),
        ...['b64', 'url', 'anon', 'bad'].map((n) => route(`hc-${n}`, `hc-${n}.test`, `hc-${n}`, echo.port)),
      ),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string, headers: Record<string, string> = {}) => request({ port, host, path: '/c', headers });

test('base64 DER certificate from the trusted CA: identity headers upstream, the certificate hidden', async () => {
  const r = await get('hc-b64.test', { 'x-client-cert': alice.der.toString('base64'), 'x-consumer-username': 'root' });
  assert.equal(r.status, 200, r.body);
  assert.equal(up(r, 'x-consumer-username'), 'alice.partner.test');
  assert.equal(up(r, 'x-client-cert-dn'), 'CN=alice,O=Partner');
  assert.equal(up(r, 'x-client-cert-san'), 'alice.partner.test,email:alice@partner.test');
  assert.equal(up(r, 'x-client-cert-fingerprint'), alice.fingerprint);
  assert.equal(up(r, 'x-client-cert'), undefined);
});

test('untrusted, expired, missing or garbled certificates → 401 TLSCert', async () => {
  const cases: Record<string, string>[] = [{ 'x-client-cert': rogue.der.toString('base64') }, { 'x-client-cert': expired.der.toString('base64') }, {}, { 'x-client-cert': 'garbage!' }];
  for (const h of cases) {
    const r = await get('hc-b64.test', h);
    assert.equal(r.status, 401);
    assert.equal(r.body, '401 TLS certificate failed verification');
    assert.equal(r.headers['www-authenticate'], 'TLSCert realm="edgion"');
  }
});

test('percent-encoded PEM (nginx $ssl_client_escaped_cert), consumer by CN, custom error status', async () => {
  let r = await get('hc-url.test', { 'x-ssl-client-cert': encodeURIComponent(alice.pem) });
  assert.equal(r.status, 200, r.body);
  assert.equal(up(r, 'x-consumer-username'), 'alice');
  r = await get('hc-url.test', { 'x-ssl-client-cert': encodeURIComponent(rogue.pem) });
  assert.equal(r.status, 403);
  assert.equal(r.body, '403 client certificate refused');
});

test('allowAnonymous: no certificate passes as "anonymous"', async () => {
  const r = await get('hc-anon.test');
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-consumer-username'), 'anonymous');
  assert.equal(up(r, 'x-anonymous-consumer'), 'true');
});

test('a bad configuration is rejected in the status; the route fails closed', async () => {
  const a = await accepted((p) => e.api(p), 'EdgionPlugins', 'hc-bad');
  assert.equal(a?.status, 'False');
  assert.match(a!.message, /config\.caSecretRefs: HeaderCertAuth: Header mode needs caSecretRefs/);
  assert.equal((await get('hc-bad.test')).status, 500);
});
