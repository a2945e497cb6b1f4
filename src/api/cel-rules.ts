// The CEL rules (x-kubernetes-validations) of the Gateway API v1.4 experimental CRDs, ported by
// hand as TypeScript predicates (DECISIONS 16: ajv cannot run CEL). One table entry per rule:
// the schema path of the node the rule sits on, the CRD's own message, and the check. A unit
// test lists every rule of the CRD schemas and fails if one has no entry here.
//
// Semantics follow CEL as the API server runs it, on the value after defaulting (the output of
// SchemaValidator.validateSchema): a rule runs once per node present at its path; `has(x.f)` is
// "field f is set"; `exists_one` means exactly one. Quirks of the rules are kept on purpose
// (e.g. two ReplacePrefixMatch redirects make `exists_one` false, so that rule passes).

import type { Diagnostic } from '../shared/diagnostics.js';
import { DiagnosticCodes } from './codes.js';
import type { KindName } from './kinds.js';
import { isPlainObject } from './openapi.js';
import { joinPath } from './paths.js';

type Obj = Readonly<Record<string, unknown>>;

export interface CelContext {
  /** The previous value at the same path (transition rules, `oldSelf`), when known. */
  old?: unknown;
}

export interface CelRule {
  readonly kind: KindName;
  /** Schema path of the node holding the rule: `.` between fields, `[]` list items, `{}` map values. */
  readonly path: string;
  /** The CRD's message, verbatim. */
  readonly message: string;
  /** true when the node satisfies the rule. */
  readonly check: (self: unknown, ctx: CelContext) => boolean;
  /** Transition rule (uses oldSelf): runs only when the previous value is known. */
  readonly transition?: boolean;
}

// ----------------------------------------------------------------------------------------------
// CEL building blocks

const obj = (v: unknown): Obj => (isPlainObject(v) ? v : {});
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
/** CEL has(): the field is set. */
const has = (v: unknown, field: string): boolean => isPlainObject(v) && v[field] !== undefined && v[field] !== null;
/** CEL size() of a list, map or string; 0 for a missing field. */
const size = (v: unknown): number => (Array.isArray(v) || typeof v === 'string' ? v.length : isPlainObject(v) ? Object.keys(v).length : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const existsOne = <T>(items: readonly T[], pred: (x: T) => boolean): boolean => items.filter(pred).length === 1;
/** `!has(x.f) || x.f == ''` */
const unsetOrEmpty = (v: unknown, field: string): boolean => !has(v, field) || obj(v)[field] === '';
/** `!has(x.port) || x.port == 0` */
const unsetOrZero = (v: unknown, field: string): boolean => !has(v, field) || obj(v)[field] === 0;

const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
const GO_UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** CEL duration(): Go's time.ParseDuration, in nanoseconds; undefined when malformed. */
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    GO_DURATION_PART.lastIndex = pos;
    const m = GO_DURATION_PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * GO_UNIT_NS[m[2]!]!;
    pos = GO_DURATION_PART.lastIndex;
  }
  return sign * total;
}

// ----------------------------------------------------------------------------------------------
// Rules shared by several kinds and paths

const rule = (kind: KindName, path: string, message: string, check: (self: unknown) => boolean): CelRule => ({ kind, path, message, check });

/** `(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true` */
const servicePortRule = (kind: KindName, path: string): CelRule =>
  rule(kind, path, 'Must have port for Service reference', (ref) => (size(obj(ref).group) === 0 && obj(ref).kind === 'Service' ? has(ref, 'port') : true));

/** Same parent: group, kind, name and (both unset-or-empty, or both set and equal) namespace. */
function sameParent(p1: unknown, p2: unknown): boolean {
  const a = obj(p1);
  const b = obj(p2);
  return (
    a.group === b.group &&
    a.kind === b.kind &&
    a.name === b.name &&
    ((unsetOrEmpty(a, 'namespace') && unsetOrEmpty(b, 'namespace')) || (has(a, 'namespace') && has(b, 'namespace') && a.namespace === b.namespace))
  );
}

