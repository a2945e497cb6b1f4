// HTTPS listeners end to end: certificates from Secrets chosen by SNI (exact, wildcard, hostname-less
// listener for any name), ALPN h2 and http/1.1, the SNI/Host 421 check, fallbackSni, certificate
// reload without dropping open connections, and what must fail: an SNI with no certificate, no SNI,
// too-old TLS versions, a Secret whose key does not match its certificate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/http.js';
import { TestCa, tlsSecretYaml, type Pem } from '../helpers/certs.js';
import { httpsRequest } from '../helpers/tls-client.js';

let e: Edgion;
let echo: EchoServer;
let ca: TestCa;
let pHosts: number; // exact + wildcard listeners
let pAny: number; // hostname-less listener
let pFb: number; // Gateway with fallbackSni
let pBad: number; // listener whose only Secret is broken
let certA: Pem;
let certWild: Pem;
let certAny: Pem;

function listeners(): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw-tls, namespace: default }
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
    - name: https-a
      port: ${pHosts}
      protocol: HTTPS
      hostname: a.tls.test
      tls: { mode: Terminate, certificateRefs: [{ name: cert-a }] }
      allowedRoutes: { namespaces: { from: All } }
    - name: https-wild
      port: ${pHosts}
      protocol: HTTPS
      hostname: "*.wild.tls.test"
      tls: { certificateRefs: [{ name: cert-wild }] }
      allowedRoutes: { namespaces: { from: All } }
    - name: https-any
      port: ${pAny}
      protocol: HTTPS
      tls: { certificateRefs: [{ name: cert-any }] }
      allowedRoutes: { namespaces: { from: All } }
    - name: https-bad
      port: ${pBad}
      protocol: HTTPS
      tls: { certificateRefs: [{ name: cert-bad }] }
      allowedRoutes: { namespaces: { from: All } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: edgion-fb }
spec:
  controllerName: edgion.io/gateway-controller
  parametersRef: { group: edgion.io, kind: EdgionGatewayConfig, name: fb-config }
---
apiVersion: edgion.io/v1alpha1
kind: EdgionGatewayConfig
metadata: { name: fb-config }
spec:
  securityProtect: { fallbackSni: fb.tls.test }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw-fb, namespace: default }
