import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CEL_RULES, SchemaValidator, checkCelRules, parseGoDuration, validateResource } from '../../../src/api/index.js';
import { SCHEMA_FILES } from '../../../src/api/generated/schema-files.js';
import { readSchemaFile } from '../../../src/api/schema-store.js';
import type { SchemaNode } from '../../../src/api/openapi.js';
import { fixture, variant, type Json } from './fixtures.js';

const GATEWAY_API_KINDS = ['GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'TCPRoute', 'UDPRoute', 'TLSRoute', 'ReferenceGrant', 'BackendTLSPolicy'];

/** Every x-kubernetes-validations rule of a schema, as `kind | path | message`, path in CEL_RULES notation. */
function rulesInSchema(kind: string, schema: SchemaNode): string[] {
  const out: string[] = [];
  const walk = (node: SchemaNode | undefined, path: string, inComposite: boolean) => {
    if (!node || typeof node !== 'object') return;
    for (const v of (node['x-kubernetes-validations'] as Array<{ message: string }> | undefined) ?? []) {
      assert.ok(!inComposite, `${kind} ${path}: a rule inside anyOf/oneOf cannot be located by the port`);
      out.push(`${kind} | ${path} | ${v.message}`);
    }
    for (const [name, sub] of Object.entries(node.properties ?? {})) walk(sub, path ? `${path}.${name}` : name, inComposite);
    if (node.items) walk(node.items, `${path}[]`, inComposite);
    if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}{}`, inComposite);
    for (const k of ['anyOf', 'oneOf', 'allOf']) for (const sub of (node[k] as SchemaNode[] | undefined) ?? []) walk(sub, path, true);
    if (node.not) walk(node.not as SchemaNode, path, true);
  };
  walk(schema, '', false);
  return out;
}

describe('CEL rules: coverage of the CRDs', () => {
  const implemented = CEL_RULES.map((r) => `${r.kind} | ${r.path} | ${r.message}`);

  it('the table has no duplicate entries', () => {
    assert.equal(new Set(implemented).size, implemented.length);
  });

  it('every rule in the Gateway API schemas has an implementation, and every implementation a rule', () => {
    const inSchemas = new Set<string>();
    for (const kind of GATEWAY_API_KINDS) {
      const entry = SCHEMA_FILES[kind]!;
      for (const file of [entry.file, ...Object.values(entry.versions)]) for (const r of rulesInSchema(kind, readSchemaFile(file))) inSchemas.add(r);
    }
    const missing = [...inSchemas].filter((r) => !implemented.includes(r));
    const extra = implemented.filter((r) => !inSchemas.has(r));
    assert.deepEqual(missing, [], 'rules without an implementation');
    assert.deepEqual(extra, [], 'implementations of rules that are not in the CRDs');
    assert.equal(inSchemas.size, 172);
  });

  it('edgion.io and core schemas carry no CEL rules', () => {
    for (const kind of Object.keys(SCHEMA_FILES).filter((k) => !GATEWAY_API_KINDS.includes(k))) {
      assert.deepEqual(rulesInSchema(kind, readSchemaFile(SCHEMA_FILES[kind]!.file)), [], kind);
    }
  });
});

const validator = new SchemaValidator();

/** The CEL diagnostics of a fixture with changes, as `path: message`; fails if the schema pass fails. */
function celOf(kind: string, changes: Record<string, unknown>, options: { oldValue?: unknown } = {}): string[] {
  const doc = variant(kind, changes);
  const schema = validator.validateSchema(doc);
  assert.equal(schema.ok, true, `schema errors: ${JSON.stringify(schema.diagnostics)}`);
  const r = validateResource(validator, doc, options);
  for (const d of r.diagnostics) assert.equal(d.code, 'EDG_CEL');
  assert.equal(r.ok, r.diagnostics.length === 0);
  return r.diagnostics.map((d) => `${d.path}: ${d.message}`);
}

const redirect = (extra: Json = {}) => ({ type: 'RequestRedirect', requestRedirect: { scheme: 'https', ...extra } });
const rewritePrefix = { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } };
const setHeader = (name: string) => ({ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name, value: 'v' }] } });

type Case = [title: string, kind: string, changes: Record<string, unknown>, expected: string[]];

const CASES: Case[] = [
  // Gateway listeners
  ['hostname on a TCP listener', 'Gateway', { 'spec.listeners[3].hostname': 'redis.example' }, ["spec.listeners: hostname must not be specified for protocols ['TCP', 'UDP']"]],
  ['tls on an HTTP listener', 'Gateway', { 'spec.listeners[0].tls': { certificateRefs: [{ name: 'c' }] } }, ["spec.listeners: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"]],
  ['HTTPS listener with Passthrough', 'Gateway', { 'spec.listeners[1].tls.mode': 'Passthrough' }, ['spec.listeners: tls mode must be Terminate for protocol HTTPS']],
  ['Terminate without certificateRefs or options', 'Gateway', { 'spec.listeners[1].tls.certificateRefs': undefined }, ['spec.listeners[1].tls: certificateRefs or options must be specified when mode is Terminate']],
  ['empty tls on HTTPS (mode defaults to Terminate)', 'Gateway', { 'spec.listeners[1].tls': {} }, ['spec.listeners[1].tls: certificateRefs or options must be specified when mode is Terminate']],
  ['empty certificateRefs list', 'Gateway', { 'spec.listeners[1].tls.certificateRefs': [] }, ['spec.listeners[1].tls: certificateRefs or options must be specified when mode is Terminate']],
  // v1.4 has no CEL rule requiring tls on HTTPS/TLS listeners: the controller reports it per listener.
  ['HTTPS listener without tls (no CRD rule in v1.4)', 'Gateway', { 'spec.listeners[1].tls': undefined }, []],
  ['same port, protocol and hostname twice', 'Gateway', { 'spec.listeners[2].port': 443, 'spec.listeners[2].hostname': '*.shop.example' }, ['spec.listeners: Combination of port, protocol and hostname must be unique for each listener']],
  ['same port and protocol, different hostnames', 'Gateway', { 'spec.listeners[2].port': 443, 'spec.listeners[2].hostname': 'admin.example' }, []],
  ['duplicate IP addresses', 'Gateway', { 'spec.addresses': [{ value: '10.0.0.1' }, { value: '10.0.0.1' }] }, ['spec.addresses: IPAddress values must be unique']],
  ['bad Hostname address', 'Gateway', { 'spec.addresses': [{ type: 'Hostname', value: 'Bad_Host' }] }, ['spec.addresses[0]: Hostname value must be empty or contain only valid characters (matching ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)']],
  ['bad infrastructure label key', 'Gateway', { 'spec.infrastructure.labels': { 'bad key!': 'x' } }, ['spec.infrastructure.labels: Label keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters.']],

  // HTTPRoute path matches
  ['path value without a leading /', 'HTTPRoute', { 'spec.rules[0].matches[0].path.value': 'api' }, ["spec.rules[0].matches[0].path: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"]],
  ['path with //', 'HTTPRoute', { 'spec.rules[0].matches[0].path.value': '/a//b' }, ["spec.rules[0].matches[0].path: must not contain '//' when type one of ['Exact', 'PathPrefix']"]],
  ['path with /../', 'HTTPRoute', { 'spec.rules[0].matches[0].path.value': '/a/../b' }, ["spec.rules[0].matches[0].path: must not contain '/../' when type one of ['Exact', 'PathPrefix']"]],
  ['path ending in /.', 'HTTPRoute', { 'spec.rules[0].matches[0].path': { type: 'Exact', value: '/a/.' } }, ["spec.rules[0].matches[0].path: must not end with '/.' when type one of ['Exact', 'PathPrefix']"]],
  ['path with %2F', 'HTTPRoute', { 'spec.rules[0].matches[0].path.value': '/a%2Fb' }, ["spec.rules[0].matches[0].path: must not contain '%2F' when type one of ['Exact', 'PathPrefix']"]],
  [
    'path with #',
    'HTTPRoute',
    { 'spec.rules[0].matches[0].path.value': '/a#b' },
    [
      "spec.rules[0].matches[0].path: must not contain '#' when type one of ['Exact', 'PathPrefix']",
      "spec.rules[0].matches[0].path: must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']",
    ],
  ],
  ['a path parameter is a valid path', 'HTTPRoute', { 'spec.rules[0].matches[0].path.value': '/users/:id' }, []],
  ['RegularExpression paths are exempt', 'HTTPRoute', { 'spec.rules[0].matches[0].path': { type: 'RegularExpression', value: '^/v[0-9]+//x#' } }, []],

  // HTTPRoute filters
  ['ReplacePrefixMatch rewrite with an Exact match', 'HTTPRoute', { 'spec.rules[0].matches[0].path.type': 'Exact', 'spec.rules[0].filters': [rewritePrefix] }, ['spec.rules[0]: When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified']],
  ['ReplacePrefixMatch rewrite with two matches', 'HTTPRoute', { 'spec.rules[0].matches[1]': { path: { value: '/b' } }, 'spec.rules[0].filters': [rewritePrefix] }, ['spec.rules[0]: When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified']],
  ['ReplacePrefixMatch rewrite with one PathPrefix match', 'HTTPRoute', { 'spec.rules[0].filters': [rewritePrefix] }, []],
  ['ReplacePrefixMatch rewrite on a backendRef with an Exact match', 'HTTPRoute', { 'spec.rules[0].matches[0].path.type': 'Exact', 'spec.rules[0].filters': undefined, 'spec.rules[0].backendRefs[0].filters': [rewritePrefix] }, ['spec.rules[0]: Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified']],
  ['ReplacePrefixMatch redirect with an Exact match', 'HTTPRoute', { 'spec.rules[0].matches[0].path.type': 'Exact', 'spec.rules[0].backendRefs': undefined, 'spec.rules[0].filters': [redirect({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } })] }, ['spec.rules[0]: When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified']],
  ['RequestRedirect together with backendRefs', 'HTTPRoute', { 'spec.rules[0].filters': [redirect()] }, ['spec.rules[0]: RequestRedirect filter must not be used together with backendRefs']],
  ['RequestRedirect without backendRefs', 'HTTPRoute', { 'spec.rules[0].filters': [redirect()], 'spec.rules[0].backendRefs': undefined }, []],
  ['RequestRedirect and URLRewrite together', 'HTTPRoute', { 'spec.rules[0].filters': [redirect(), { type: 'URLRewrite', urlRewrite: { hostname: 'a.example' } }], 'spec.rules[0].backendRefs': undefined }, ['spec.rules[0].filters: May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both']],
  ['RequestHeaderModifier twice', 'HTTPRoute', { 'spec.rules[0].filters': [setHeader('a'), setHeader('b')] }, ['spec.rules[0].filters: RequestHeaderModifier filter cannot be repeated']],
  ['RequestHeaderModifier twice on a backendRef', 'HTTPRoute', { 'spec.rules[0].backendRefs[0].filters': [setHeader('a'), setHeader('b')] }, ['spec.rules[0].backendRefs[0].filters: RequestHeaderModifier filter cannot be repeated']],
  [
    'filter type and field disagree',
    'HTTPRoute',
    { 'spec.rules[0].filters': [{ type: 'RequestHeaderModifier', urlRewrite: { hostname: 'a.example' } }] },
    ['spec.rules[0].filters[0]: filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type', 'spec.rules[0].filters[0]: filter.urlRewrite must be nil if the filter.type is not URLRewrite'],
  ],
  [
    'redirect path type and field disagree',
    'HTTPRoute',
    { 'spec.rules[0].filters': [redirect({ path: { type: 'ReplaceFullPath', replacePrefixMatch: '/x' } })], 'spec.rules[0].backendRefs': undefined },
    [
      "spec.rules[0].filters[0].requestRedirect.path: replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
      "spec.rules[0].filters[0].requestRedirect.path: type must be 'ReplacePrefixMatch' when replacePrefixMatch is set",
    ],
  ],
  ['mirror with percent and fraction', 'HTTPRoute', { 'spec.rules[0].filters': [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 80 }, percent: 10, fraction: { numerator: 1 } } }] }, ['spec.rules[0].filters[0].requestMirror: Only one of percent or fraction may be specified in HTTPRequestMirrorFilter']],
  ['mirror fraction above 1', 'HTTPRoute', { 'spec.rules[0].filters': [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 80 }, fraction: { numerator: 200 } } }] }, ['spec.rules[0].filters[0].requestMirror.fraction: numerator must be less than or equal to denominator']],
  ['mirror to a Service without port', 'HTTPRoute', { 'spec.rules[0].filters': [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'm' } } }] }, ['spec.rules[0].filters[0].requestMirror.backendRef: Must have port for Service reference']],
  ['CORS origins with * and more', 'HTTPRoute', { 'spec.rules[0].filters': [{ type: 'CORS', cors: { allowOrigins: ['*', 'https://a.example'] } }] }, ["spec.rules[0].filters[0].cors.allowOrigins: AllowOrigins cannot contain '*' alongside other origins"]],
  ['ExternalAuth HTTP without http', 'HTTPRoute', { 'spec.rules[0].filters': [{ type: 'ExternalAuth', externalAuth: { protocol: 'HTTP', backendRef: { name: 'auth', port: 9000 } } }] }, ["spec.rules[0].filters[0].externalAuth: http must be specified when protocol is set to 'HTTP'"]],

  // HTTPRoute backends, parents, rules
  ['Service backendRef without port', 'HTTPRoute', { 'spec.rules[0].backendRefs[0].port': undefined }, ['spec.rules[0].backendRefs[0]: Must have port for Service reference']],
  ['other backend kinds may omit the port', 'HTTPRoute', { 'spec.rules[0].backendRefs[0].port': undefined, 'spec.rules[0].backendRefs[0].group': 'example.com', 'spec.rules[0].backendRefs[0].kind': 'Bucket' }, []],
  ['backendRequest longer than request', 'HTTPRoute', { 'spec.rules[0].timeouts': { request: '10s', backendRequest: '30s' } }, ['spec.rules[0].timeouts: backendRequest timeout cannot be longer than request timeout']],
  ['backendRequest 61m against request 1h', 'HTTPRoute', { 'spec.rules[0].timeouts': { request: '1h', backendRequest: '61m' } }, ['spec.rules[0].timeouts: backendRequest timeout cannot be longer than request timeout']],
  ['request 0s disables the limit', 'HTTPRoute', { 'spec.rules[0].timeouts': { request: '0s', backendRequest: '30s' } }, []],
  ['equal timeouts', 'HTTPRoute', { 'spec.rules[0].timeouts': { request: '1m', backendRequest: '60s' } }, []],
  ['the same parent twice', 'HTTPRoute', { 'spec.parentRefs': [{ name: 'public', namespace: 'infra' }, { name: 'public', namespace: 'infra' }] }, ['spec.parentRefs: sectionName or port must be unique when parentRefs includes 2 or more references to the same parent']],
  ['the same parent with and without sectionName', 'HTTPRoute', { 'spec.parentRefs[1]': { name: 'public', namespace: 'infra' } }, ['spec.parentRefs: sectionName or port must be specified when parentRefs includes 2 or more references to the same parent']],
  ['the same parent, two listeners', 'HTTPRoute', { 'spec.parentRefs[1]': { name: 'public', namespace: 'infra', sectionName: 'http' } }, []],
  ['duplicate rule names', 'HTTPRoute', { 'spec.rules[0].name': 'a', 'spec.rules[1]': { name: 'a', backendRefs: [{ name: 's', port: 80 }] } }, ['spec.rules: Rule name must be unique within the route']],
  ['more than 128 matches in all', 'HTTPRoute', { 'spec.rules': [0, 1, 2].map((r) => ({ matches: Array.from({ length: 43 }, (_, i) => ({ path: { value: `/r${r}/m${i}` } })) })) }, ['spec.rules: While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128']],
  ['Permanent cookie without absoluteTimeout', 'HTTPRoute', { 'spec.rules[0].sessionPersistence': { cookieConfig: { lifetimeType: 'Permanent' } } }, ['spec.rules[0].sessionPersistence: AbsoluteTimeout must be specified when cookie lifetimeType is Permanent']],
  ['Permanent cookie with absoluteTimeout', 'HTTPRoute', { 'spec.rules[0].sessionPersistence': { absoluteTimeout: '1h', cookieConfig: { lifetimeType: 'Permanent' } } }, []],

  // GRPCRoute
  ['method match with neither service nor method', 'GRPCRoute', { 'spec.rules[0].matches[0].method': {} }, ["spec.rules[0].matches[0].method: One or both of 'service' or 'method' must be specified"]],
  ['bad gRPC service name', 'GRPCRoute', { 'spec.rules[0].matches[0].method.service': 'hello world' }, ['spec.rules[0].matches[0].method: service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)']],
  ['upper-case service names are fine ((?i) in the CRD)', 'GRPCRoute', { 'spec.rules[0].matches[0].method.service': 'Helloworld.GREETER' }, []],
  ['bad gRPC method name', 'GRPCRoute', { 'spec.rules[0].matches[0].method.method': 'Say-Hello' }, ['spec.rules[0].matches[0].method: method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)']],
  ['RegularExpression method matches are exempt', 'GRPCRoute', { 'spec.rules[0].matches[0].method': { type: 'RegularExpression', service: 'hello.*', method: 'Say.+' } }, []],
  ['gRPC backend without port', 'GRPCRoute', { 'spec.rules[0].backendRefs[0].port': undefined }, ['spec.rules[0].backendRefs[0]: Must have port for Service reference']],
  ['ResponseHeaderModifier twice in gRPC', 'GRPCRoute', { 'spec.rules[0].filters': [1, 2].map((i) => ({ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: `x-${i}`, value: 'v' }] } })) }, ['spec.rules[0].filters: ResponseHeaderModifier filter cannot be repeated']],

  // L4 routes
  ['TCP backend without port', 'TCPRoute', { 'spec.rules[0].backendRefs[0].port': undefined }, ['spec.rules[0].backendRefs[0]: Must have port for Service reference']],
  ['UDP route with the same parent twice', 'UDPRoute', { 'spec.parentRefs[1]': { name: 'public', sectionName: 'dns' } }, ['spec.parentRefs: sectionName or port must be unique when parentRefs includes 2 or more references to the same parent']],
  ['TLS route rules with the same name', 'TLSRoute', { 'spec.rules[0].name': 'r', 'spec.rules[1]': { name: 'r', backendRefs: [{ name: 'b', port: 1 }] } }, ['spec.rules: Rule name must be unique within the route']],

  // BackendTLSPolicy
  ['neither CA refs nor well-known CAs', 'BackendTLSPolicy', { 'spec.validation.caCertificateRefs': undefined }, ['spec.validation: must specify either CACertificateRefs or WellKnownCACertificates']],
  ['both CA refs and well-known CAs', 'BackendTLSPolicy', { 'spec.validation.wellKnownCACertificates': 'System' }, ['spec.validation: must not contain both CACertificateRefs and WellKnownCACertificates']],
  [
    'SAN of type URI with a hostname',
    'BackendTLSPolicy',
    { 'spec.validation.subjectAltNames': [{ type: 'URI', hostname: 'a.example' }] },
    ['spec.validation.subjectAltNames[0]: SubjectAltName element must not contain Hostname, if Type is not set to Hostname', 'spec.validation.subjectAltNames[0]: SubjectAltName element must contain URI, if Type is set to URI'],
  ],
  ['the same target twice', 'BackendTLSPolicy', { 'spec.targetRefs[1]': { group: '', kind: 'Service', name: 'payments' } }, ['spec.targetRefs: sectionName must be unique when targetRefs includes 2 or more references to the same target']],
];

describe('CEL rules: checks', () => {
  for (const [title, kind, changes, expected] of CASES) {
    it(`${kind}: ${title}`, () => assert.deepEqual(celOf(kind, changes), expected));
  }

  it('diagnostics carry the resource and location, and the CEL pass runs only after a clean schema pass', () => {
    const doc = variant('HTTPRoute', { 'spec.rules[0].matches[0].path.value': 'api' });
    const r = validateResource(validator, doc, { location: { file: 'a.yaml', line: 3 } });
    assert.deepEqual(r.diagnostics[0]!.resource, { kind: 'HTTPRoute', namespace: 'shop', name: 'shop' });
    assert.deepEqual(r.diagnostics[0]!.location, { file: 'a.yaml', line: 3 });
    const both = validateResource(validator, variant('HTTPRoute', { 'spec.rules[0].matches[0].path.value': 'api', 'spec.rules[0].backendRefs[0].port': 'x' }));
    assert.deepEqual(both.diagnostics.map((d) => d.code), ['EDG_SCHEMA']);
  });

  it('Gateway listener names must be unique (the schema catches it first; the rule is ported too)', () => {
    const gw = validator.validateSchema(fixture('Gateway')).value as Json;
    const listeners = (gw.spec as Json).listeners as Json[];
    listeners[1]!.name = 'http';
    assert.deepEqual(
      checkCelRules('Gateway', gw).map((d) => `${d.path}: ${d.message}`),
      ['spec.listeners: Listener name must be unique within the Gateway'],
    );
  });

  it('TLS frontend ports must be unique (the schema catches it first; the rule is ported too)', () => {
    const gw = validator.validateSchema(fixture('Gateway')).value as Json;
    const perPort = (port: number) => ({ port, tls: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }] } } });
    (gw.spec as Json).tls = { frontend: { perPort: [perPort(443), perPort(8443), perPort(443)] } };
    assert.deepEqual(checkCelRules('Gateway', gw).map((d) => `${d.path}: ${d.message}`), ['spec.tls.frontend.perPort: Port for TLS configuration must be unique within the Gateway']);
  });

  it('GatewayClass controllerName is immutable once the previous version is known', () => {
    const old = fixture('GatewayClass');
    assert.deepEqual(celOf('GatewayClass', { 'spec.controllerName': 'example.com/other' }), []);
    assert.deepEqual(celOf('GatewayClass', { 'spec.controllerName': 'example.com/other' }, { oldValue: old }), ['spec.controllerName: Value is immutable']);
    assert.deepEqual(celOf('GatewayClass', {}, { oldValue: old }), []);
  });

  it('status rules run only when status is validated', () => {
    const doc = validator.validateSchema(fixture('Gateway')).value as Json;
    doc.status = { addresses: [{ type: 'Hostname', value: 'Bad_Host' }] };
    assert.deepEqual(checkCelRules('Gateway', doc), []);
    assert.deepEqual(
      checkCelRules('Gateway', doc, { status: true }).map((d) => d.path),
      ['status.addresses[0]'],
    );
  });

  it('kinds without rules and unknown kinds give nothing', () => {
    assert.deepEqual(checkCelRules('ReferenceGrant', fixture('ReferenceGrant')), []);
    assert.deepEqual(checkCelRules('Nope', {}), []);
  });

  it('never throws on odd values', () => {
    for (const kind of ['Gateway', 'HTTPRoute', 'GRPCRoute', 'BackendTLSPolicy']) {
      for (const value of [null, 1, 'x', [], { spec: { rules: 'x', listeners: [null, 1] } }, { spec: { rules: [null, { filters: [null] }] } }]) {
        assert.doesNotThrow(() => checkCelRules(kind, value));
      }
    }
  });
});

describe('parseGoDuration (CEL duration())', () => {
  const cases: Array<[string, number | undefined]> = [
    ['0', 0],
    ['0s', 0],
    ['10s', 10e9],
    ['1h30m', 5400e9],
    ['500ms', 500e6],
    ['1.5s', 1.5e9],
    ['-2m', -120e9],
    ['', undefined],
    ['10', undefined],
    ['1d', undefined],
    ['s', undefined],
  ];
  for (const [text, ns] of cases) it(`${JSON.stringify(text)} → ${String(ns)}`, () => assert.equal(parseGoDuration(text), ns));
});