function parentRefRules(kind: KindName): CelRule[] {
  return [
    rule(kind, 'spec.parentRefs', 'sectionName or port must be specified when parentRefs includes 2 or more references to the same parent', (self) => {
      const refs = list(self);
      return refs.every((p1) =>
        refs.every((p2) =>
          sameParent(p1, p2) ? unsetOrEmpty(p1, 'sectionName') === unsetOrEmpty(p2, 'sectionName') && unsetOrZero(p1, 'port') === unsetOrZero(p2, 'port') : true,
        ),
      );
    }),
    rule(kind, 'spec.parentRefs', 'sectionName or port must be unique when parentRefs includes 2 or more references to the same parent', (self) => {
      const refs = list(self);
      return refs.every((p1) =>
        existsOne(refs, (p2) => {
          const a = obj(p1);
          const b = obj(p2);
          return (
            sameParent(a, b) &&
            ((unsetOrEmpty(a, 'sectionName') && unsetOrEmpty(b, 'sectionName')) || (has(a, 'sectionName') && has(b, 'sectionName') && a.sectionName === b.sectionName)) &&
            ((unsetOrZero(a, 'port') && unsetOrZero(b, 'port')) || (has(a, 'port') && has(b, 'port') && a.port === b.port))
          );
        }),
      );
    }),
  ];
}

/** `self.all(l1, !has(l1.name) || self.exists_one(l2, has(l2.name) && l1.name == l2.name))` */
const ruleNameUnique = (kind: KindName): CelRule =>
  rule(kind, 'spec.rules', 'Rule name must be unique within the route', (self) => {
    const rules = list(self);
    return rules.every((l1) => !has(l1, 'name') || existsOne(rules, (l2) => has(l2, 'name') && obj(l1).name === obj(l2).name));
  });

/** The type-union rules on a filter: `filter.<field>` is set exactly when `type` is `<type>`. */
function filterUnionRules(kind: KindName, path: string, members: ReadonlyArray<readonly [field: string, type: string]>): CelRule[] {
  return members.flatMap(([field, type]) => [
    rule(kind, path, `filter.${field} must be nil if the filter.type is not ${type}`, (f) => !(has(f, field) && obj(f).type !== type)),
    rule(kind, path, `filter.${field} must be specified for ${type} filter.type`, (f) => !(!has(f, field) && obj(f).type === type)),
  ]);
}

/** `self.filter(f, f.type == '<type>').size() <= 1` */
const filterNotRepeated = (kind: KindName, path: string, type: string): CelRule =>
  rule(kind, path, `${type} filter cannot be repeated`, (self) => list(self).filter((f) => obj(f).type === type).length <= 1);

