// BackendTLSPolicy end to end: TLS from the gateway to backends with CA validation (Secret or
// ConfigMap `ca.crt`) and the hostname to verify, upstream mTLS with a client certificate, and what
// must fail: a backend certificate with the wrong name, an untrusted backend, a backend that
// requires a client certificate we do not have. Also TLS origination for a TCPRoute backend.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Edgion, yaml } from '../helpers/edgion.js';
import { freePort } from '../helpers/free-port.js';
import { request } from '../helpers/http.js';
import { TestCa, caSecretYaml, tlsSecretYaml } from '../helpers/certs.js';
import { rawExchange } from '../helpers/tls-client.js';

let e: Edgion;
let ca: TestCa;
let otherCa: TestCa;
let plain: https.Server;
let mutual: https.Server;
let port: number;
let tcpPort: number;

function echo(name: string): http.RequestListener {
  return (req, res) => {
    const sock = req.socket as TLSSocket;
    const peer = sock.getPeerCertificate();
    const body = JSON.stringify({ server: name, path: req.url, servername: sock.servername, clientCn: peer?.subject?.CN ?? null });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  };
}

async function listen(s: https.Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

function policy(name: string, service: string, hostname: string, caRef: string, extra = ''): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: ${name}, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: ${service} }]
  validation:
    hostname: ${hostname}
    caCertificateRefs: [${caRef}]
${extra}`;
}

function httpRoute(host: string, service: string, svcPort: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r-${service}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules: [{ backendRefs: [{ name: ${service}, port: ${svcPort} }] }]
`;
}

before(async () => {
  ca = new TestCa('backend-ca');
  otherCa = new TestCa('other-backend-ca');
  const serverPem = ca.issue('backend.internal.test');
  plain = https.createServer({ cert: serverPem.cert, key: serverPem.key }, echo('tls-backend'));
  mutual = https.createServer({ cert: serverPem.cert, key: serverPem.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, echo('mtls-backend'));
  const pPlain = await listen(plain);
  const pMutual = await listen(mutual);
  port = await freePort();
  tcpPort = await freePort();
  const svc = (name: string, p: number) => yaml.service(name, p);
  const conf = [
    yaml.gatewayClass(),
    yaml.gateway('gw', [{ name: 'http', port }, { name: 'tcp', port: tcpPort, protocol: 'TCP' }]),
    svc('svc-tls', pPlain),
    svc('svc-cm', pPlain),
    svc('svc-wrong', pPlain),
    svc('svc-untrusted', pPlain),
    svc('svc-mtls', pMutual),
    svc('svc-mtls-nocert', pMutual),
    svc('svc-notls', pPlain),
    svc('svc-tcp-tls', pPlain),
    caSecretYaml('backend-ca', ca.cert),
    caSecretYaml('other-ca', otherCa.cert),
    tlsSecretYaml('gw-client', ca.issue('edgion-gateway', { kind: 'client' })),
    `apiVersion: v1
kind: ConfigMap
metadata: { name: backend-ca-cm, namespace: default }
data:
  ca.crt: |
${ca.cert.trim().split('\n').map((l) => `    ${l}`).join('\n')}
`,
    policy('p-tls', 'svc-tls', 'backend.internal.test', '{ kind: Secret, name: backend-ca, group: "" }'),
    policy('p-cm', 'svc-cm', 'backend.internal.test', '{ kind: ConfigMap, name: backend-ca-cm, group: "" }'),
    policy('p-wrong', 'svc-wrong', 'wrong.internal.test', '{ kind: Secret, name: backend-ca, group: "" }'),
    policy('p-untrusted', 'svc-untrusted', 'backend.internal.test', '{ kind: Secret, name: other-ca, group: "" }'),
    policy('p-mtls', 'svc-mtls', 'backend.internal.test', '{ kind: Secret, name: backend-ca, group: "" }', '  options: { edgion.io/client-certificate-ref: gw-client }\n'),
    policy('p-mtls-nocert', 'svc-mtls-nocert', 'backend.internal.test', '{ kind: Secret, name: backend-ca, group: "" }'),
    policy('p-tcp', 'svc-tcp-tls', 'backend.internal.test', '{ kind: Secret, name: backend-ca, group: "" }'),
    policy('p-missing-ca', 'svc-notls', 'backend.internal.test', '{ kind: Secret, name: no-such-ca, group: "" }').replace('svc-notls', 'svc-nothing'),
    httpRoute('tls.test', 'svc-tls', pPlain),
    httpRoute('cm.test', 'svc-cm', pPlain),
    httpRoute('wrong.test', 'svc-wrong', pPlain),
    httpRoute('untrusted.test', 'svc-untrusted', pPlain),
    httpRoute('mtls.test', 'svc-mtls', pMutual),
    httpRoute('mtls-nocert.test', 'svc-mtls-nocert', pMutual),
    httpRoute('notls.test', 'svc-notls', pPlain),
    `apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: tcp-tls, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: svc-tcp-tls, port: ${pPlain} }] }]
`,
  ];
  e = await Edgion.start({ conf: { 'all.yaml': conf.join('---\n') } });
});

after(async () => {
  await e?.stop();
  plain?.closeAllConnections();
  mutual?.closeAllConnections();
  plain?.close();
  mutual?.close();
});

test('TLS to the backend with a CA from a Secret and the hostname to verify (SNI)', async () => {
  const r = await request({ port, host: 'tls.test', path: '/a' });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.server, 'tls-backend');
  assert.equal(r.json.servername, 'backend.internal.test');
});

