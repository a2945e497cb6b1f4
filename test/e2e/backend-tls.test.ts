// BackendTLSPolicy end to end: TLS from the gateway to backends with CA validation (Secret or
// ConfigMap `ca.crt`, or the system roots) and the hostname to verify, upstream mTLS with a client
// certificate, and what must fail: a backend certificate with the wrong name, an untrusted backend,
// a backend that requires a client certificate we do not have, a policy whose CA reference does not
// resolve (502 naming the policy: no fall-back to the system roots). Also sectionName (one port of
// a Service), conflicts (the oldest policy wins), status.ancestors, TLS for a TCPRoute backend.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Edgion, yaml } from '../helpers/edgion.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';
import { TestCa, caSecretYaml, tlsSecretYaml } from '../helpers/certs.js';
import { rawExchange } from '../helpers/tls-client.js';

let e: Edgion;
let ca: TestCa;
let otherCa: TestCa;
let plain: https.Server;
let mutual: https.Server;
let plainHttp: http.Server;
let sanServer: https.Server;
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

function policy(name: string, service: string, hostname: string, caRef: string, extra = '', section?: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: ${name}, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: ${service}${section ? `, sectionName: ${section}` : ''} }]
  validation:
    hostname: ${hostname}
    ${caRef === 'System' ? 'wellKnownCACertificates: System' : `caCertificateRefs: [${caRef}]`}
${extra}`;
}

function httpRoute(host: string, service: string, svcPort: number, name = `r-${service}`): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
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
  plainHttp = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ server: 'plain-http', path: req.url }));
  });
  const sanPem = ca.issue('san-backend', { sans: ['san.internal.test', 'URI:spiffe://edgion.test/ns/default/sa/backend'] });
  sanServer = https.createServer({ cert: sanPem.cert, key: sanPem.key }, echo('san-backend'));
  const pSan = await listen(sanServer);
  const sanPolicy = (name: string, hostname: string, san: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: ${name}, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: svc-${name} }]
  validation:
    hostname: ${hostname}
    caCertificateRefs: [{ group: "", kind: Secret, name: backend-ca }]
    subjectAltNames: [${san}]
`;
  const sanConf = [
    sanPolicy('san-dns', 'sni-only.internal.test', '{ type: Hostname, hostname: san.internal.test }'),
    sanPolicy('san-uri', 'sni-only.internal.test', '{ type: URI, uri: "spiffe://edgion.test/ns/default/sa/backend" }'),
    sanPolicy('san-wrong', 'san.internal.test', '{ type: Hostname, hostname: other.internal.test }'),
    ...['san-dns', 'san-uri', 'san-wrong'].flatMap((n) => [yaml.service(`svc-${n}`, pSan), httpRoute(`${n}.test`, `svc-${n}`, pSan)]),
  ];
  const pPlain = await listen(plain);
  const pMutual = await listen(mutual);
  await new Promise<void>((r) => plainHttp.listen(0, '127.0.0.1', r));
  const pHttp = (plainHttp.address() as AddressInfo).port;
  // The gateway trusts the test CA as a "system" root (NODE_EXTRA_CA_CERTS): wellKnownCACertificates: System.
  const extraCa = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-btls-')), 'system-ca.pem');
  fs.writeFileSync(extraCa, ca.cert);
  process.once('exit', () => fs.rmSync(path.dirname(extraCa), { recursive: true, force: true }));
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
    svc('svc-badca', pPlain),
    svc('svc-badkind', pPlain),
    svc('svc-system', pPlain),
    svc('svc-conflict', pPlain),
    svc('svc-rejected', pPlain),
    `apiVersion: v1
kind: Service
metadata: { name: svc-two, namespace: default }
spec:
  ports: [{ name: https, port: 443 }, { name: plain, port: 80 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: svc-two-eps, namespace: default, labels: { kubernetes.io/service-name: svc-two } }
addressType: IPv4
ports: [{ name: https, port: ${pPlain} }, { name: plain, port: ${pHttp} }]
endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]
`,
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
    policy('p-badca', 'svc-badca', 'backend.internal.test', '{ kind: ConfigMap, name: no-such-cm, group: "" }'),
    policy('p-badkind', 'svc-badkind', 'backend.internal.test', '{ kind: InvalidKind, name: x, group: invalid.io }'),
    policy('p-system', 'svc-system', 'backend.internal.test', 'System'),
    policy('p-two-https', 'svc-two', 'backend.internal.test', '{ kind: Secret, name: backend-ca, group: "" }', '', 'https'),
    // Both caCertificateRefs and wellKnownCACertificates: rejected by validation (CEL), never valid.
    `apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: p-rejected, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: svc-rejected }]
  validation:
    hostname: backend.internal.test
    caCertificateRefs: [{ kind: Secret, name: backend-ca, group: "" }]
    wellKnownCACertificates: System
`,
    policy('z-conflict-old', 'svc-conflict', 'backend.internal.test', '{ kind: Secret, name: backend-ca, group: "" }'),
    httpRoute('tls.test', 'svc-tls', pPlain),
    httpRoute('cm.test', 'svc-cm', pPlain),
    httpRoute('wrong.test', 'svc-wrong', pPlain),
    httpRoute('untrusted.test', 'svc-untrusted', pPlain),
    httpRoute('mtls.test', 'svc-mtls', pMutual),
    httpRoute('mtls-nocert.test', 'svc-mtls-nocert', pMutual),
    httpRoute('notls.test', 'svc-notls', pPlain),
    httpRoute('badca.test', 'svc-badca', pPlain),
    httpRoute('badkind.test', 'svc-badkind', pPlain),
    httpRoute('system.test', 'svc-system', pPlain),
    httpRoute('conflict.test', 'svc-conflict', pPlain),
    httpRoute('rejected.test', 'svc-rejected', pPlain),
    httpRoute('two-tls.test', 'svc-two', 443, 'r-two-tls'),
    httpRoute('two-plain.test', 'svc-two', 80, 'r-two-plain'),
    `apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: tcp-tls, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: svc-tcp-tls, port: ${pPlain} }] }]
`,
  ];
  conf.push(...sanConf);
  e = await Edgion.start({ conf: { 'all.yaml': conf.join('---\n') }, env: { NODE_EXTRA_CA_CERTS: extraCa } });
});