/** The rules on a requestMirror filter, its backendRef and fraction. */
function requestMirrorRules(kind: KindName, filterPath: string): CelRule[] {
  return [
    rule(kind, `${filterPath}.requestMirror`, 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter', (m) => !(has(m, 'percent') && has(m, 'fraction'))),
    servicePortRule(kind, `${filterPath}.requestMirror.backendRef`),
    rule(kind, `${filterPath}.requestMirror.fraction`, 'numerator must be less than or equal to denominator', (f) => Number(obj(f).numerator) <= Number(obj(f).denominator)),
  ];
}

/** The path-modifier rules of RequestRedirect and URLRewrite: type and value go together. */
function pathModifierRules(kind: KindName, path: string): CelRule[] {
  return [
    rule(kind, path, "replaceFullPath must be specified when type is set to 'ReplaceFullPath'", (p) => (obj(p).type === 'ReplaceFullPath' ? has(p, 'replaceFullPath') : true)),
    rule(kind, path, "type must be 'ReplaceFullPath' when replaceFullPath is set", (p) => (has(p, 'replaceFullPath') ? obj(p).type === 'ReplaceFullPath' : true)),
    rule(kind, path, "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'", (p) => (obj(p).type === 'ReplacePrefixMatch' ? has(p, 'replacePrefixMatch') : true)),
    rule(kind, path, "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set", (p) => (has(p, 'replacePrefixMatch') ? obj(p).type === 'ReplacePrefixMatch' : true)),
  ];
}

const SESSION_PERSISTENCE_MESSAGE = 'AbsoluteTimeout must be specified when cookie lifetimeType is Permanent';
/** `!has(self.cookieConfig) || !has(self.cookieConfig.lifetimeType) || self.cookieConfig.lifetimeType != 'Permanent' || has(self.absoluteTimeout)` */
const sessionPersistenceRule = (kind: KindName): CelRule =>
  rule(kind, 'spec.rules[].sessionPersistence', SESSION_PERSISTENCE_MESSAGE, (s) => {
    const cookie = obj(s).cookieConfig;
    return !has(s, 'cookieConfig') || !has(cookie, 'lifetimeType') || obj(cookie).lifetimeType !== 'Permanent' || has(s, 'absoluteTimeout');
  });

/** Sum of `matches.size()` over the first 16 rules (the CEL unrolls exactly 16 terms). */
const totalMatches = (rules: readonly unknown[]): number => rules.slice(0, 16).reduce<number>((n, r) => n + size(obj(r).matches), 0);

const TOTAL_MATCHES_MESSAGE = 'While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128';

// ----------------------------------------------------------------------------------------------
// HTTPRoute

const HTTP_FILTER_MEMBERS = [
  ['requestHeaderModifier', 'RequestHeaderModifier'],
  ['responseHeaderModifier', 'ResponseHeaderModifier'],
  ['requestMirror', 'RequestMirror'],
  ['requestRedirect', 'RequestRedirect'],
  ['urlRewrite', 'URLRewrite'],
  ['extensionRef', 'ExtensionRef'],
  ['cors', 'CORS'],
  ['externalAuth', 'ExternalAuth'],
] as const;

/** Every rule on an HTTPRoute filter list (rule level or backendRef level). */
function httpFilterRules(filters: string): CelRule[] {
  const k: KindName = 'HTTPRoute';
  const f = `${filters}[]`;
  return [
    rule(k, filters, 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both', (self) => {
      const items = list(self);
      return !(items.some((x) => obj(x).type === 'RequestRedirect') && items.some((x) => obj(x).type === 'URLRewrite'));
    }),
    filterNotRepeated(k, filters, 'RequestHeaderModifier'),
    filterNotRepeated(k, filters, 'ResponseHeaderModifier'),
    filterNotRepeated(k, filters, 'RequestRedirect'),
    filterNotRepeated(k, filters, 'URLRewrite'),
    ...filterUnionRules(k, f, HTTP_FILTER_MEMBERS),
    rule(k, `${f}.cors.allowMethods`, "AllowMethods cannot contain '*' alongside other methods", (m) => !(list(m).includes('*') && size(m) > 1)),
    rule(k, `${f}.cors.allowOrigins`, "AllowOrigins cannot contain '*' alongside other origins", (o) => !(list(o).includes('*') && size(o) > 1)),
    rule(k, `${f}.externalAuth`, "grpc must be specified when protocol is set to 'GRPC'", (a) => (obj(a).protocol === 'GRPC' ? has(a, 'grpc') : true)),
    rule(k, `${f}.externalAuth`, "protocol must be 'GRPC' when grpc is set", (a) => (has(a, 'grpc') ? obj(a).protocol === 'GRPC' : true)),
    rule(k, `${f}.externalAuth`, "http must be specified when protocol is set to 'HTTP'", (a) => (obj(a).protocol === 'HTTP' ? has(a, 'http') : true)),
    rule(k, `${f}.externalAuth`, "protocol must be 'HTTP' when http is set", (a) => (has(a, 'http') ? obj(a).protocol === 'HTTP' : true)),
    servicePortRule(k, `${f}.externalAuth.backendRef`),
    ...requestMirrorRules(k, f),
    ...pathModifierRules(k, `${f}.requestRedirect.path`),
    ...pathModifierRules(k, `${f}.urlRewrite.path`),
  ];
}