test('the CA may come from a ConfigMap (Gateway API)', async () => {
  const r = await request({ port, host: 'cm.test' });
  assert.equal(r.status, 200, r.body);
});

test('a backend certificate with the wrong name fails (502)', async () => {
  const r = await request({ port, host: 'wrong.test' });
  assert.equal(r.status, 502);
});

test('a backend certificate from an untrusted CA fails (502)', async () => {
  const r = await request({ port, host: 'untrusted.test' });
  assert.equal(r.status, 502);
});

test('upstream mTLS: the gateway presents the client certificate of the policy', async () => {
  const r = await request({ port, host: 'mtls.test' });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.clientCn, 'edgion-gateway');
  const none = await request({ port, host: 'mtls-nocert.test' });
  assert.ok(none.status >= 500, `status ${none.status}`);
});

test('without a policy the same backend is spoken to in plain HTTP (and fails)', async () => {
  const r = await request({ port, host: 'notls.test' });
  assert.ok(r.status >= 500 || r.status === 0, `status ${r.status}`);
});

test('a TCPRoute backend targeted by a BackendTLSPolicy is reached over TLS', async () => {
  const r = await rawExchange(tcpPort, 'GET /over-tcp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 800 });
  assert.match(r.data.toString(), /^HTTP\/1\.1 200/);
  assert.match(r.data.toString(), /"servername":"backend.internal.test"/);
});

test('policy statuses: accepted, and ResolvedRefs=False for a CA that does not resolve', async () => {
  const ok = (await e.api('/api/v1/resources/BackendTLSPolicy/default/p-tls')).json;
  const anc = ok.status.ancestors[0];
  assert.equal(anc.controllerName, 'edgion.io/gateway-controller');
  assert.equal(anc.conditions.find((c: any) => c.type === 'Accepted').status, 'True');
  assert.equal(anc.conditions.find((c: any) => c.type === 'ResolvedRefs').status, 'True');
  const bad = (await e.api('/api/v1/resources/BackendTLSPolicy/default/p-missing-ca')).json;
  const refs = bad.status.conditions.find((c: any) => c.type === 'ResolvedRefs');
  assert.equal(refs.status, 'False');
  assert.match(refs.message, /no-such-ca/);
});
