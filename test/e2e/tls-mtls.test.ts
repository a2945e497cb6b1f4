// EdgionTls end to end: per-domain certificates on a listener that takes its certificates from
// EdgionTls, minimum TLS version and cipher suites per domain, client certificates (Mutual and
// OptionalMutual, CA chains and verifyDepth, SAN and CN allow-lists), the verified certificate passed
// upstream as X-Client-Cert-* headers and in the access log, and the statuses of bad EdgionTls.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/http.js';
import { TestCa, caSecretYaml, tlsSecretYaml, type Pem } from '../helpers/certs.js';
import { httpsRequest, type TlsOpts } from '../helpers/tls-client.js';

let e: Edgion;
let echo: EchoServer;
let ca: TestCa;
let other: TestCa;
let inter: TestCa;
let port: number;
let client: Pem;
let partner: Pem;
let stranger: Pem;
let viaIntermediate: Pem;

function edgionTls(name: string, host: string, secret: string, extra = '', annotations = ''): string {
  return `apiVersion: edgion.io/v1
kind: EdgionTls
metadata:
  name: ${name}
  namespace: default
${annotations ? `  annotations: { ${annotations} }\n` : ''}spec:
  parentRefs: [{ name: gw-m, sectionName: https }]
  hosts: ["${host}"]
  secretRef: { name: ${secret} }
${extra}`;
}

const mutual = (more = '') => `  clientAuth:\n    mode: Mutual\n    caSecretRef: { name: client-ca }\n${more}`;
const expose = '"edgion.io/expose-client-cert": "true"';

before(async () => {
  echo = await startEcho('mtls-echo');
  ca = new TestCa('mtls-ca');
  other = new TestCa('untrusted-ca');
  inter = ca.intermediate('mtls-intermediate');
  port = await freePort();
  const hosts = ['mtls', 'opt', 'v13', 'san', 'cn', 'deep1', 'deep2', 'ciphers'].map((h) => `${h}.m.test`);
  const secrets = hosts.map((h) => tlsSecretYaml(h.replace(/\./g, '-'), ca.issue(h)));
  secrets.push(tlsSecretYaml('wild-m', ca.issue('*.wm.test')));
  client = ca.issue('client-ok', { kind: 'client', sans: ['client-ok.clients.test', 'email:ops@clients.test'] });
  partner = ca.issue('partner-1', { kind: 'client', sans: ['a.partners.test'] });
  stranger = other.issue('client-ok', { kind: 'client', sans: ['client-ok.clients.test'] });
  viaIntermediate = inter.issue('client-deep', { kind: 'client', sans: ['deep.clients.test'] });
  const conf = [
    yaml.gatewayClass(),
    yaml.service('echo', echo.port),
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw-m, namespace: default }
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
    - name: https
      port: ${port}
      protocol: HTTPS
      tls: { mode: Terminate, options: { edgion.io/cert-provider: EdgionTls } }
`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r-m, namespace: default }
spec:
  parentRefs: [{ name: gw-m }]
  rules: [{ backendRefs: [{ name: echo, port: ${echo.port} }] }]
`,
    caSecretYaml('client-ca', ca.cert),
    ...secrets,
    edgionTls('et-mutual', 'mtls.m.test', 'mtls-m-test', mutual(), expose),
    edgionTls('et-opt', 'opt.m.test', 'opt-m-test', '  clientAuth: { mode: OptionalMutual, caSecretRef: { name: client-ca } }\n', expose),
    edgionTls('et-v13', 'v13.m.test', 'v13-m-test', '  minTlsVersion: TLS1_3\n'),
    edgionTls('et-san', 'san.m.test', 'san-m-test', mutual('    allowedSans: ["*.partners.test"]\n')),
    edgionTls('et-cn', 'cn.m.test', 'cn-m-test', mutual('    allowedCns: ["client-ok"]\n')),
    edgionTls('et-deep1', 'deep1.m.test', 'deep1-m-test', mutual()),
    edgionTls('et-deep2', 'deep2.m.test', 'deep2-m-test', mutual('    verifyDepth: 2\n')),
    edgionTls('et-ciphers', 'ciphers.m.test', 'ciphers-m-test', '  minTlsVersion: TLS1_2\n  ciphers: ["ECDHE-RSA-AES128-GCM-SHA256"]\n'),
    edgionTls('et-wild', '*.wm.test', 'wild-m'),
    edgionTls('et-uncovered', 'nothere.m.test', 'mtls-m-test'),
    edgionTls('et-missing', 'missing.m.test', 'no-such-secret'),
  ];
  e = await Edgion.start({ conf: { 'all.yaml': conf.join('---\n') } });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string, o: Partial<TlsOpts> = {}) => httpsRequest({ port, servername: host, ca: ca.cert, ...o });

test('Mutual: a request without a client certificate fails', async () => {
  const r = await get('mtls.m.test');
  assert.equal(r.status, 0);
  assert.match(r.error ?? '', /certificate required|alert|ECONNRESET|socket hang up/i);
});

