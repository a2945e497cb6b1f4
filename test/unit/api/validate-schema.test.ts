import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Diagnostic } from '../../../src/shared/diagnostics.js';
import { KIND_NAMES, SchemaValidator, validateResource } from '../../../src/api/index.js';
import { fixture, parseYaml, variant, VALID_YAML, type Json } from './fixtures.js';

// One validator for the file: kinds compile on first use and stay cached in it.
const validator = new SchemaValidator();

function errorsOf(resource: unknown): Diagnostic[] {
  return validator.validateSchema(resource).diagnostics.filter((d) => d.severity === 'error');
}

function get(value: unknown, dotted: string): unknown {
  let node = value;
  for (const k of dotted.split(/\.|\[(\d+)\]/).filter((x) => x !== undefined && x !== '')) {
    node = (node as Record<string, unknown> | undefined)?.[k];
  }
  return node;
}

describe('validateSchema: valid resources', () => {
  const docs = parseYaml(VALID_YAML);

  it('the fixtures cover every kind', () => {
    assert.deepEqual([...new Set(docs.map((d) => d.kind))].sort(), [...KIND_NAMES].sort());
  });

  for (const doc of docs) {
    it(`${String(doc.kind)} ${String((doc.metadata as Json).name)} passes schema and CEL rules without any diagnostic`, () => {
      const r = validateResource(validator, doc);
      assert.deepEqual(r.diagnostics, []);
      assert.equal(r.ok, true);
    });
  }

  it('every kind and served version compiles', () => {
    assert.deepEqual(new SchemaValidator().precompile(), []);
  });

  it('accepts every served apiVersion (edgion.io kinds take v1 and v1alpha1)', () => {
    const cases: Array<[string, string]> = [
      ['HTTPRoute', 'gateway.networking.k8s.io/v1beta1'],
      ['Gateway', 'gateway.networking.k8s.io/v1beta1'],
      ['GatewayClass', 'gateway.networking.k8s.io/v1beta1'],
      ['BackendTLSPolicy', 'gateway.networking.k8s.io/v1alpha3'],
      ['TLSRoute', 'gateway.networking.k8s.io/v1alpha3'],
      ['EdgionPlugins', 'edgion.io/v1alpha1'],
      ['EdgionTls', 'edgion.io/v1alpha1'],
      ['EdgionGatewayConfig', 'edgion.io/v1'],
      ['LinkSys', 'edgion.io/v1alpha1'],
    ];
    for (const [kind, apiVersion] of cases) assert.deepEqual(errorsOf(variant(kind, { apiVersion })), [], `${kind} ${apiVersion}`);
  });

  it('attaches the resource and the source location to diagnostics', () => {
    const r = validator.validateSchema(variant('HTTPRoute', { 'spec.rules[0].backendRefs[0].port': 'x' }), { location: { file: 'routes/shop.yaml', doc: 2 } });
    assert.equal(r.diagnostics.length, 1);
    assert.deepEqual(r.diagnostics[0]!.resource, { kind: 'HTTPRoute', namespace: 'shop', name: 'shop' });
    assert.deepEqual(r.diagnostics[0]!.location, { file: 'routes/shop.yaml', doc: 2 });
  });

  it('does not modify its input', () => {
    const doc = fixture('HTTPRoute');
    const before = JSON.stringify(doc);
    const r = validator.validateSchema(doc);
    assert.equal(JSON.stringify(doc), before);
    assert.notEqual(r.value, doc);
  });

  it('compiles kinds lazily, one schema at a time', () => {
    const v = new SchemaValidator();
    assert.deepEqual(v.compiledSchemas, []);
    v.validateSchema(fixture('Service'));
    assert.deepEqual(v.compiledSchemas, ['Service.json']);
    v.validateSchema(fixture('TLSRoute')); // v1alpha2 has its own schema
    assert.deepEqual(v.compiledSchemas, ['Service.json', 'TLSRoute.v1alpha2.json']);
  });
});