after(async () => {
  await e?.stop();
  plain?.closeAllConnections();
  mutual?.closeAllConnections();
  plain?.close();
  mutual?.close();
  plainHttp?.close();
  sanServer?.closeAllConnections();
  sanServer?.close();
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

test('a CA reference that does not resolve: 502 naming the policy (never the system roots), logged, and the v1.4 conditions', async () => {
  // The backend's CA is a "system" root here, so a fall-back to the system roots would answer 200.
  for (const [host, name] of [
    ['badca.test', 'p-badca'],
    ['badkind.test', 'p-badkind'],
  ]) {
    const r = await request({ port, host: host! });
    assert.equal(r.status, 502, `${host}: ${r.body}`);
    assert.match(r.body, new RegExp(`^502 Bad Gateway: BackendTLSPolicy default/${name} cannot be applied \\(no valid CA certificate`));
  }
  const logged = await waitFor(async () => /requests to Service default\/svc-badca:\d+ are refused \(502\): BackendTLSPolicy default\/p-badca/.test(e.processLog('gateway')), 10_000);
  assert.ok(logged, e.processLog('gateway').slice(-2000));
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.host === 'badca.test'), 10_000);
  assert.deepEqual(line?.errors, ['BackendTlsPolicyInvalid']);

  const st = (await e.api('/api/v1/resources/BackendTLSPolicy/default/p-badca')).json.status;
  assert.deepEqual(st.ancestors.map((a: any) => a.ancestorRef), [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'gw' }]);
  const conds = st.ancestors[0].conditions;
  assert.deepEqual(
    conds.filter((c: any) => c.type !== 'Programmed').map((c: any) => [c.type, c.status, c.reason]),
    [
      ['Accepted', 'False', 'NoValidCACertificate'],
      ['ResolvedRefs', 'False', 'InvalidCACertificateRef'],
    ],
  );
  assert.match(conds[1].message, /ConfigMap default\/no-such-cm does not exist/);
  const kind = (await e.api('/api/v1/resources/BackendTLSPolicy/default/p-badkind')).json.status.ancestors[0].conditions;
  assert.equal(kind.find((c: any) => c.type === 'ResolvedRefs').reason, 'InvalidKind');
  assert.equal(kind.find((c: any) => c.type === 'Accepted').reason, 'NoValidCACertificate');
});