test('Mutual: a client certificate from an untrusted CA fails', async () => {
  const r = await get('mtls.m.test', { cert: stranger.cert, key: stranger.key });
  assert.equal(r.status, 0);
  const ssl = await waitFor(async () => readLog('ssl.log').find((l) => l.sni === 'mtls.m.test' && /not trusted/.test(l.err_log ?? '')));
  assert.ok(ssl, 'ssl.log says why');
  assert.equal(ssl.is_mtls, true);
});

test('Mutual: a trusted client certificate passes and its details go upstream', async () => {
  const r = await get('mtls.m.test', { cert: client.cert, key: client.key, path: '/who', headers: { 'x-client-cert-dn': 'CN=forged' } });
  assert.equal(r.status, 200, r.error ?? '');
  const h = r.json.headers;
  assert.match(h['x-client-cert-dn'], /CN=client-ok/);
  assert.notEqual(h['x-client-cert-dn'], 'CN=forged');
  assert.equal(h['x-client-cert-san'], 'client-ok.clients.test,email:ops@clients.test');
  assert.match(h['x-client-cert-fingerprint'], /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === '/who'));
  assert.equal(line.request_info.client_cert_info.cn, 'client-ok');
  assert.deepEqual(line.request_info.client_cert_info.sans, ['client-ok.clients.test', 'email:ops@clients.test']);
  const ssl = readLog('ssl.log').find((l) => l.tls_id === line.request_info.tls_id);
  assert.equal(ssl?.is_mtls, true);
  assert.deepEqual(ssl?.matched, { kind: 'EdgionTls', ns: 'default', name: 'et-mutual', sv: ssl?.matched?.sv });
});

test('OptionalMutual: no certificate is fine, an untrusted one is not, a trusted one is exposed', async () => {
  const none = await get('opt.m.test', { path: '/opt', headers: { 'x-client-cert-dn': 'CN=forged' } });
  assert.equal(none.status, 200, none.error ?? '');
  assert.equal(none.json.headers['x-client-cert-dn'], undefined, 'a forged header is removed');
  const bad = await get('opt.m.test', { cert: stranger.cert, key: stranger.key });
  assert.equal(bad.status, 0);
  const good = await get('opt.m.test', { cert: client.cert, key: client.key });
  assert.equal(good.status, 200);
  assert.match(good.json.headers['x-client-cert-dn'], /CN=client-ok/);
});

test('verifyDepth: a chain through an intermediate needs verifyDepth 2', async () => {
  const shallow = await get('deep1.m.test', { cert: viaIntermediate.cert, key: viaIntermediate.key });
  assert.equal(shallow.status, 0);
  const deep = await get('deep2.m.test', { cert: viaIntermediate.cert, key: viaIntermediate.key });
  assert.equal(deep.status, 200, deep.error ?? '');
});

test('allowedSans and allowedCns', async () => {
  assert.equal((await get('san.m.test', { cert: partner.cert, key: partner.key })).status, 200);
  assert.equal((await get('san.m.test', { cert: client.cert, key: client.key })).status, 0);
  assert.equal((await get('cn.m.test', { cert: client.cert, key: client.key })).status, 200);
  assert.equal((await get('cn.m.test', { cert: partner.cert, key: partner.key })).status, 0);
});

test('minTlsVersion TLS1_3 refuses a TLS 1.2 client', async () => {
  const old = await get('v13.m.test', { maxVersion: 'TLSv1.2' });
  assert.equal(old.status, 0);
  const ok = await get('v13.m.test');
  assert.equal(ok.status, 200);
  assert.equal(ok.tls?.protocol, 'TLSv1.3');
  // Another domain on the same port still accepts TLS 1.2.
  const other12 = await get('ciphers.m.test', { maxVersion: 'TLSv1.2' });
  assert.equal(other12.status, 200, other12.error ?? '');
});

test('ciphers: TLS 1.2 clients must use a listed suite', async () => {
  const wrong = await get('ciphers.m.test', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' });
  assert.equal(wrong.status, 0);
  const right = await get('ciphers.m.test', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
  assert.equal(right.status, 200, right.error ?? '');
});

test('a wildcard EdgionTls host serves one-label names', async () => {
  const r = await get('shop.wm.test');
  assert.equal(r.status, 200, r.error ?? '');
  assert.equal(r.tls?.subjectCN, '*.wm.test');
});

test('bad EdgionTls resources are reported in their status and not served', async () => {
  const uncovered = (await e.api('/api/v1/resources/EdgionTls/default/et-uncovered')).json;
  const acc = uncovered.status.conditions.find((c: any) => c.type === 'Accepted');
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /does not cover nothere\.m\.test/);
  const missing = (await e.api('/api/v1/resources/EdgionTls/default/et-missing')).json;
  const refs = missing.status.conditions.find((c: any) => c.type === 'ResolvedRefs');
  assert.equal(refs.status, 'False');
  assert.equal(refs.reason, 'BackendNotFound');
  const ready = (await e.api('/api/v1/resources/EdgionTls/default/et-mutual')).json;
  assert.equal(ready.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
  assert.deepEqual(ready.status.resolvedPorts, [port]);
  assert.equal((await get('nothere.m.test', { insecure: true })).status, 0);
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
