// BackendTLSPolicy in the translator (Gateway API v1.4): CA references that do not resolve
// (ResolvedRefs=False InvalidCACertificateRef / InvalidKind, Accepted=False NoValidCACertificate,
// requests fail with 502), targetRefs[].sectionName, conflicts (oldest wins, Conflicted) and
// status.ancestors naming the Gateways whose routes use the targeted Service; subjectAltNames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { translate } from '../../../src/controller/translate/translate.js';
import type { PeerCertificate } from 'node:tls';
import type { ResourceView } from '../../../src/controller/translate/context.js';
import { checkBackendIdentity } from '../../../src/gateway/upstream/backend-identity.js';
import { TestCa, caSecretYaml, tlsSecretYaml } from '../../helpers/certs.js';

function run(yamlText: string, rejected: { kind: string; namespace: string; name: string; reason: string; obj?: any }[] = []) {
  const docs = yamlText.split(/^---$/m).map((d) => parse(d)).filter(Boolean);
  const resources: ResourceView[] = docs.map((obj: any, i: number) => ({
    kind: obj.kind,
    namespace: obj.kind === 'GatewayClass' ? undefined : (obj.metadata.namespace ?? 'default'),
    name: obj.metadata.name,
    key: `${obj.kind}/${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`,
    obj,
    generation: 1,
    order: i,
    previousStatus: undefined,
  }));
  return translate({ resources, rejected, controllerName: 'edgion.io/gateway-controller', now: new Date() });
}

const ca = new TestCa('btls-unit-ca');
const indent = (pem: string) => pem.trim().split('\n').map((l) => `    ${l}`).join('\n');

const gateway = (name: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: default }
spec:
  gatewayClassName: edgion
  listeners: [{ name: http, port: 8080, protocol: HTTP }]
`;

const service = (name: string) => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  ports:
    - { name: https, port: 443 }
    - { name: plain, port: 80 }
`;

const route = (name: string, gws: string[], backends: { svc: string; port: number }[], extra = '') => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [${gws.map((g) => `{ name: ${g} }`).join(', ')}]
  hostnames: ["${name}.test"]
  rules:
${backends.map((b) => `    - { backendRefs: [{ name: ${b.svc}, port: ${b.port} }]${extra} }`).join('\n')}
`;

function policy(name: string, target: string, validation: string, more: { section?: string; created?: string; options?: string } = {}): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: ${name}, namespace: default${more.created ? `, creationTimestamp: "${more.created}"` : ''} }
spec:
  targetRefs: [{ group: "", kind: Service, name: ${target}${more.section ? `, sectionName: ${more.section}` : ''} }]
  validation: { hostname: backend.test, ${validation} }
${more.options ?? ''}`;
}

const base = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: edgion }
spec: { controllerName: edgion.io/gateway-controller }
---
${gateway('gw')}---
${gateway('gw2')}---
${caSecretYaml('ca-secret', ca.cert)}---
apiVersion: v1
kind: ConfigMap
metadata: { name: ca-cm, namespace: default }
data:
  ca.crt: |
