// ACME end to end against Debian's pebble: HTTP-01 answered by the gateway's own HTTP listener
// (pebble really connects to it), DNS-01 through the `pebble` DNS provider (pebble-challtestsrv),
// certificates stored under W/acme/ and served through the generated EdgionTls, renewal by the
// trigger endpoint, and a failure reported in status. Skips with a message when pebble is missing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/http.js';
import { httpsRequest } from '../helpers/tls-client.js';
import { pebbleMissing, startPebble, type Pebble } from '../helpers/pebble.js';

const missing = pebbleMissing();
let e: Edgion;
let echo: EchoServer;
let pebble: Pebble;
let pHttp: number;
let pHttps: number;

function acme(name: string, spec: string): string {
  return `apiVersion: edgion.io/v1
kind: EdgionAcme
metadata: { name: ${name}, namespace: default }
spec:
${spec}`;
}

async function status(name: string): Promise<any> {
  return (await e.api(`/api/v1/resources/EdgionAcme/default/${name}`)).json?.status;
}

before(async () => {
  if (missing) return;
  echo = await startEcho('acme-echo');
  [pHttp, pHttps] = [await freePort(), await freePort()];
  pebble = await startPebble(pHttp);
  const conf = [
    yaml.gatewayClass(),
    yaml.service('echo', echo.port),
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
    - name: http
      port: ${pHttp}
      protocol: HTTP
    - name: https
      port: ${pHttps}
      protocol: HTTPS
      tls: { mode: Terminate, options: { edgion.io/cert-provider: EdgionTls } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules: [{ backendRefs: [{ name: echo, port: ${echo.port} }] }]
`,
    acme(
      'site',
      `  server: ${pebble.directory}
  email: ops@e2e.test
  domains: ["www.acme-e2e.test", "acme-e2e.test"]
  challenge:
    type: http-01
    http01: { gatewayRef: { name: gw } }
  renewal: { renewBeforeDays: 30 }
  storage: { secretName: site-cert }
  autoEdgionTls: { parentRefs: [{ name: gw, sectionName: https }] }
`,
    ),
    acme(
      'wild',
      `  server: ${pebble.directory}
  email: ops@e2e.test
  domains: ["*.wild.acme-e2e.test"]
  keyType: ecdsa-p384
  challenge:
    type: dns-01
    dns01: { provider: pebble, challtestsrvUrl: "${pebble.challtestsrvUrl}", dnsServer: "${pebble.dnsServer}", propagationCheckInterval: 1 }
  storage: { secretName: wild-cert }
`,
    ),
    acme(
      'broken',
      `  server: https://127.0.0.1:${await freePort()}/dir
  email: ops@e2e.test
  domains: ["broken.acme-e2e.test"]
  challenge: { type: http-01, http01: { gatewayRef: { name: gw } } }
  renewal: { failBackoff: 3600 }
  storage: { secretName: broken-cert }
`,
    ),
  ];
  e = await Edgion.start({ conf: { 'all.yaml': conf.join('---\n') } });
});

after(async () => {
  await e?.stop();
  await echo?.close();
  await pebble?.stop();
});

test('HTTP-01: a certificate is issued through the gateway and served', { skip: missing }, async () => {
  const st = await waitFor(async () => {
    const s = await status('site');
    return s?.phase === 'Ready' || s?.phase === 'Failed' ? s : undefined;
  }, 60_000, 250);
  assert.equal(st?.phase, 'Ready', `${JSON.stringify(st)}\n${e.tail(30)}\n${pebble.log().slice(-2000)}`);
  assert.match(st.accountUri, /^https:\/\/127\.0\.0\.1/);
  assert.ok(st.certificateNotAfter);
  const file = path.join(e.workDir, 'acme', 'default', 'site-cert.yaml');
  assert.ok(fs.existsSync(file), 'the certificate is stored under W/acme/');
  const challenge = await waitFor(async () => e.accessLog().find((l) => String(l.request_info?.path).startsWith('/.well-known/acme-challenge/')));
  assert.equal(challenge?.request_info.status, 200, 'pebble fetched the challenge from the gateway');
  const r = await waitFor(async () => {
    const x = await httpsRequest({ port: pHttps, servername: 'www.acme-e2e.test', ca: await pebble.root() });
    return x.status === 200 ? x : undefined;
  }, 10_000, 200);
  assert.ok(r, 'HTTPS with the issued certificate, trusted through pebble\'s root');
  assert.match(r.tls?.san ?? '', /acme-e2e\.test/);
  const et = (await e.api('/api/v1/resources/EdgionTls/default/acme-site')).json;
  assert.equal(et.metadata.labels['edgion.io/acme-resource'], 'site');
});

test('DNS-01 through the provider hook: a wildcard certificate', { skip: missing }, async () => {
  const st = await waitFor(async () => {
    const s = await status('wild');
    return s?.phase === 'Ready' || s?.phase === 'Failed' ? s : undefined;
  }, 60_000, 250);
  assert.equal(st?.phase, 'Ready', JSON.stringify(st));
  const secret = (await e.api('/api/v1/resources/Secret/default/wild-cert')).json;
  const cert = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64').toString());
  assert.match(cert.subjectAltName ?? '', /\*\.wild\.acme-e2e\.test/);
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
});

test('renewal on demand: the trigger endpoint replaces the certificate', { skip: missing }, async () => {
  const before = await status('site');
  assert.equal(before?.phase, 'Ready');
  const t = await e.api('/api/v1/services/acme/default/site/trigger', { method: 'POST' });
  assert.equal(t.status, 202);
  const after = await waitFor(async () => {
    const s = await status('site');
    return s?.phase === 'Ready' && s.certificateSerial !== before.certificateSerial ? s : undefined;
  }, 60_000, 250);
  assert.ok(after, 'a new certificate');
  const served = await waitFor(async () => {
    const x = await httpsRequest({ port: pHttps, servername: 'acme-e2e.test', insecure: true });
    return x.tls?.serial?.toLowerCase() === after.certificateSerial.toLowerCase() ? x : undefined;
  }, 10_000, 200);
  assert.ok(served, 'the gateway serves the renewed certificate');
  assert.equal((await e.api('/api/v1/services/acme/default/nope/trigger', { method: 'POST' })).status, 404);
});

test('an unreachable ACME server: phase Failed with the reason', { skip: missing }, async () => {
  const st = await waitFor(async () => {
    const s = await status('broken');
    return s?.phase === 'Failed' ? s : undefined;
  }, 30_000, 250);
  assert.equal(st?.phase, 'Failed');
  assert.match(st.lastFailureReason, /ECONNREFUSED|connect/i);
  assert.ok(st.lastFailureTime);
});