/** `has(f.<filter>) && has(f.<filter>.path) && f.<filter>.path.type == 'ReplacePrefixMatch' && has(f.<filter>.path.replacePrefixMatch)` */
function replacesPrefix(filter: unknown, field: 'requestRedirect' | 'urlRewrite'): boolean {
  const mod = obj(filter)[field];
  const path = obj(mod).path;
  return has(filter, field) && has(mod, 'path') && obj(path).type === 'ReplacePrefixMatch' && has(path, 'replacePrefixMatch');
}

/** `(size(self.matches) != 1 || !has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : true` */
function hasSinglePathPrefixMatch(r: unknown): boolean {
  const matches = list(obj(r).matches);
  return !(size(obj(r).matches) !== 1 || !has(matches[0], 'path') || obj(obj(matches[0]).path).type !== 'PathPrefix');
}

function prefixMatchRules(): CelRule[] {
  const k: KindName = 'HTTPRoute';
  const direct = (field: 'requestRedirect' | 'urlRewrite') => (r: unknown) =>
    has(r, 'filters') && existsOne(list(obj(r).filters), (f) => replacesPrefix(f, field)) ? hasSinglePathPrefixMatch(r) : true;
  const viaBackends = (field: 'requestRedirect' | 'urlRewrite') => (r: unknown) =>
    has(r, 'backendRefs') && existsOne(list(obj(r).backendRefs), (b) => has(b, 'filters') && existsOne(list(obj(b).filters), (f) => replacesPrefix(f, field)))
      ? hasSinglePathPrefixMatch(r)
      : true;
  return [
    rule(k, 'spec.rules[]', 'When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified', direct('requestRedirect')),
    rule(k, 'spec.rules[]', 'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified', direct('urlRewrite')),
    rule(k, 'spec.rules[]', 'Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified', viaBackends('requestRedirect')),
    rule(k, 'spec.rules[]', 'Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified', viaBackends('urlRewrite')),
  ];
}

const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

/** The HTTPPathMatch rules: only for Exact and PathPrefix values. */
function httpPathMatchRules(): CelRule[] {
  const k: KindName = 'HTTPRoute';
  const p = 'spec.rules[].matches[].path';
  const literal = (m: unknown) => obj(m).type === 'Exact' || obj(m).type === 'PathPrefix';
  const when = (message: string, ok: (value: string) => boolean) => rule(k, p, message, (m) => (literal(m) ? ok(str(obj(m).value)) : true));
  return [
    when("value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']", (v) => v.startsWith('/')),
    when("must not contain '//' when type one of ['Exact', 'PathPrefix']", (v) => !v.includes('//')),
    when("must not contain '/./' when type one of ['Exact', 'PathPrefix']", (v) => !v.includes('/./')),
    when("must not contain '/../' when type one of ['Exact', 'PathPrefix']", (v) => !v.includes('/../')),
    when("must not contain '%2f' when type one of ['Exact', 'PathPrefix']", (v) => !v.includes('%2f')),
    when("must not contain '%2F' when type one of ['Exact', 'PathPrefix']", (v) => !v.includes('%2F')),
    when("must not contain '#' when type one of ['Exact', 'PathPrefix']", (v) => !v.includes('#')),
    when("must not end with '/..' when type one of ['Exact', 'PathPrefix']", (v) => !v.endsWith('/..')),
    when("must not end with '/.' when type one of ['Exact', 'PathPrefix']", (v) => !v.endsWith('/.')),
    rule(k, p, "type must be one of ['Exact', 'PathPrefix', 'RegularExpression']", (m) => literal(m) || obj(m).type === 'RegularExpression'),
    when("must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']", (v) => PATH_CHARS.test(v)),
  ];
}

