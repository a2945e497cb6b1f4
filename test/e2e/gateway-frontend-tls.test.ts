// Gateway `spec.tls.frontend` end to end (GatewayFrontendClientCertificateValidation): client
// certificates verified against a ConfigMap CA on every HTTPS listener of the Gateway (`default`),
// `perPort` overrides with `AllowInsecureFallback`, EdgionTls certificates on such a port inheriting
// the check, a CA reference that does not resolve (the HTTPS listener is not accepted and not served,
// HTTP is unaffected), and the warnings for Gateway and HTTPRoute fields that have no effect.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';
import { TestCa, tlsSecretYaml, type Pem } from '../helpers/certs.js';
import { httpsRequest, type TlsOpts } from '../helpers/tls-client.js';

let e: Edgion;
let echo: EchoServer;
let ca: TestCa;
let client: Pem;
let stranger: Pem;
let pA: number;
let pB: number;
let pBadHttps: number;
let pBadHttp: number;

const indent = (pem: string) =>
  pem
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

before(async () => {
  echo = await startEcho('frontend-echo');
  ca = new TestCa('frontend-ca');
  const other = new TestCa('frontend-untrusted');
  client = ca.issue('client-ok', { kind: 'client' });
  stranger = other.issue('client-ok', { kind: 'client' });
  [pA, pB, pBadHttps, pBadHttp] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const conf = [
    yaml.gatewayClass(),
    yaml.service('echo', echo.port),
    tlsSecretYaml('srv', ca.issue('*.f.test')),
    tlsSecretYaml('et-cert', ca.issue('et.f.test')),
    `apiVersion: v1
kind: ConfigMap
metadata: { name: client-ca, namespace: default }
data:
  ca.crt: |
${indent(ca.cert)}
`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw-f, namespace: default }
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  infrastructure: { labels: { team: edge } }
  tls:
    backend: { clientCertificateRef: { name: gw-client } }
    frontend:
      default:
        validation: { caCertificateRefs: [{ group: "", kind: ConfigMap, name: client-ca }] }
      perPort:
        - port: ${pB}
          tls: { validation: { mode: AllowInsecureFallback, caCertificateRefs: [{ group: "", kind: ConfigMap, name: client-ca }] } }
  listeners:
    - { name: https-a, port: ${pA}, protocol: HTTPS, tls: { certificateRefs: [{ name: srv }] } }
    - { name: https-b, port: ${pB}, protocol: HTTPS, tls: { certificateRefs: [{ name: srv }] } }
`,
    `apiVersion: edgion.io/v1
kind: EdgionTls
metadata: { name: et, namespace: default }
spec:
  parentRefs: [{ name: gw-f, sectionName: https-a }]
  hosts: ["et.f.test"]
  secretRef: { name: et-cert }
`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw-bad, namespace: default }
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  tls:
    frontend:
      default:
        validation: { caCertificateRefs: [{ group: "", kind: ConfigMap, name: no-such-ca }] }
  listeners:
    - { name: https, port: ${pBadHttps}, protocol: HTTPS, tls: { certificateRefs: [{ name: srv }] } }
    - { name: http, port: ${pBadHttp}, protocol: HTTP }
`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r-f, namespace: default }
spec:
  parentRefs: [{ name: gw-f }, { name: gw-bad }]
  rules:
    - backendRefs: [{ name: echo, port: ${echo.port} }]
      sessionPersistence: { sessionName: sid, idleTimeout: 5m }
`,
  ];
  e = await Edgion.start({ conf: { 'all.yaml': conf.join('---\n') } });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (port: number, host: string, o: Partial<TlsOpts> = {}) => httpsRequest({ port, servername: host, ca: ca.cert, ...o });

test('default validation (AllowValidOnly): a client certificate from the CA is required on every HTTPS listener', async () => {
  const none = await get(pA, 'a.f.test');
  assert.equal(none.status, 0, 'no certificate: handshake refused');
  const untrusted = await get(pA, 'a.f.test', { cert: stranger.cert, key: stranger.key });
  assert.equal(untrusted.status, 0, 'untrusted certificate: refused');
  const ok = await get(pA, 'a.f.test', { cert: client.cert, key: client.key, path: '/ok' });
  assert.equal(ok.status, 200, ok.error ?? ok.body);
});

test('an EdgionTls certificate without its own clientAuth gets the Gateway validation of its port', async () => {
  const none = await get(pA, 'et.f.test');
  assert.equal(none.status, 0);
  const ok = await get(pA, 'et.f.test', { cert: client.cert, key: client.key });
  assert.equal(ok.status, 200, ok.error ?? ok.body);
  assert.equal(ok.tls?.subjectCN, 'et.f.test');
});

test('perPort AllowInsecureFallback: the certificate is asked for, but connections without a valid one are accepted', async () => {
  assert.equal((await get(pB, 'b.f.test')).status, 200);
  assert.equal((await get(pB, 'b.f.test', { cert: stranger.cert, key: stranger.key })).status, 200);
  assert.equal((await get(pB, 'b.f.test', { cert: client.cert, key: client.key })).status, 200);
  // ssl.log says the untrusted certificate was let in by the fallback, not that there was none.
  const line = await waitFor(async () => {
    const text = fs.existsSync(path.join(e.workDir, 'logs', 'ssl.log')) ? fs.readFileSync(path.join(e.workDir, 'logs', 'ssl.log'), 'utf8') : '';
    return text.split('\n').find((l) => l.includes('AllowInsecureFallback'));
  });
  assert.match(line ?? '', /client certificate not trusted, connection allowed \(AllowInsecureFallback\)/);
});

test('a frontend CA that does not resolve: the HTTPS listener is not accepted nor served; HTTP still is', async () => {
  const gw = (await e.api('/api/v1/resources/Gateway/default/gw-bad')).json;
  const https = gw.status.listeners.find((l: any) => l.name === 'https');
  const c = (t: string) => https.conditions.find((x: any) => x.type === t);
  assert.deepEqual([c('Accepted').status, c('Accepted').reason], ['False', 'NoValidCACertificate']);
  assert.deepEqual([c('ResolvedRefs').status, c('ResolvedRefs').reason], ['False', 'InvalidCACertificateRef']);
  assert.match(c('ResolvedRefs').message, /ConfigMap default\/no-such-ca does not exist/);
  assert.equal(c('Programmed').status, 'False');
  assert.equal((await get(pBadHttps, 'a.f.test', { cert: client.cert, key: client.key })).status, 0);
  const plain = await request({ port: pBadHttp, host: 'x.test' });
  assert.equal(plain.status, 200, plain.body);
  const good = (await e.api('/api/v1/resources/Gateway/default/gw-f')).json;
  for (const l of good.status.listeners) assert.equal(l.conditions.find((x: any) => x.type === 'Accepted').status, 'True', l.name);
});

test('fields with no effect are warnings: in the diagnostics and in the status messages', async () => {
  const status = (await e.api('/api/v1/status')).json;
  const warn = (kind: string, path: string) => status.diagnostics.find((d: any) => d.severity === 'warning' && d.resource?.kind === kind && d.path === path);
  assert.match(warn('Gateway', 'spec.tls.backend.clientCertificateRef')?.message ?? '', /not implemented/);
  assert.match(warn('Gateway', 'spec.infrastructure')?.message ?? '', /ignored/);
  assert.equal(warn('HTTPRoute', 'spec.rules[0].sessionPersistence.idleTimeout'), undefined, 'idleTimeout is enforced: no warning');
  const gw = (await e.api('/api/v1/resources/Gateway/default/gw-f')).json;
  assert.match(gw.status.conditions.find((c: any) => c.type === 'Accepted').message, /ignored: spec\.tls\.backend\.clientCertificateRef: .*; spec\.infrastructure: /);
  const route = (await e.api('/api/v1/resources/HTTPRoute/default/r-f')).json;
  assert.equal(route.status.parents[0].conditions.find((c: any) => c.type === 'Accepted').message, 'Route accepted');
});
