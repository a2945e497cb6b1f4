// The translator for the TLS and layer-4 kinds, without sockets: resources in, snapshot and statuses out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { translate } from '../../../src/controller/translate/translate.js';
import type { ResourceView } from '../../../src/controller/translate/context.js';
import { tlsResourceValidator } from '../../../src/controller/validate/tls-resources.js';
import { TestCa, tlsSecretYaml, caSecretYaml } from '../../helpers/certs.js';

function views(yamlText: string, rejected: { kind: string; namespace: string; name: string; reason: string }[] = []) {
  const docs = yamlText.split(/^---$/m).map((d) => parse(d)).filter(Boolean);
  const resources: ResourceView[] = docs.map((obj: any, i: number) => ({
    kind: obj.kind,
    namespace: obj.metadata.namespace ?? (obj.kind === 'GatewayClass' ? undefined : 'default'),
    name: obj.metadata.name,
    key: `${obj.kind}/${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`,
    obj,
    generation: 1,
    order: i,
    previousStatus: undefined,
  }));
  return translate({ resources, rejected, controllerName: 'edgion.io/gateway-controller', now: new Date() });
}

const ca = new TestCa('translate-l4-ca');
const base = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: edgion }
spec: { controllerName: edgion.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: edgion
  listeners:
    - { name: tcp, port: 9000, protocol: TCP }
    - { name: udp, port: 9001, protocol: UDP }
    - { name: pass, port: 9443, protocol: TLS, tls: { mode: Passthrough } }
    - { name: https, port: 9443, protocol: HTTPS, hostname: web.test, tls: { options: { edgion.io/cert-provider: EdgionTls } } }
---
apiVersion: v1
kind: Service
metadata: { name: svc, namespace: default }
spec: { ports: [{ port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: svc-1, namespace: default, labels: { kubernetes.io/service-name: svc } }
addressType: IPv4
ports: [{ port: 8080 }]
endpoints: [{ addresses: ["10.0.0.1"] }]
`;

test('TCP, UDP and TLS routes: attachments, annotations, statuses', () => {
  const r = views(`${base}---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata:
  name: t
  namespace: default
  annotations: { edgion.io/proxy-protocol: v2, edgion.io/max-connect-retries: "3", edgion.io/edgion-stream-plugins: sp }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: svc, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: { name: u, namespace: default, annotations: { edgion.io/udp-session-timeout: 5s } }
spec:
  parentRefs: [{ name: gw, sectionName: udp }]
  rules: [{ backendRefs: [{ name: svc, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: { name: p, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: pass }]
  hostnames: ["*.Pass.test"]
  rules: [{ backendRefs: [{ name: svc, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: { name: wrong-listener, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: svc, port: 80 }] }]
`);
  const t = r.content.tcpRoutes[0]!;
  assert.equal(t.kind, 'TCPRoute');
  assert.equal(t.proxyProtocol, 'v2');
  assert.equal(t.maxConnectRetries, 3);
  assert.equal(t.streamPlugins, 'default/sp');
  assert.deepEqual(t.attachments, [{ gateway: 'default/gw', listener: 'tcp', port: 9000, hostnames: ['*'] }]);
  const tStatus = r.statuses.get('TCPRoute/default/t') as any;
  const refs = tStatus.parents[0].conditions.find((c: any) => c.type === 'ResolvedRefs');
  assert.equal(refs.status, 'False', 'a missing EdgionStreamPlugins is reported');
  assert.match(refs.message, /default\/sp does not exist/);
  assert.equal(r.content.udpRoutes[0]!.sessionIdleMs, 5000);
  assert.deepEqual(r.content.tlsRoutes[0]!.hostnames, ['*.pass.test']);
  assert.equal(r.content.clusters['default/svc:80']!.endpoints[0]!.port, 8080);
  const wrong = (r.statuses.get('TLSRoute/default/wrong-listener') as any).parents[0].conditions[0];
  assert.equal(wrong.status, 'False');
  assert.equal(wrong.reason, 'NotAllowedByListeners');
  const gw = r.statuses.get('Gateway/default/gw') as any;
  assert.equal(gw.listeners.find((l: any) => l.name === 'pass').conditions.find((c: any) => c.type === 'Conflicted').status, 'False', 'HTTPS and TLS share a port by hostname');
});

test('EdgionTls: ports from parentRefs, host coverage, client auth, versions', () => {
  const web = ca.issue('web.test');
  const r = views(`${base}---
${tlsSecretYaml('web', web)}---
${caSecretYaml('clients', ca.cert)}---
apiVersion: edgion.io/v1
kind: EdgionTls
metadata: { name: ok, namespace: default, annotations: { edgion.io/expose-client-cert: "true" } }
spec:
  parentRefs: [{ name: gw, sectionName: https }, { name: gw, port: 9443 }, { name: gw }]
  hosts: ["web.test"]
  secretRef: { name: web }
  minTlsVersion: TLS1_3
  ciphers: ["ECDHE-RSA-AES128-GCM-SHA256"]
  clientAuth: { mode: OptionalMutual, caSecretRef: { name: clients }, verifyDepth: 2, allowedCns: ["*.clients.test"] }
---
apiVersion: edgion.io/v1
kind: EdgionTls
metadata: { name: uncovered, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: https }]
  hosts: ["other.test"]
  secretRef: { name: web }
---
apiVersion: edgion.io/v1
kind: EdgionTls
metadata: { name: tcp-parent, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  hosts: ["web.test"]
  secretRef: { name: web }
`);
  assert.equal(r.content.edgionTls.length, 1);
  const et = r.content.edgionTls[0]!;
  assert.deepEqual(et.ports, [9443]);
  assert.equal(et.minVersion, 'TLSv1.3');
  assert.equal(et.ciphers, 'ECDHE-RSA-AES128-GCM-SHA256');
  assert.equal(et.exposeClientCert, true);
  assert.deepEqual({ ...et.clientAuth, caPem: undefined }, { mode: 'Optional', caPem: undefined, verifyDepth: 2, allowedSans: [], allowedCns: ['*.clients.test'] });
  assert.ok(r.content.tlsBundles['default/web']);
  const okStatus = r.statuses.get('EdgionTls/default/ok') as any;
  assert.deepEqual(okStatus.resolvedPorts, [9443]);
  assert.equal(okStatus.parents[2].conditions.find((c: any) => c.type === 'Programmed').reason, 'Pending', 'a parentRef with neither sectionName nor port binds nothing');
  const unc = (r.statuses.get('EdgionTls/default/uncovered') as any).conditions.find((c: any) => c.type === 'Accepted');
  assert.equal(unc.status, 'False');
  const tcp = (r.statuses.get('EdgionTls/default/tcp-parent') as any).conditions.find((c: any) => c.type === 'Ready');
  assert.equal(tcp.reason, 'Pending');
  assert.match(tcp.message, /no parentRef resolves/);
});

test('BackendTLSPolicy puts TLS settings on the clusters of its Service', () => {
  const client = ca.issue('gw-client', { kind: 'client' });
  const r = views(`${base}---
${caSecretYaml('ca', ca.cert)}---
${tlsSecretYaml('client', client)}---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: p, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: svc }]
  validation: { hostname: svc.internal, caCertificateRefs: [{ group: "", kind: Secret, name: ca }] }
  options: { edgion.io/client-certificate-ref: client }
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: second, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: svc }]
  validation: { hostname: other.internal, wellKnownCACertificates: System }
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: t, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: svc, port: 80 }] }]
`);
  const tls = r.content.clusters['default/svc:80']!.tls!;
  assert.equal(tls.hostname, 'svc.internal');
  assert.equal(tls.system, false);
  assert.ok(tls.caPem?.includes('BEGIN CERTIFICATE'));
  assert.ok(tls.clientCertPem && tls.clientKeyPem);
  assert.match(tls.id!, /^[0-9a-f]{16}$/);
  const second = (r.statuses.get('BackendTLSPolicy/default/second') as any).conditions.find((c: any) => c.type === 'Accepted');
  assert.equal(second.status, 'False');
  assert.equal(second.reason, 'Conflicted');
});

test('a rejected EdgionStreamPlugins is present and invalid (fail closed)', () => {
  const r = views(base, [{ kind: 'EdgionStreamPlugins', namespace: 'default', name: 'bad', reason: 'spec.plugins[0].config.allow[0]: nope' }]);
  assert.equal(r.content.streamPluginSets['default/bad']?.valid, false);
});

test('validation of TLS Secrets, stream plugins, L4 annotations and EdgionAcme', () => {
  const pair = ca.issue('v.test');
  const other = ca.issue('w.test');
  const secret = (crt: string, key: string) => ({ kind: 'Secret', type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(crt).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') } });
  assert.deepEqual(tlsResourceValidator('Secret', secret(pair.cert, pair.key)).problems, []);
  assert.match(tlsResourceValidator('Secret', secret(pair.cert, other.key)).problems[0]!.message, /not the private key/);
  assert.equal(tlsResourceValidator('Secret', { kind: 'Secret', data: { password: 'eA==' } }).problems.length, 0);
  assert.equal(tlsResourceValidator('EdgionStreamPlugins', { spec: { plugins: [{ type: 'IpRestriction', config: { allow: ['x'] } }] } }).problems[0]!.path, 'spec.plugins[0].config.allow[0]');
  const ann = (a: Record<string, string>) => tlsResourceValidator('TCPRoute', { metadata: { annotations: a }, spec: {} }).problems;
  assert.match(ann({ 'edgion.io/proxy-protocol': 'v3' })[0]!.message, /v1" or "v2/);
  assert.match(ann({ 'edgion.io/max-connect-retries': 'many' })[0]!.message, /whole number/);
  assert.equal(ann({ 'edgion.io/proxy-protocol': 'V1', 'edgion.io/max-connect-retries': '2' }).length, 0);
  const acme = (spec: Record<string, unknown>) => tlsResourceValidator('EdgionAcme', { spec: { email: 'a@b.c', storage: { secretName: 's' }, ...spec } }).problems.map((p) => p.path);
  assert.deepEqual(acme({ domains: ['a.test'], challenge: { type: 'http-01' } }), ['spec.challenge.http01.gatewayRef']);
  assert.deepEqual(acme({ domains: ['*.a.test'], challenge: { type: 'http-01', http01: { gatewayRef: { name: 'gw' } } } }), ['spec.domains[0]']);
  assert.deepEqual(acme({ domains: ['*.a.test'], challenge: { type: 'dns-01' } }), ['spec.challenge.dns01.provider']);
  assert.deepEqual(acme({ domains: ['a.test'], challenge: { type: 'dns-01', dns01: { provider: 'webhook' } } }), []);
});