const HTTP_ROUTE_RULES: CelRule[] = [
  ...parentRefRules('HTTPRoute'),
  rule('HTTPRoute', 'spec.rules', TOTAL_MATCHES_MESSAGE, (self) => totalMatches(list(self)) <= 128),
  ruleNameUnique('HTTPRoute'),
  rule('HTTPRoute', 'spec.rules[]', 'RequestRedirect filter must not be used together with backendRefs', (r) =>
    has(r, 'backendRefs') && size(obj(r).backendRefs) > 0 ? !has(r, 'filters') || list(obj(r).filters).every((f) => !has(f, 'requestRedirect')) : true,
  ),
  ...prefixMatchRules(),
  servicePortRule('HTTPRoute', 'spec.rules[].backendRefs[]'),
  ...httpFilterRules('spec.rules[].backendRefs[].filters'),
  ...httpFilterRules('spec.rules[].filters'),
  ...httpPathMatchRules(),
  sessionPersistenceRule('HTTPRoute'),
  rule('HTTPRoute', 'spec.rules[].timeouts', 'backendRequest timeout cannot be longer than request timeout', (t) => {
    if (!has(t, 'request') || !has(t, 'backendRequest')) return true;
    const request = parseGoDuration(str(obj(t).request));
    const backend = parseGoDuration(str(obj(t).backendRequest));
    if (request === undefined || backend === undefined) return false; // CEL: duration() error fails the rule
    return !(request !== 0 && backend > request);
  }),
];

// ----------------------------------------------------------------------------------------------
// GRPCRoute

const GRPC_FILTER_MEMBERS = [
  ['requestHeaderModifier', 'RequestHeaderModifier'],
  ['responseHeaderModifier', 'ResponseHeaderModifier'],
  ['requestMirror', 'RequestMirror'],
  ['extensionRef', 'ExtensionRef'],
] as const;

function grpcFilterRules(filters: string): CelRule[] {
  const k: KindName = 'GRPCRoute';
  return [
    filterNotRepeated(k, filters, 'RequestHeaderModifier'),
    filterNotRepeated(k, filters, 'ResponseHeaderModifier'),
    ...filterUnionRules(k, `${filters}[]`, GRPC_FILTER_MEMBERS),
    ...requestMirrorRules(k, `${filters}[]`),
  ];
}

const GRPC_SERVICE = /^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$/i; // the CRD writes (?i) inline
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

const GRPC_ROUTE_RULES: CelRule[] = [
  ...parentRefRules('GRPCRoute'),
  rule('GRPCRoute', 'spec.rules', TOTAL_MATCHES_MESSAGE, (self) => totalMatches(list(self)) <= 128),
  ruleNameUnique('GRPCRoute'),
  servicePortRule('GRPCRoute', 'spec.rules[].backendRefs[]'),
  ...grpcFilterRules('spec.rules[].backendRefs[].filters'),
  ...grpcFilterRules('spec.rules[].filters'),
  rule('GRPCRoute', 'spec.rules[].matches[].method', "One or both of 'service' or 'method' must be specified", (m) =>
    has(m, 'type') ? has(m, 'service') || has(m, 'method') : true,
  ),
  rule('GRPCRoute', 'spec.rules[].matches[].method', 'service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)', (m) =>
    (!has(m, 'type') || obj(m).type === 'Exact') && has(m, 'service') ? GRPC_SERVICE.test(str(obj(m).service)) : true,
  ),
  rule('GRPCRoute', 'spec.rules[].matches[].method', 'method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)', (m) =>
    (!has(m, 'type') || obj(m).type === 'Exact') && has(m, 'method') ? GRPC_METHOD.test(str(obj(m).method)) : true,
  ),
  sessionPersistenceRule('GRPCRoute'),
];

// ----------------------------------------------------------------------------------------------
// Gateway

const HOSTNAME_VALUE = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;

/** `self.all(a1, a1.type == T && has(a1.value) ? self.exists_one(a2, a2.type == a1.type && has(a2.value) && a2.value == a1.value) : true)` */
const uniqueAddressValues = (type: string) => (self: unknown) => {
  const addrs = list(self);
  return addrs.every((a1) =>
    obj(a1).type === type && has(a1, 'value') ? existsOne(addrs, (a2) => obj(a2).type === obj(a1).type && has(a2, 'value') && obj(a2).value === obj(a1).value) : true,
  );
};