describe('validateSchema: CRD defaults are applied as the API server does (DECISIONS 1)', () => {
  const route = (spec: unknown) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec });

  it('a route without rules gets one rule matching PathPrefix /', () => {
    const r = validator.validateSchema(route({ parentRefs: [{ name: 'gw' }] }));
    assert.equal(r.ok, true);
    assert.deepEqual(get(r.value, 'spec.rules'), [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]);
  });

  it('a rule without matches gets PathPrefix /', () => {
    const r = validator.validateSchema(route({ rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] }));
    assert.deepEqual(get(r.value, 'spec.rules[0].matches'), [{ path: { type: 'PathPrefix', value: '/' } }]);
  });

  it('a rule whose matches is null (`matches:` in YAML) gets PathPrefix /', () => {
    const [doc] = parseYaml('apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n    - matches:\n      backendRefs: [{name: s, port: 80}]\n');
    const r = validator.validateSchema(doc);
    assert.equal(r.ok, true, JSON.stringify(r.diagnostics));
    assert.deepEqual(get(r.value, 'spec.rules[0].matches'), [{ path: { type: 'PathPrefix', value: '/' } }]);
  });

  it('a match without path gets PathPrefix /; a path without type gets PathPrefix', () => {
    const r = validator.validateSchema(route({ rules: [{ matches: [{ headers: [{ name: 'x-a', value: '1' }] }, { path: { value: '/api' } }] }] }));
    assert.deepEqual(get(r.value, 'spec.rules[0].matches[0].path'), { type: 'PathPrefix', value: '/' });
    assert.deepEqual(get(r.value, 'spec.rules[0].matches[1].path'), { value: '/api', type: 'PathPrefix' });
  });

  it('header and query matches default to Exact', () => {
    const r = validator.validateSchema(route({ rules: [{ matches: [{ headers: [{ name: 'x-a', value: '1' }], queryParams: [{ name: 'q', value: '2' }] }] }] }));
    assert.equal(get(r.value, 'spec.rules[0].matches[0].headers[0].type'), 'Exact');
    assert.equal(get(r.value, 'spec.rules[0].matches[0].queryParams[0].type'), 'Exact');
  });

  it('backendRefs and parentRefs get their group, kind and weight', () => {
    const r = validator.validateSchema(route({ parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] }));
    assert.deepEqual(get(r.value, 'spec.parentRefs[0]'), { name: 'gw', group: 'gateway.networking.k8s.io', kind: 'Gateway' });
    assert.deepEqual(get(r.value, 'spec.rules[0].backendRefs[0]'), { name: 'svc', port: 80, group: '', kind: 'Service', weight: 1 });
  });

  it('Gateway listeners get allowedRoutes Same, tls mode Terminate, and addresses type IPAddress', () => {
    const r = validator.validateSchema({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'g' },
      spec: {
        gatewayClassName: 'edgion',
        addresses: [{ value: '10.0.0.1' }],
        listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'c' }] } }],
      },
    });
    assert.equal(r.ok, true, JSON.stringify(r.diagnostics));
    assert.deepEqual(get(r.value, 'spec.listeners[0].allowedRoutes'), { namespaces: { from: 'Same' } });
    assert.equal(get(r.value, 'spec.listeners[0].tls.mode'), 'Terminate');
    assert.deepEqual(get(r.value, 'spec.listeners[0].tls.certificateRefs[0]'), { name: 'c', group: '', kind: 'Secret' });
    assert.equal(get(r.value, 'spec.addresses[0].type'), 'IPAddress');
  });

  it('edgion.io and core defaults: plugin enable, Service port protocol, Secret type', () => {
    const p = validator.validateSchema(variant('EdgionPlugins', { 'spec.requestPlugins[0].enable': undefined }));
    assert.equal(get(p.value, 'spec.requestPlugins[0].enable'), true);
    const s = validator.validateSchema(variant('Service', { 'spec.ports[0].protocol': undefined }));
    assert.equal(get(s.value, 'spec.ports[0].protocol'), 'TCP');
    const sec = validator.validateSchema(variant('Secret', { type: undefined }));
    assert.equal(get(sec.value, 'type'), 'Opaque');
  });

  it('does not default inside a field that is absent', () => {
    const r = validator.validateSchema(fixture('EdgionTls'));
    assert.equal(get(r.value, 'spec.extend'), undefined);
  });
});

