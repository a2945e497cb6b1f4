import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { KINDS, KIND_NAMES, acceptedApiVersions, apiVersionOf, findKind, kindInfo, parseApiVersion } from '../../../src/api/kinds.js';
import { SCHEMA_FILES } from '../../../src/api/generated/schema-files.js';
import { crdDir } from './fixtures.js';

describe('kind registry', () => {
  it('lists the 22 kinds the project loads, once each', () => {
    assert.equal(KINDS.length, 22);
    assert.equal(new Set(KIND_NAMES).size, 22);
    for (const k of ['GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'TCPRoute', 'UDPRoute', 'TLSRoute', 'ReferenceGrant', 'BackendTLSPolicy']) {
      assert.equal(kindInfo(k)?.group, 'gateway.networking.k8s.io', k);
    }
    for (const k of ['Namespace', 'Service', 'Endpoints', 'Secret', 'ConfigMap']) assert.equal(kindInfo(k)?.group, '', k);
    assert.equal(kindInfo('EndpointSlice')?.group, 'discovery.k8s.io');
    for (const k of ['EdgionPlugins', 'EdgionStreamPlugins', 'EdgionTls', 'EdgionGatewayConfig', 'EdgionAcme', 'PluginMetaData', 'LinkSys']) {
      assert.equal(kindInfo(k)?.group, 'edgion.io', k);
      assert.deepEqual([...(kindInfo(k)?.versions ?? [])].sort(), ['v1', 'v1alpha1'], k);
    }
  });

  it('knows which kinds are cluster-scoped', () => {
    assert.deepEqual(KINDS.filter((k) => !k.namespaced).map((k) => k.kind).sort(), ['EdgionGatewayConfig', 'GatewayClass', 'Namespace']);
  });

  const lookups: Array<[string, string]> = [
    ['HTTPRoute', 'HTTPRoute'],
    ['httproute', 'HTTPRoute'],
    ['HTTPRoutes', 'HTTPRoute'],
    ['httproutes', 'HTTPRoute'],
    ['  Gateway ', 'Gateway'],
    ['gtw', 'Gateway'],
    ['gc', 'GatewayClass'],
    ['edgiongwconfig', 'EdgionGatewayConfig'],
    ['EdgionGatewayConfig', 'EdgionGatewayConfig'],
    ['edgiongatewayclassconfigs', 'EdgionGatewayConfig'],
    ['endpoints', 'Endpoints'],
    ['endpointslices', 'EndpointSlice'],
    ['referencegrants', 'ReferenceGrant'],
    ['refgrant', 'ReferenceGrant'],
    ['backendtlspolicies', 'BackendTLSPolicy'],
    ['btlspolicy', 'BackendTLSPolicy'],
    ['svc', 'Service'],
    ['secrets', 'Secret'],
    ['cm', 'ConfigMap'],
    ['ns', 'Namespace'],
    ['eplugins', 'EdgionPlugins'],
    ['esplugins', 'EdgionStreamPlugins'],
    ['etls', 'EdgionTls'],
    ['pmd', 'PluginMetaData'],
    ['lsys', 'LinkSys'],
    ['eacme', 'EdgionAcme'],
    ['httproutes.gateway.networking.k8s.io', 'HTTPRoute'],
  ];
  for (const [name, kind] of lookups) {
    it(`findKind(${JSON.stringify(name)}) is ${kind}`, () => assert.equal(findKind(name)?.kind, kind));
  }

  it('findKind returns undefined for unknown names and wrong groups', () => {
    assert.equal(findKind('ingress'), undefined);
    assert.equal(findKind(''), undefined);
    assert.equal(findKind('httproutes.edgion.io'), undefined);
  });

  it('every alias is lower-case and selects one kind only', () => {
    const owner = new Map<string, string>();
    for (const k of KINDS) {
      for (const a of k.aliases) {
        assert.equal(a, a.toLowerCase());
        assert.equal(owner.get(a) ?? k.kind, k.kind, `alias ${a} is shared`);
        owner.set(a, k.kind);
      }
    }
  });

  it('apiVersionOf gives the preferred group/version', () => {
    assert.equal(apiVersionOf('HTTPRoute'), 'gateway.networking.k8s.io/v1');
    assert.equal(apiVersionOf('TCPRoute'), 'gateway.networking.k8s.io/v1alpha2');
    assert.equal(apiVersionOf('TLSRoute'), 'gateway.networking.k8s.io/v1alpha3');
    assert.equal(apiVersionOf('ReferenceGrant'), 'gateway.networking.k8s.io/v1beta1');
    assert.equal(apiVersionOf('Service'), 'v1');
    assert.equal(apiVersionOf('EndpointSlice'), 'discovery.k8s.io/v1');
    assert.equal(apiVersionOf('EdgionPlugins'), 'edgion.io/v1');
    assert.equal(apiVersionOf('EdgionGatewayConfig'), 'edgion.io/v1alpha1');
    assert.deepEqual(acceptedApiVersions(kindInfo('HTTPRoute')!), ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1']);
  });

  it('parseApiVersion splits group and version', () => {
    assert.deepEqual(parseApiVersion('v1'), { group: '', version: 'v1' });
    assert.deepEqual(parseApiVersion('edgion.io/v1alpha1'), { group: 'edgion.io', version: 'v1alpha1' });
  });

  it('every kind has a generated schema file', () => {
    assert.deepEqual(Object.keys(SCHEMA_FILES).sort(), [...KIND_NAMES].sort());
  });

  it('agrees with the CRDs: group, served versions, scope, plural, singular and short names', (t) => {
    const dir = crdDir();
    if (!dir) return t.skip('reference CRDs not found (../shared/reference/crds; set EDGION_CRDS_DIR)');
    const files = [path.join(dir, 'gateway-api/gateway-api-experimental-v1.4.0.yaml'), ...fs.readdirSync(path.join(dir, 'edgion-crd')).map((f) => path.join(dir, 'edgion-crd', f))];
    const seen = new Set<string>();
    for (const file of files) {
      for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
        const crd = doc.toJS({ maxAliasCount: -1 }) as { kind?: string; spec: { group: string; scope: string; names: { kind: string; plural: string; singular?: string; shortNames?: string[] }; versions: Array<{ name: string; served: boolean; storage: boolean }> } } | null;
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        const info = kindInfo(crd.spec.names.kind);
        if (!info) continue; // XListenerSet and friends: not loaded by the project
        seen.add(info.kind);
        assert.equal(info.group, crd.spec.group, info.kind);
        assert.equal(info.namespaced, crd.spec.scope === 'Namespaced', info.kind);
        assert.equal(info.plural, crd.spec.names.plural, info.kind);
        for (const a of [crd.spec.names.plural, crd.spec.names.singular ?? '', ...(crd.spec.names.shortNames ?? [])].filter(Boolean)) {
          assert.ok(info.aliases.includes(a), `${info.kind} lacks alias ${a}`);
        }
        const served = crd.spec.versions.filter((v) => v.served).map((v) => v.name);
        const storage = crd.spec.versions.find((v) => v.storage)?.name;
        assert.equal(info.versions[0], storage, `${info.kind}: preferred version is the storage version`);
        if (info.source === 'gateway-api') assert.deepEqual([...info.versions].sort(), served.sort(), info.kind);
        else for (const v of served) assert.ok(info.versions.includes(v), `${info.kind} ${v}`);
      }
    }
    assert.equal(seen.size, 16, 'every Gateway API and edgion.io kind has a CRD');
  });
});