function keyRules(path: string, what: 'Annotation' | 'Label'): CelRule[] {
  const lower = what.toLowerCase();
  return [
    rule(
      'Gateway',
      path,
      `${what} keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters.`,
      (m) => Object.keys(obj(m)).every((key) => QUALIFIED_KEY.test(key)),
    ),
    rule('Gateway', path, `If specified, the ${lower} key's prefix must be a DNS subdomain not longer than 253 characters in total.`, (m) =>
      Object.keys(obj(m)).every((key) => (key.split('/')[0] ?? '').length < 253),
    ),
  ];
}

const hostnameOf = (l: unknown): unknown => obj(l).hostname;

const GATEWAY_RULES: CelRule[] = [
  rule('Gateway', 'spec.addresses', 'IPAddress values must be unique', uniqueAddressValues('IPAddress')),
  rule('Gateway', 'spec.addresses', 'Hostname values must be unique', uniqueAddressValues('Hostname')),
  rule(
    'Gateway',
    'spec.addresses[]',
    'Hostname value must be empty or contain only valid characters (matching ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)',
    (a) => (obj(a).type === 'Hostname' ? !has(a, 'value') || HOSTNAME_VALUE.test(str(obj(a).value)) : true),
  ),
  ...keyRules('spec.infrastructure.annotations', 'Annotation'),
  ...keyRules('spec.infrastructure.labels', 'Label'),
  rule('Gateway', 'spec.listeners', "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']", (self) =>
    list(self).every((l) => (['HTTP', 'TCP', 'UDP'].includes(str(obj(l).protocol)) ? !has(l, 'tls') : true)),
  ),
  rule('Gateway', 'spec.listeners', 'tls mode must be Terminate for protocol HTTPS', (self) =>
    list(self).every((l) => (obj(l).protocol === 'HTTPS' && has(l, 'tls') ? obj(obj(l).tls).mode === '' || obj(obj(l).tls).mode === 'Terminate' : true)),
  ),
  rule('Gateway', 'spec.listeners', "hostname must not be specified for protocols ['TCP', 'UDP']", (self) =>
    list(self).every((l) => (['TCP', 'UDP'].includes(str(obj(l).protocol)) ? !has(l, 'hostname') || hostnameOf(l) === '' : true)),
  ),
  rule('Gateway', 'spec.listeners', 'Listener name must be unique within the Gateway', (self) => {
    const ls = list(self);
    return ls.every((l1) => existsOne(ls, (l2) => obj(l1).name === obj(l2).name));
  }),
  rule('Gateway', 'spec.listeners', 'Combination of port, protocol and hostname must be unique for each listener', (self) => {
    const ls = list(self);
    return ls.every((l1) =>
      existsOne(
        ls,
        (l2) =>
          obj(l1).port === obj(l2).port &&
          obj(l1).protocol === obj(l2).protocol &&
          (has(l1, 'hostname') && has(l2, 'hostname') ? hostnameOf(l1) === hostnameOf(l2) : !has(l1, 'hostname') && !has(l2, 'hostname')),
      ),
    );
  }),
  rule('Gateway', 'spec.listeners[].tls', 'certificateRefs or options must be specified when mode is Terminate', (t) =>
    obj(t).mode === 'Terminate' ? size(obj(t).certificateRefs) > 0 || size(obj(t).options) > 0 : true,
  ),
  rule('Gateway', 'spec.tls.frontend.perPort', 'Port for TLS configuration must be unique within the Gateway', (self) => {
    const ports = list(self);
    return ports.every((t1) => existsOne(ports, (t2) => obj(t1).port === obj(t2).port));
  }),
  rule(
    'Gateway',
    'status.addresses[]',
    'Hostname value must only contain valid characters (matching ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)',
    (a) => (obj(a).type === 'Hostname' ? HOSTNAME_VALUE.test(str(obj(a).value)) : true),
  ),
];

// ----------------------------------------------------------------------------------------------
// GatewayClass, BackendTLSPolicy, L4 routes