describe('validateSchema: invalid resources', () => {
  // [title, kind, changes, path, exact message or fragment]
  const cases: Array<[string, string, Record<string, unknown>, string | undefined, string]> = [
    ['enum', 'HTTPRoute', { 'spec.rules[0].matches[0].path.type': 'NotAPathType' }, 'spec.rules[0].matches[0].path.type', 'must be one of: Exact, PathPrefix, RegularExpression (got "NotAPathType")'],
    ['missing backend name', 'HTTPRoute', { 'spec.rules[0].backendRefs[0].name': undefined }, 'spec.rules[0].backendRefs[0]', 'required field "name" is missing'],
    ['port out of range', 'HTTPRoute', { 'spec.rules[0].backendRefs[0].port': 70000 }, 'spec.rules[0].backendRefs[0].port', 'must be <= 65535 (got 70000)'],
    ['port as string', 'HTTPRoute', { 'spec.rules[0].backendRefs[0].port': '8080' }, 'spec.rules[0].backendRefs[0].port', 'must be an integer (got "8080")'],
    ['weight below 0', 'HTTPRoute', { 'spec.rules[0].backendRefs[1].weight': -1 }, 'spec.rules[0].backendRefs[1].weight', 'must be >= 0 (got -1)'],
    ['hostnames not a list', 'HTTPRoute', { 'spec.hostnames': 'www.shop.example' }, 'spec.hostnames', 'must be a list (got "www.shop.example")'],
    ['bad hostname', 'HTTPRoute', { 'spec.hostnames[0]': 'Bad_Host' }, 'spec.hostnames[0]', 'must match pattern ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ (got "Bad_Host")'],
    ['method enum', 'HTTPRoute', { 'spec.rules[0].matches[0].method': 'FETCH' }, 'spec.rules[0].matches[0].method', 'must be one of: GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH (got "FETCH")'],
    ['too many hostnames', 'HTTPRoute', { 'spec.hostnames': Array.from({ length: 17 }, (_, i) => `h${i}.example`) }, 'spec.hostnames', 'must have at most 16 items (got 17)'],
    ['duplicate header modifier name', 'HTTPRoute', { 'spec.rules[0].filters[0].requestHeaderModifier.set': [{ name: 'x-env', value: 'a' }, { name: 'x-env', value: 'b' }] }, 'spec.rules[0].filters[0].requestHeaderModifier.set[1]', 'duplicate entry: an entry with name "x-env" is already at index 0'],
    ['duplicate header match name', 'HTTPRoute', { 'spec.rules[0].matches[0].headers': [{ name: 'a', value: '1' }, { name: 'a', value: '2' }] }, 'spec.rules[0].matches[0].headers[1]', 'duplicate entry: an entry with name "a" is already at index 0'],
    ['missing listeners', 'Gateway', { 'spec.listeners': undefined }, 'spec', 'required field "listeners" is missing'],
    ['listener port 0', 'Gateway', { 'spec.listeners[0].port': 0 }, 'spec.listeners[0].port', 'must be >= 1 (got 0)'],
    ['duplicate listener name', 'Gateway', { 'spec.listeners[1].name': 'http' }, 'spec.listeners[1]', 'duplicate entry: an entry with name "http" is already at index 0'],
    ['allowedRoutes from', 'Gateway', { 'spec.listeners[0].allowedRoutes.namespaces.from': 'Anywhere' }, 'spec.listeners[0].allowedRoutes.namespaces.from', 'must be one of: All, Selector, Same (got "Anywhere")'],
    ['bad IP address', 'Gateway', { 'spec.addresses': [{ type: 'IPAddress', value: '300.1.1.1' }] }, 'spec.addresses[0].value', 'must be a valid IPv4 address or IPv6 address (got "300.1.1.1")'],
    ['listener tls as string', 'Gateway', { 'spec.listeners[1].tls': 'yes' }, 'spec.listeners[1].tls', 'must be an object (got "yes")'],
    ['missing controllerName', 'GatewayClass', { 'spec.controllerName': undefined }, 'spec', 'required field "controllerName" is missing'],
    ['controllerName without a domain', 'GatewayClass', { 'spec.controllerName': 'edgion' }, 'spec.controllerName', 'must match pattern'],
    ['GRPC method type', 'GRPCRoute', { 'spec.rules[0].matches[0].method.type': 'Regex' }, 'spec.rules[0].matches[0].method.type', 'must be one of: Exact, RegularExpression (got "Regex")'],
    ['TLSRoute v1alpha3 needs hostnames', 'TLSRoute', { apiVersion: 'gateway.networking.k8s.io/v1alpha3', 'spec.hostnames': undefined }, 'spec', 'required field "hostnames" is missing'],
    ['ReferenceGrant without from', 'ReferenceGrant', { 'spec.from': undefined }, 'spec', 'required field "from" is missing'],
    ['BackendTLSPolicy without hostname', 'BackendTLSPolicy', { 'spec.validation.hostname': undefined }, 'spec.validation', 'required field "hostname" is missing'],
    ['UDPRoute backend port range', 'UDPRoute', { 'spec.rules[0].backendRefs[0].port': 65536 }, 'spec.rules[0].backendRefs[0].port', 'must be <= 65535 (got 65536)'],
    ['Service without port', 'Service', { 'spec.ports[0].port': undefined }, 'spec.ports[0]', 'required field "port" is missing'],
    ['Service targetPort range', 'Service', { 'spec.ports[0].targetPort': 70000 }, 'spec.ports[0].targetPort', 'must be <= 65535 (got 70000)'],
    ['Service targetPort type', 'Service', { 'spec.ports[0].targetPort': true }, 'spec.ports[0].targetPort', 'must be an integer or a string (got true)'],
    ['Service type', 'Service', { 'spec.type': 'Internal' }, 'spec.type', 'must be one of: ClusterIP, NodePort, LoadBalancer, ExternalName (got "Internal")'],
    ['Service name', 'Service', { 'metadata.name': '1svc' }, 'metadata.name', 'DNS-1035 label'],
    ['EndpointSlice addressType', 'EndpointSlice', { addressType: undefined }, undefined, 'required field "addressType" is missing'],
    ['EndpointSlice addresses', 'EndpointSlice', { 'endpoints[0].addresses': undefined }, 'endpoints[0]', 'required field "addresses" is missing'],
    ['EndpointSlice ready flag', 'EndpointSlice', { 'endpoints[0].conditions.ready': 'yes' }, 'endpoints[0].conditions.ready', 'must be a boolean (got "yes")'],
    ['Endpoints ip', 'Endpoints', { 'subsets[0].addresses[0].ip': undefined }, 'subsets[0].addresses[0]', 'required field "ip" is missing'],
    ['Secret data not base64', 'Secret', { 'data.password': 'not base64!' }, 'data.password', 'must be base64-encoded (put plain text under stringData instead) (got "not base64!")'],
    ['ConfigMap value', 'ConfigMap', { 'data.mode': 3 }, 'data.mode', 'must be a string (got 3)'],
    ['Namespace name', 'Namespace', { 'metadata.name': 'Shop' }, 'metadata.name', 'must be a lower-case DNS label'],
    ['plugin type', 'EdgionPlugins', { 'spec.requestPlugins[0].type': 'KeyAuthh' }, 'spec.requestPlugins[0].type', 'must be one of: BasicAuth, Cors, Csrf, CtxSet, ForwardAuth'],
    ['plugin condition ratio', 'EdgionPlugins', { 'spec.requestPlugins[2].conditions.run[0].ratio': 2 }, 'spec.requestPlugins[2].conditions.run[0].ratio', 'must be <= 1 (got 2)'],
    ['stream plugin type', 'EdgionStreamPlugins', { 'spec.plugins[0].type': 'RateLimit' }, 'spec.plugins[0].type', 'must be one of: IpRestriction (got "RateLimit")'],
    ['EdgionTls verifyDepth', 'EdgionTls', { 'spec.clientAuth.verifyDepth': 10 }, 'spec.clientAuth.verifyDepth', 'must be <= 9 (got 10)'],
    ['EdgionTls hosts', 'EdgionTls', { 'spec.hosts': [] }, 'spec.hosts', 'must not be empty'],
    ['EdgionTls secretRef', 'EdgionTls', { 'spec.secretRef': undefined }, 'spec', 'required field "secretRef" is missing'],
    ['EdgionGatewayConfig status code', 'EdgionGatewayConfig', { 'spec.preflightPolicy.statusCode': 700 }, 'spec.preflightPolicy.statusCode', 'must be <= 599 (got 700)'],
    ['EdgionAcme email', 'EdgionAcme', { 'spec.email': undefined }, 'spec', 'required field "email" is missing'],
    ['EdgionAcme challenge type', 'EdgionAcme', { 'spec.challenge.type': 'tls-alpn-01' }, 'spec.challenge.type', 'must be one of: http-01, dns-01 (got "tls-alpn-01")'],
    ['PluginMetaData key', 'PluginMetaData', { 'spec.regexList.items[0].key': undefined }, 'spec.regexList.items[0]', 'required field "key" is missing'],
    ['LinkSys type', 'LinkSys', { 'spec.type': 'mysql' }, 'spec.type', 'must be one of: redis, etcd, elasticsearch, kafka, webhook (got "mysql")'],
    ['metadata without name', 'HTTPRoute', { 'metadata.name': undefined }, 'metadata', 'required field "name" is missing'],
    ['metadata name format', 'HTTPRoute', { 'metadata.name': 'Shop_Route' }, 'metadata.name', 'must be a lower-case DNS subdomain name'],
    ['metadata namespace format', 'HTTPRoute', { 'metadata.namespace': 'my.ns' }, 'metadata.namespace', 'must be a lower-case DNS label'],
    ['label value type', 'Namespace', { 'metadata.labels.team': 1 }, 'metadata.labels.team', 'must be a string (got 1)'],
    ['metadata without spec', 'HTTPRoute', { spec: undefined }, undefined, 'required field "spec" is missing'],
  ];

  for (const [title, kind, changes, path, message] of cases) {
    it(`${kind}: ${title}`, () => {
      const errors = errorsOf(variant(kind, changes));
      assert.equal(errors.length, 1, `expected exactly one error, got ${JSON.stringify(errors.map((e) => `${e.path}: ${e.message}`))}`);
      assert.equal(errors[0]!.path, path);
      if (message.includes('(got') || message.startsWith('required') || message.startsWith('duplicate')) assert.equal(errors[0]!.message, message);
      else assert.ok(errors[0]!.message.includes(message), errors[0]!.message);
      assert.equal(errors[0]!.code, 'EDG_SCHEMA');
    });
  }

  it('reports every problem of a resource, in document order', () => {
    const doc = variant('HTTPRoute', {
      'spec.rules[0].matches[0].path.type': 'Prefix',
      'spec.rules[0].backendRefs[0].port': 70000,
      'spec.rules[0].backendRefs[1].name': undefined,
    });
    assert.deepEqual(
      errorsOf(doc).map((d) => `${d.path}: ${d.message}`),
      [
        'spec.rules[0].matches[0].path.type: must be one of: Exact, PathPrefix, RegularExpression (got "Prefix")',
        'spec.rules[0].backendRefs[0].port: must be <= 65535 (got 70000)',
        'spec.rules[0].backendRefs[1]: required field "name" is missing',
      ],
    );
  });

  it('explains each failing item of a oneOf list on its own', () => {
    const addresses = Array.from({ length: 11 }, (_, i) => ({ value: `10.0.0.${i}` }));
    addresses[1] = { value: 'bad-1' };
    addresses[10] = { value: 'bad-10' };
    assert.deepEqual(
      errorsOf(variant('Gateway', { 'spec.addresses': addresses })).map((d) => `${d.path}: ${d.message}`),
      ['spec.addresses[1].value: must be a valid IPv4 address or IPv6 address (got "bad-1")', 'spec.addresses[10].value: must be a valid IPv4 address or IPv6 address (got "bad-10")'],
    );
  });

  it('quotes map keys that are not plain words in paths', () => {
    const errors = errorsOf(variant('Secret', { data: { 'tls.crt': '%%%' } }));
    assert.equal(errors[0]?.path, 'data["tls.crt"]');
  });

  it('rejects invalid label and annotation keys once each', () => {
    const errors = errorsOf(variant('Namespace', { 'metadata.labels': { 'bad key': 'x' } }));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.path, 'metadata.labels');
    assert.match(errors[0]!.message, /^invalid key "bad key": must be a name of at most 63 characters/);
  });
});