${indent(ca.cert)}
---
apiVersion: v1
kind: ConfigMap
metadata: { name: no-ca, namespace: default }
data: { other: x }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: bad-pem, namespace: default }
data: { ca.crt: "-----BEGIN CERTIFICATE-----\\nnot base64\\n-----END CERTIFICATE-----\\n" }
`;

function cond(status: any, type: string, ancestor?: string): any {
  const conds = ancestor === undefined ? status.conditions : status.ancestors.find((a: any) => a.ancestorRef.name === ancestor)?.conditions;
  return conds?.find((c: any) => c.type === type);
}

test('a CA reference that does not resolve: ResolvedRefs=False, Accepted=False NoValidCACertificate, backends answer 502', () => {
  const cases: [string, string, string, RegExp][] = [
    ['missing-cm', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: nope }]', 'InvalidCACertificateRef', /ConfigMap default\/nope does not exist/],
    ['missing-secret', 'caCertificateRefs: [{ group: "", kind: Secret, name: nope }]', 'InvalidCACertificateRef', /Secret default\/nope does not exist/],
    ['no-ca-key', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: no-ca }]', 'InvalidCACertificateRef', /has no ca\.crt/],
    ['bad-pem', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: bad-pem }]', 'InvalidCACertificateRef', /ca\.crt does not parse/],
    ['bad-kind', 'caCertificateRefs: [{ group: invalid.io, kind: InvalidKind, name: x }]', 'InvalidKind', /invalid\.io\/InvalidKind x is not a supported kind/],
  ];
  const yamlText = [base, ...cases.flatMap(([name, v]) => [service(`svc-${name}`), policy(name, `svc-${name}`, v), route(`r-${name}`, ['gw'], [{ svc: `svc-${name}`, port: 443 }])])].join('---\n');
  const r = run(yamlText);
  for (const [name, , reason, message] of cases) {
    const st = r.statuses.get(`BackendTLSPolicy/default/${name}`) as any;
    assert.equal(st.ancestors.length, 1, name);
    assert.deepEqual(st.ancestors[0].ancestorRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'gw' });
    assert.equal(st.ancestors[0].controllerName, 'edgion.io/gateway-controller');
    const refs = cond(st, 'ResolvedRefs', 'gw');
    assert.equal(refs.status, 'False', name);
    assert.equal(refs.reason, reason, name);
    assert.match(refs.message, message, name);
    const acc = cond(st, 'Accepted', 'gw');
    assert.equal(acc.status, 'False', name);
    assert.equal(acc.reason, 'NoValidCACertificate', name);
    assert.equal(cond(st, 'Accepted').reason, 'NoValidCACertificate');
    // No fall-back: the cluster carries the error, no CA, not the system roots.
    const tls = r.content.clusters[`default/svc-${name}:443`]!.tls!;
    assert.equal(tls.system, false);
    assert.equal(tls.caPem, undefined);
    assert.match(tls.error!, new RegExp(`BackendTLSPolicy default/${name} cannot be applied`));
    const backend = r.content.httpRoutes.find((x) => x.name === `r-${name}`)!.rules[0]!.backends[0]!;
    assert.equal(backend.error?.status, 502);
    assert.match(backend.error!.message, new RegExp(`BackendTLSPolicy default/${name}`));
    // The route itself is fine: its references resolve.
    const routeStatus = r.statuses.get(`HTTPRoute/default/r-${name}`) as any;
    assert.equal(routeStatus.parents[0].conditions.find((c: any) => c.type === 'ResolvedRefs').status, 'True');
  }
  assert.ok(r.diagnostics.some((d) => d.severity === 'warning' && d.resource?.name === 'missing-cm' && d.path === 'spec.validation.caCertificateRefs[0]'));
});

test('valid CA references: a Secret or a ConfigMap; one bad reference among good ones only degrades ResolvedRefs', () => {
  const r = run(
    [
      base,
      service('svc-a'),
      service('svc-b'),
      service('svc-sys'),
      policy('from-secret', 'svc-a', 'caCertificateRefs: [{ group: "", kind: Secret, name: ca-secret }]'),
      policy('mixed', 'svc-b', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: ca-cm }, { group: "", kind: ConfigMap, name: nope }]'),
      policy('system', 'svc-sys', 'wellKnownCACertificates: System'),
      route('r', ['gw'], [
        { svc: 'svc-a', port: 443 },
        { svc: 'svc-b', port: 443 },
        { svc: 'svc-sys', port: 443 },
      ]),
    ].join('---\n'),
  );
  const a = r.content.clusters['default/svc-a:443']!.tls!;
  assert.ok(a.caPem?.includes('BEGIN CERTIFICATE'));
  assert.equal(a.error, undefined);
  const st = r.statuses.get('BackendTLSPolicy/default/from-secret') as any;
  assert.equal(cond(st, 'Accepted', 'gw').status, 'True');
  assert.equal(cond(st, 'ResolvedRefs', 'gw').status, 'True');

  const b = r.content.clusters['default/svc-b:443']!.tls!;
  assert.ok(b.caPem?.includes('BEGIN CERTIFICATE'));
  assert.equal(b.error, undefined);
  const mixed = r.statuses.get('BackendTLSPolicy/default/mixed') as any;
  assert.equal(cond(mixed, 'Accepted', 'gw').status, 'True');
  assert.equal(cond(mixed, 'ResolvedRefs', 'gw').status, 'False');
  assert.equal(cond(mixed, 'ResolvedRefs', 'gw').reason, 'InvalidCACertificateRef');
  assert.match(cond(mixed, 'ResolvedRefs', 'gw').message, /caCertificateRefs\[1\]: ConfigMap default\/nope does not exist/);

  const sys = r.content.clusters['default/svc-sys:443']!.tls!;
  assert.equal(sys.system, true);
  assert.equal(sys.error, undefined);
  assert.equal(r.content.httpRoutes[0]!.rules.every((rule) => rule.backends[0]!.error === undefined), true);
});

test('targetRefs[].sectionName: only that Service port uses TLS; without it every port does', () => {
  const r = run(
    [
      base,
      service('one-port'),
      service('all-ports'),
      policy('https-only', 'one-port', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: ca-cm }]', { section: 'https' }),
      policy('whole', 'all-ports', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: ca-cm }]'),
      policy('no-such-port', 'all-ports', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: ca-cm }]', { section: 'grpc' }),
      route('r', ['gw'], [
        { svc: 'one-port', port: 443 },
        { svc: 'one-port', port: 80 },
        { svc: 'all-ports', port: 443 },
        { svc: 'all-ports', port: 80 },
      ]),
    ].join('---\n'),
  );
  assert.equal(r.content.clusters['default/one-port:443']!.tls?.policy, 'default/https-only');
  assert.equal(r.content.clusters['default/one-port:80']!.tls, undefined);
  assert.equal(r.content.clusters['default/all-ports:443']!.tls?.policy, 'default/whole');
  assert.equal(r.content.clusters['default/all-ports:80']!.tls?.policy, 'default/whole');
  const bad = r.statuses.get('BackendTLSPolicy/default/no-such-port') as any;
  assert.equal(cond(bad, 'Accepted').status, 'False');
  assert.equal(cond(bad, 'Accepted').reason, 'TargetNotFound');
  assert.match(cond(bad, 'Accepted').message, /has no port named grpc/);
  assert.deepEqual(bad.ancestors, []);
});

test('conflicts: for one Service (port) the oldest policy wins, then namespace/name; a port-specific policy is not in conflict with a whole-Service one', () => {
  const ca2 = `caCertificateRefs: [{ group: "", kind: ConfigMap, name: ca-cm }]`;
  const r = run(
    [
      base,
      service('svc-c'),
      service('svc-d'),
      service('svc-e'),
      // Named first alphabetically but created later: loses.
      policy('a-newer', 'svc-c', ca2, { created: '2026-01-02T00:00:00Z' }),
      policy('z-older', 'svc-c', ca2, { created: '2026-01-01T00:00:00Z' }),
      // Same port, same age: the name decides.
      policy('d-1', 'svc-d', ca2, { section: 'https', created: '2026-01-01T00:00:00Z' }),
      policy('d-2', 'svc-d', ca2, { section: 'https', created: '2026-01-01T00:00:00Z' }),
      // One for the port, one for the Service: both accepted.
      policy('e-port', 'svc-e', ca2, { section: 'https' }),
      policy('e-whole', 'svc-e', ca2),
      route('r', ['gw'], [
        { svc: 'svc-c', port: 443 },
        { svc: 'svc-d', port: 443 },
        { svc: 'svc-e', port: 443 },
        { svc: 'svc-e', port: 80 },
      ]),
    ].join('---\n'),
  );
  const state = (n: string) => cond(r.statuses.get(`BackendTLSPolicy/default/${n}`), 'Accepted', 'gw');
  assert.equal(state('z-older').status, 'True');
  assert.equal(state('a-newer').status, 'False');
  assert.equal(state('a-newer').reason, 'Conflicted');
  assert.match(state('a-newer').message, /older BackendTLSPolicy default\/z-older/);
  assert.equal(r.content.clusters['default/svc-c:443']!.tls?.policy, 'default/z-older');
  assert.equal(state('d-1').status, 'True');
  assert.equal(state('d-2').reason, 'Conflicted');
  assert.equal(r.content.clusters['default/svc-d:443']!.tls?.policy, 'default/d-1');
  assert.equal(state('e-port').status, 'True');
  assert.equal(state('e-whole').status, 'True');
  assert.equal(r.content.clusters['default/svc-e:443']!.tls?.policy, 'default/e-port');
  assert.equal(r.content.clusters['default/svc-e:80']!.tls?.policy, 'default/e-whole');
});

test('status.ancestors: the Gateways whose routes use the targeted Service (also through a mirror); none when unused', () => {
  const ca2 = `caCertificateRefs: [{ group: "", kind: ConfigMap, name: ca-cm }]`;
  const r = run(
    [
      base,
      service('shared'),
      service('mirrored'),
      service('unused'),
      service('plain'),
      policy('p-shared', 'shared', ca2),
      policy('p-mirrored', 'mirrored', ca2),
      policy('p-unused', 'unused', ca2),
      route('on-gw', ['gw'], [{ svc: 'shared', port: 443 }]),
      route('on-both', ['gw', 'gw2'], [{ svc: 'shared', port: 80 }]),
      route('mirror', ['gw2'], [{ svc: 'plain', port: 80 }], ', filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: mirrored, port: 443 } } }]'),
    ].join('---\n'),
  );
  const names = (n: string) => (r.statuses.get(`BackendTLSPolicy/default/${n}`) as any).ancestors.map((a: any) => `${a.ancestorRef.kind} ${a.ancestorRef.namespace}/${a.ancestorRef.name}`);
  assert.deepEqual(names('p-shared'), ['Gateway default/gw', 'Gateway default/gw2']);
  assert.deepEqual(names('p-mirrored'), ['Gateway default/gw2']);
  assert.deepEqual(names('p-unused'), []);
  const unused = r.statuses.get('BackendTLSPolicy/default/p-unused') as any;
  assert.equal(cond(unused, 'Accepted').status, 'True');
});

test('an unusable client certificate (option edgion.io/client-certificate-ref) fails the backend too', () => {
  const client = ca.issue('gw-client', { kind: 'client' });
  const r = run(
    [
      base,
      tlsSecretYaml('client', client),
      service('svc-mtls'),
      service('svc-nocert'),
      policy('with-cert', 'svc-mtls', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: ca-cm }]', { options: '  options: { edgion.io/client-certificate-ref: client }\n' }),
      policy('missing-cert', 'svc-nocert', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: ca-cm }]', { options: '  options: { edgion.io/client-certificate-ref: nope }\n' }),
      route('r', ['gw'], [
        { svc: 'svc-mtls', port: 443 },
        { svc: 'svc-nocert', port: 443 },
      ]),
    ].join('---\n'),
  );
  assert.ok(r.content.clusters['default/svc-mtls:443']!.tls!.clientCertPem);
  const st = r.statuses.get('BackendTLSPolicy/default/missing-cert') as any;
  assert.equal(cond(st, 'ResolvedRefs', 'gw').reason, 'InvalidClientCertificateRef');
  assert.equal(cond(st, 'Accepted', 'gw').status, 'False');
  assert.match(r.content.clusters['default/svc-nocert:443']!.tls!.error!, /client certificate unusable/);
  assert.equal(r.content.httpRoutes[0]!.rules[1]!.backends[0]!.error?.status, 502);
});

test('backend identity: hostname without subjectAltNames; with them, one SAN must match (DNS, wildcard, URI)', () => {
  const cert = { subject: { CN: 'api.example.com' }, subjectaltname: 'DNS:api.example.com, DNS:*.svc.example.com, URI:spiffe://cluster/ns/a/sa/b' } as unknown as PeerCertificate;
  const tls = (subjectAltNames?: { type: 'Hostname' | 'URI'; value: string }[]) => ({ hostname: 'api.example.com', system: false, ...(subjectAltNames ? { subjectAltNames } : {}) });
  assert.equal(checkBackendIdentity(tls(), '10.0.0.1', cert), undefined);
  assert.ok(checkBackendIdentity({ ...tls(), hostname: 'other.example.com' }, '10.0.0.1', cert));
  assert.equal(checkBackendIdentity(tls([{ type: 'Hostname', value: 'x.svc.example.com' }]), '', cert), undefined, 'covered by the certificate wildcard');
  assert.equal(checkBackendIdentity(tls([{ type: 'Hostname', value: '*.svc.example.com' }]), '', cert), undefined, 'the same wildcard');
  assert.equal(checkBackendIdentity(tls([{ type: 'URI', value: 'spiffe://cluster/ns/a/sa/b' }]), '', cert), undefined);
  const miss = checkBackendIdentity(tls([{ type: 'URI', value: 'spiffe://cluster/ns/a/sa/c' }, { type: 'Hostname', value: 'nope.example.com' }]), '', cert);
  assert.match(miss!.message, /matches none of the BackendTLSPolicy subjectAltNames \(URI:spiffe:\/\/cluster\/ns\/a\/sa\/c, DNS:nope\.example\.com\)/);
  // With subjectAltNames the hostname is not used for authentication.
  assert.ok(checkBackendIdentity(tls([{ type: 'Hostname', value: 'nope.example.com' }]), '', cert));
});

test('a policy that never validated refuses its targets (502), unless a valid policy covers them', () => {
  const bad = parse(policy('never-valid', 'svc-r', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: ca-cm }]'));
  const r = run(
    [
      base,
      service('svc-r'),
      policy('port-ok', 'svc-r', 'caCertificateRefs: [{ group: "", kind: ConfigMap, name: ca-cm }]', { section: 'https' }),
      route('r', ['gw'], [
        { svc: 'svc-r', port: 443 },
        { svc: 'svc-r', port: 80 },
      ]),
    ].join('---\n'),
    [{ kind: 'BackendTLSPolicy', namespace: 'default', name: 'never-valid', reason: 'spec.validation: must not contain both', obj: bad }],
  );
  assert.equal(r.content.clusters['default/svc-r:443']!.tls?.policy, 'default/port-ok');
  assert.equal(r.content.clusters['default/svc-r:443']!.tls?.error, undefined);
  const refused = r.content.clusters['default/svc-r:80']!.tls!;
  assert.match(refused.error!, /BackendTLSPolicy default\/never-valid is rejected \(spec\.validation: must not contain both\)/);
  assert.equal(r.content.httpRoutes[0]!.rules[1]!.backends[0]!.error?.status, 502);
});