const GATEWAY_CLASS_RULES: CelRule[] = [
  { kind: 'GatewayClass', path: 'spec.controllerName', message: 'Value is immutable', transition: true, check: (self, ctx) => self === ctx.old },
];

/** Same target: group, kind and name. */
const sameTarget = (a: unknown, b: unknown) => obj(a).group === obj(b).group && obj(a).kind === obj(b).kind && obj(a).name === obj(b).name;

const BACKEND_TLS_POLICY_RULES: CelRule[] = [
  rule('BackendTLSPolicy', 'spec.targetRefs', 'sectionName must be specified when targetRefs includes 2 or more references to the same target', (self) => {
    const refs = list(self);
    return refs.every((p1) => refs.every((p2) => (sameTarget(p1, p2) ? unsetOrEmpty(p1, 'sectionName') === unsetOrEmpty(p2, 'sectionName') : true)));
  }),
  rule('BackendTLSPolicy', 'spec.targetRefs', 'sectionName must be unique when targetRefs includes 2 or more references to the same target', (self) => {
    const refs = list(self);
    return refs.every((p1) =>
      existsOne(
        refs,
        (p2) =>
          sameTarget(p1, p2) &&
          ((unsetOrEmpty(p1, 'sectionName') && unsetOrEmpty(p2, 'sectionName')) ||
            (has(p1, 'sectionName') && has(p2, 'sectionName') && obj(p1).sectionName === obj(p2).sectionName)),
      ),
    );
  }),
  rule('BackendTLSPolicy', 'spec.validation', 'must not contain both CACertificateRefs and WellKnownCACertificates', (v) =>
    !(has(v, 'caCertificateRefs') && size(obj(v).caCertificateRefs) > 0 && has(v, 'wellKnownCACertificates') && obj(v).wellKnownCACertificates !== ''),
  ),
  rule(
    'BackendTLSPolicy',
    'spec.validation',
    'must specify either CACertificateRefs or WellKnownCACertificates',
    (v) => (has(v, 'caCertificateRefs') && size(obj(v).caCertificateRefs) > 0) || (has(v, 'wellKnownCACertificates') && obj(v).wellKnownCACertificates !== ''),
  ),
  rule('BackendTLSPolicy', 'spec.validation.subjectAltNames[]', 'SubjectAltName element must contain Hostname, if Type is set to Hostname', (s) =>
    !(obj(s).type === 'Hostname' && unsetOrEmpty(s, 'hostname')),
  ),
  rule('BackendTLSPolicy', 'spec.validation.subjectAltNames[]', 'SubjectAltName element must not contain Hostname, if Type is not set to Hostname', (s) =>
    !(obj(s).type !== 'Hostname' && has(s, 'hostname') && obj(s).hostname !== ''),
  ),
  rule('BackendTLSPolicy', 'spec.validation.subjectAltNames[]', 'SubjectAltName element must contain URI, if Type is set to URI', (s) =>
    !(obj(s).type === 'URI' && unsetOrEmpty(s, 'uri')),
  ),
  rule('BackendTLSPolicy', 'spec.validation.subjectAltNames[]', 'SubjectAltName element must not contain URI, if Type is not set to URI', (s) =>
    !(obj(s).type !== 'URI' && has(s, 'uri') && obj(s).uri !== ''),
  ),
];

const l4RouteRules = (kind: KindName): CelRule[] => [...parentRefRules(kind), ruleNameUnique(kind), servicePortRule(kind, 'spec.rules[].backendRefs[]')];

/** Every ported rule. ReferenceGrant has none in v1.4. */
export const CEL_RULES: readonly CelRule[] = Object.freeze([
  ...GATEWAY_CLASS_RULES,
  ...GATEWAY_RULES,
  ...HTTP_ROUTE_RULES,
  ...GRPC_ROUTE_RULES,
  ...l4RouteRules('TCPRoute'),
  ...l4RouteRules('TLSRoute'),
  ...l4RouteRules('UDPRoute'),
  ...BACKEND_TLS_POLICY_RULES,
]);