describe('validateSchema: kind and apiVersion', () => {
  const one = (resource: unknown) => {
    const r = validator.validateSchema(resource);
    assert.equal(r.ok, false);
    return r.diagnostics.filter((d) => d.severity === 'error');
  };

  it('rejects a document that is not a mapping', () => {
    const [d] = one(['a']);
    assert.equal(d!.code, 'EDG_NOT_A_RESOURCE');
    assert.equal(d!.message, 'a resource must be a mapping with apiVersion, kind and metadata (got a list)');
    assert.equal(one(null)[0]!.message, 'a resource must be a mapping with apiVersion, kind and metadata (got null)');
  });

  it('rejects a missing kind', () => {
    const [d] = one({ apiVersion: 'v1', metadata: { name: 'x' } });
    assert.equal(d!.code, 'EDG_UNKNOWN_KIND');
    assert.equal(d!.message, 'required field "kind" is missing');
  });

  it('rejects an unknown kind and lists the known ones', () => {
    const [d] = one({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x' } });
    assert.equal(d!.code, 'EDG_UNKNOWN_KIND');
    assert.equal(d!.path, 'kind');
    assert.match(d!.message, /^unknown kind "Ingress" \(known kinds: GatewayClass, Gateway, HTTPRoute, .*LinkSys\)$/);
  });

  it('suggests the right spelling of a kind written in another case', () => {
    const [d] = one({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'httproute', metadata: { name: 'x' } });
    assert.equal(d!.message, 'unknown kind "httproute" (did you mean HTTPRoute?)');
  });

  it('rejects a missing apiVersion', () => {
    const [d, ...rest] = one(variant('HTTPRoute', { apiVersion: undefined }));
    assert.equal(d!.code, 'EDG_API_VERSION');
    assert.equal(d!.message, 'required field "apiVersion" is missing (HTTPRoute uses gateway.networking.k8s.io/v1)');
    assert.deepEqual(rest, []);
  });

  it('rejects the wrong group, naming the accepted versions', () => {
    const [d] = one(variant('HTTPRoute', { apiVersion: 'edgion.io/v1' }));
    assert.equal(d!.path, 'apiVersion');
    assert.equal(d!.message, 'apiVersion "edgion.io/v1" is not accepted: HTTPRoute belongs to group gateway.networking.k8s.io (accepted: gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1beta1)');
    assert.equal(one(variant('Service', { apiVersion: 'apps/v1' }))[0]!.message, 'apiVersion "apps/v1" is not accepted: Service belongs to the core group (accepted: v1)');
  });

  it('rejects a version that is not served', () => {
    const [d] = one(variant('GRPCRoute', { apiVersion: 'gateway.networking.k8s.io/v1alpha2' }));
    assert.equal(d!.message, 'apiVersion "gateway.networking.k8s.io/v1alpha2" is not accepted: version v1alpha2 is not served for GRPCRoute (accepted: gateway.networking.k8s.io/v1)');
  });

  it('still reports schema errors when the apiVersion is wrong', () => {
    const errors = one(variant('HTTPRoute', { apiVersion: 'gateway.networking.k8s.io/v2', 'spec.rules[0].backendRefs[0].port': -5 }));
    assert.deepEqual(errors.map((e) => e.code), ['EDG_API_VERSION', 'EDG_SCHEMA']);
  });

  it('ignores metadata.namespace on cluster-scoped kinds with a warning', () => {
    const r = validator.validateSchema(variant('GatewayClass', { 'metadata.namespace': 'infra' }));
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.path, d.message]),
      [['warning', 'EDG_CLUSTER_SCOPED', 'metadata.namespace', 'ignored: GatewayClass is cluster-scoped']],
    );
    assert.equal(get(r.value, 'metadata.namespace'), undefined);
  });
});