spec:
  gatewayClassName: edgion-fb
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
    - name: https
      port: ${pFb}
      protocol: HTTPS
      hostname: fb.tls.test
      tls: { certificateRefs: [{ name: cert-fb }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r-tls, namespace: default }
spec:
  parentRefs: [{ name: gw-tls }, { name: gw-fb }]
  rules: [{ backendRefs: [{ name: echo, port: ${echo.port} }] }]
`;
}

before(async () => {
  echo = await startEcho('tls-echo');
  ca = new TestCa('tls-e2e-ca');
  certA = ca.issue('a.tls.test');
  certWild = ca.issue('*.wild.tls.test');
  certAny = ca.issue('any.tls.test', { sans: ['any.tls.test', 'other.tls.test'] });
  const certFb = ca.issue('fb.tls.test');
  const mismatched = { cert: ca.issue('bad.tls.test').cert, key: ca.issue('bad2.tls.test').key };
  [pHosts, pAny, pFb, pBad] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.service('echo', echo.port), listeners()].join('---\n'),
      'secrets/a.yaml': tlsSecretYaml('cert-a', certA),
      'secrets/wild.yaml': tlsSecretYaml('cert-wild', certWild),
      'secrets/any.yaml': tlsSecretYaml('cert-any', certAny),
      'secrets/fb.yaml': tlsSecretYaml('cert-fb', certFb),
      'secrets/bad.yaml': tlsSecretYaml('cert-bad', mismatched),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

test('SNI picks the exact listener certificate', async () => {
  const r = await httpsRequest({ port: pHosts, servername: 'a.tls.test', ca: ca.cert, path: '/x' });
  assert.equal(r.status, 200, r.error ?? '');
  assert.equal(r.tls?.subjectCN, 'a.tls.test');
  assert.equal(r.json.headers['x-forwarded-proto'], 'https');
});

test('SNI picks the wildcard listener certificate', async () => {
  const r = await httpsRequest({ port: pHosts, servername: 'shop.wild.tls.test', ca: ca.cert });
  assert.equal(r.status, 200, r.error ?? '');
  assert.equal(r.tls?.subjectCN, '*.wild.tls.test');
});

test('an SNI with no certificate fails the handshake', async () => {
  const r = await httpsRequest({ port: pHosts, servername: 'nobody.test', insecure: true });
  assert.equal(r.status, 0);
  assert.match(r.error ?? 'no error', /unrecognized name|ECONNRESET|socket hang up|alert/i);
  const ssl = await waitFor(async () => readLog('ssl.log').find((l) => l.sni === 'nobody.test'));
  assert.equal(ssl?.err_log, 'cert not found');
  assert.equal(ssl?.port, pHosts);
});

test('a hostname-less HTTPS listener serves its certificate to any SNI', async () => {
  const r = await httpsRequest({ port: pAny, servername: 'whatever.example', insecure: true });
  assert.equal(r.status, 200, r.error ?? '');
  assert.equal(r.tls?.subjectCN, 'any.tls.test');
});

test('a client without SNI fails when no fallbackSni is configured', async () => {
  const r = await httpsRequest({ port: pAny, host: 'any.tls.test', insecure: true });
  assert.equal(r.status, 0);
  const ssl = await waitFor(async () => readLog('ssl.log').find((l) => l.port === pAny && l.err_log === 'no SNI'));
  assert.ok(ssl, 'ssl.log records the missing SNI');
});

test('fallbackSni: a client without SNI gets that certificate, and Host must equal it', async () => {
  const ok = await httpsRequest({ port: pFb, host: 'fb.tls.test', ca: ca.cert });
  assert.equal(ok.status, 200, ok.error ?? '');
  assert.equal(ok.tls?.subjectCN, 'fb.tls.test');
  const other = await httpsRequest({ port: pFb, host: 'other.tls.test', insecure: true });
  assert.equal(other.status, 421);
});

test('ALPN: h2 and http/1.1 on the same HTTPS port', async () => {
  const h2 = await httpsRequest({ port: pHosts, servername: 'a.tls.test', ca: ca.cert, http2: true, path: '/h2' });
  assert.equal(h2.status, 200, h2.error ?? '');
  assert.equal(h2.tls?.alpn, 'h2');
  assert.equal(h2.json.path, '/h2');
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === '/h2'));
  assert.match(line.request_info.tls_id, /^[0-9a-f]{8}-[0-9a-f]{8}$/, 'HTTP/2 requests see the TLS connection too');
  const h1 = await httpsRequest({ port: pHosts, servername: 'a.tls.test', ca: ca.cert, alpn: ['http/1.1'] });
  assert.equal(h1.status, 200);
  assert.equal(h1.httpVersion, '1.1');
  assert.equal(h1.tls?.alpn, 'http/1.1');
});

test('a request whose Host does not match the SNI is refused with 421', async () => {
  const r = await httpsRequest({ port: pHosts, servername: 'a.tls.test', host: 'shop.wild.tls.test', ca: ca.cert });
  assert.equal(r.status, 421);
  assert.match(r.body, /^421 Misdirected Request/);
  const h2 = await httpsRequest({ port: pHosts, servername: 'a.tls.test', host: 'shop.wild.tls.test', ca: ca.cert, http2: true });
  assert.equal(h2.status, 421);
});

test('the access log carries sni and tls_id that match ssl.log', async () => {
  const r = await httpsRequest({ port: pHosts, servername: 'a.tls.test', ca: ca.cert, path: '/tls-id-check' });
  assert.equal(r.status, 200);
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === '/tls-id-check'));
  assert.equal(line.request_info.sni, 'a.tls.test');
  assert.match(line.request_info.tls_id, /^[0-9a-f]{8}-[0-9a-f]{8}$/);
  const ssl = await waitFor(async () => readLog('ssl.log').find((l) => l.tls_id === line.request_info.tls_id));
  assert.equal(ssl?.sni, 'a.tls.test');
  assert.deepEqual(ssl?.matched, { kind: 'Gateway', ns: 'default', name: 'gw-tls', section: 'https-a', sv: ssl?.matched?.sv });
  assert.equal(typeof ssl?.handshake_complete_time, 'number');
});

test('TLS 1.1 and older are refused by default', async () => {
  const r = await httpsRequest({ port: pHosts, servername: 'a.tls.test', ca: ca.cert, maxVersion: 'TLSv1.1', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  assert.equal(r.status, 0);
});

test('a Secret whose key does not match its certificate is rejected; the rest keeps serving', async () => {
  const secret = (await e.api('/api/v1/resources/Secret/default/cert-bad')).json;
  const accepted = secret.status.conditions.find((c: any) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /not the private key of the certificate/);
  const gw = (await e.api('/api/v1/resources/Gateway/default/gw-tls')).json;
  const bad = gw.status.listeners.find((l: any) => l.name === 'https-bad');
  const resolved = bad.conditions.find((c: any) => c.type === 'ResolvedRefs');
  assert.equal(resolved.status, 'False');
  assert.equal(resolved.reason, 'InvalidCertificateRef');
  assert.match(resolved.message, /rejected/);
  assert.equal((await httpsRequest({ port: pHosts, servername: 'a.tls.test', ca: ca.cert })).status, 200);
});

test('a changed certificate is served to new connections; open connections keep working', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const before1 = await httpsRequest({ port: pHosts, servername: 'a.tls.test', ca: ca.cert, agent });
  assert.equal(before1.status, 200);
  const oldSerial = before1.tls?.serial;
  const next = ca.issue('a.tls.test');
  e.writeConf('secrets/a.yaml', tlsSecretYaml('cert-a', next));
  const changed = await waitFor(async () => {
    const r = await httpsRequest({ port: pHosts, servername: 'a.tls.test', ca: ca.cert });
    return r.status === 200 && r.tls?.serial !== oldSerial ? r : undefined;
  }, 8000, 200);
  assert.ok(changed, 'new connections get the new certificate');
  const again = await httpsRequest({ port: pHosts, servername: 'a.tls.test', ca: ca.cert, agent });
  assert.equal(again.status, 200, again.error ?? '');
  assert.equal(again.tls?.serial, oldSerial, 'the kept-alive connection still uses the certificate it was opened with');
  agent.destroy();
});

function readLog(name: string): any[] {
  const file = path.join(e.workDir, 'logs', name);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