test('wellKnownCACertificates: System verifies the backend against the system roots', async () => {
  const r = await request({ port, host: 'system.test' });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.servername, 'backend.internal.test');
});

test('sectionName: only the named Service port is spoken to in TLS', async () => {
  const tls = await request({ port, host: 'two-tls.test', path: '/t' });
  assert.equal(tls.status, 200, tls.body);
  assert.equal(tls.json.server, 'tls-backend');
  const plainRes = await request({ port, host: 'two-plain.test', path: '/p' });
  assert.equal(plainRes.status, 200, plainRes.body);
  assert.equal(plainRes.json.server, 'plain-http');
});

test('a newer policy for the same Service is Conflicted and the older one keeps applying', async () => {
  // Added after start (so it is newer) with a name that sorts first and a hostname that would fail.
  e.writeConf('late.yaml', policy('a-conflict-new', 'svc-conflict', 'wrong.internal.test', '{ kind: Secret, name: backend-ca, group: "" }'));
  const conflicted = await waitFor(async () => {
    const st = (await e.api('/api/v1/resources/BackendTLSPolicy/default/a-conflict-new')).json?.status;
    const acc = st?.ancestors?.[0]?.conditions?.find((c: any) => c.type === 'Accepted');
    return acc?.reason === 'Conflicted' ? st : undefined;
  }, 8000);
  assert.ok(conflicted, 'a-conflict-new is not Conflicted');
  assert.equal(conflicted.ancestors[0].ancestorRef.name, 'gw');
  assert.match(conflicted.ancestors[0].conditions[0].message, /older BackendTLSPolicy default\/z-conflict-old/);
  assert.ok(await e.converged());
  const r = await request({ port, host: 'conflict.test' });
  assert.equal(r.status, 200, r.body);
  const old = (await e.api('/api/v1/resources/BackendTLSPolicy/default/z-conflict-old')).json.status;
  assert.equal(old.ancestors[0].conditions.find((c: any) => c.type === 'Accepted').status, 'True');
});

test('subjectAltNames: the certificate must carry one of them (DNS or URI); hostname is then only the SNI', async () => {
  const dns = await request({ port, host: 'san-dns.test' });
  assert.equal(dns.status, 200, dns.body);
  assert.equal(dns.json.servername, 'sni-only.internal.test');
  const uri = await request({ port, host: 'san-uri.test' });
  assert.equal(uri.status, 200, uri.body);
  // The certificate matches validation.hostname, but not the SAN the policy asks for.
  const wrong = await request({ port, host: 'san-wrong.test' });
  assert.equal(wrong.status, 502, wrong.body);
});

test('a policy rejected by validation (never valid) still refuses its Services rather than plain text', async () => {
  const st = (await e.api('/api/v1/resources/BackendTLSPolicy/default/p-rejected')).json.status;
  assert.match(JSON.stringify(st), /must not contain both CACertificateRefs and WellKnownCACertificates/);
  const r = await request({ port, host: 'rejected.test' });
  assert.equal(r.status, 502, r.body);
  assert.match(r.body, /BackendTLSPolicy default\/p-rejected is rejected/);
});