describe('SchemaValidator options', () => {
  it('unknown fields are ignored by default', () => {
    const r = validator.validateSchema(variant('HTTPRoute', { 'spec.rules[0].backendRef': [{ name: 'x' }] }));
    assert.deepEqual(r.diagnostics, []);
  });

  it("unknownFields: 'warn' reports CRD fields the schema does not list, as warnings", () => {
    const v = new SchemaValidator({ unknownFields: 'warn' });
    const r = v.validateSchema(variant('HTTPRoute', { 'spec.rules[0].backendRef': [{ name: 'x' }], 'metadata.finalizers': ['a'] }));
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.path, d.message]),
      [['warning', 'EDG_UNKNOWN_FIELD', 'spec.rules[0].backendRef', 'unknown field "backendRef"']],
    );
    // Core kinds list only the fields the project reads: never warn about the rest.
    assert.deepEqual(v.validateSchema(variant('Service', { 'spec.sessionAffinity': 'None' })).diagnostics, []);
    // preserve-unknown-fields objects (plugin configs) take anything.
    assert.deepEqual(v.validateSchema(fixture('EdgionPlugins')).diagnostics, []);
  });

  it('status is not validated unless asked', () => {
    const doc = variant('HTTPRoute', { status: { parents: 'nope' } });
    assert.deepEqual(validator.validateSchema(doc).diagnostics, []);
    const strict = new SchemaValidator({ validateStatus: true });
    const errors = strict.validateSchema(doc).diagnostics;
    assert.deepEqual(errors.map((d) => `${d.path}: ${d.message}`), ['status.parents: must be a list (got "nope")']);
  });

  it('a schema that cannot be read is reported, not thrown', () => {
    const v = new SchemaValidator({
      readSchema: () => {
        throw new Error('gone');
      },
    });
    const r = v.validateSchema(fixture('Service'));
    assert.equal(r.ok, false);
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.message]), [['EDG_INTERNAL', 'cannot load the schema of Service: gone']]);
  });
});