// ----------------------------------------------------------------------------------------------
// Evaluation

type Step = { field: string } | { each: 'item' | 'value' };

function parseRulePath(path: string): Step[] {
  const steps: Step[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[{]*)((?:\[\]|\{\})*)$/.exec(part);
    if (!m) throw new Error(`bad rule path ${path}`);
    if (m[1]) steps.push({ field: m[1] });
    for (const marker of m[2]!.match(/\[\]|\{\}/g) ?? []) steps.push({ each: marker === '[]' ? 'item' : 'value' });
  }
  return steps;
}

/** Rules sharing one path: the nodes at that path are found once per check. */
interface RuleGroup {
  readonly path: string;
  readonly steps: readonly Step[];
  readonly rules: readonly CelRule[];
}

// Built once from the constant table above; never mutated.
const RULES_BY_KIND: ReadonlyMap<string, readonly RuleGroup[]> = (() => {
  const byKind = new Map<string, Map<string, CelRule[]>>();
  for (const r of CEL_RULES) {
    const paths = byKind.get(r.kind) ?? new Map<string, CelRule[]>();
    paths.set(r.path, [...(paths.get(r.path) ?? []), r]);
    byKind.set(r.kind, paths);
  }
  return new Map([...byKind].map(([kind, paths]) => [kind, [...paths].map(([path, rules]) => ({ path, steps: parseRulePath(path), rules }))]));
})();

/** Every node at the rule's path, with its concrete path (`spec.rules[2].filters[0]`). */
function nodesAt(root: unknown, steps: readonly Step[]): Array<{ node: unknown; path: string; at: readonly (string | number)[] }> {
  let current: Array<{ node: unknown; path: string; at: readonly (string | number)[] }> = [{ node: root, path: '', at: [] }];
  for (const step of steps) {
    const next: typeof current = [];
    for (const c of current) {
      if ('field' in step) {
        if (has(c.node, step.field)) next.push({ node: obj(c.node)[step.field], path: joinPath(c.path, step.field), at: [...c.at, step.field] });
      } else if (step.each === 'item') {
        list(c.node).forEach((item, i) => next.push({ node: item, path: joinPath(c.path, i), at: [...c.at, i] }));
      } else if (isPlainObject(c.node)) {
        for (const [k, v] of Object.entries(c.node)) next.push({ node: v, path: joinPath(c.path, k), at: [...c.at, k] });
      }
    }
    current = next;
  }
  return current;
}

function valueAt(root: unknown, at: readonly (string | number)[]): unknown {
  let node = root;
  for (const key of at) {
    if (typeof key === 'number') node = Array.isArray(node) ? node[key] : undefined;
    else node = isPlainObject(node) ? node[key] : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

export interface CelOptions {
  /** The previous version of the resource: enables transition rules (`oldSelf`). */
  oldValue?: unknown;
  /** Also check rules on `status` (default false, like SchemaValidator's validateStatus). */
  status?: boolean;
}

/**
 * Checks every ported CEL rule of `kind` on `value` (a resource that passed schema validation,
 * with defaults applied). One diagnostic per violated rule and node, at the rule's node.
 */
export function checkCelRules(kind: string, value: unknown, options: CelOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const group of RULES_BY_KIND.get(kind) ?? []) {
    if (!options.status && group.path.startsWith('status')) continue;
    for (const { node, path, at } of nodesAt(value, group.steps)) {
      for (const r of group.rules) {
        const ctx: CelContext = {};
        if (r.transition) {
          const old = options.oldValue === undefined ? undefined : valueAt(options.oldValue, at);
          if (old === undefined) continue; // no oldSelf: transition rules do not run
          ctx.old = old;
        }
        let ok: boolean;
        try {
          ok = r.check(node, ctx);
        } catch {
          ok = false; // a CEL evaluation error rejects the object too
        }
        if (!ok) out.push({ severity: 'error', code: DiagnosticCodes.cel, path, message: r.message });
      }
    }
  }
  return out;
}
