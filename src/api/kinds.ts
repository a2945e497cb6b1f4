// The registry of every resource kind the project loads. Written by hand from the CRDs in
// reference/crds (a unit test checks it against them) plus the Kubernetes core kinds.
// Tooling matches kinds case-insensitively by kind name, plural, singular or short name.

export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
export const EDGION_GROUP = 'edgion.io';

export type KindName =
  | 'GatewayClass'
  | 'Gateway'
  | 'HTTPRoute'
  | 'GRPCRoute'
  | 'TCPRoute'
  | 'UDPRoute'
  | 'TLSRoute'
  | 'ReferenceGrant'
  | 'BackendTLSPolicy'
  | 'Namespace'
  | 'Service'
  | 'EndpointSlice'
  | 'Endpoints'
  | 'Secret'
  | 'ConfigMap'
  | 'EdgionPlugins'
  | 'EdgionStreamPlugins'
  | 'EdgionTls'
  | 'EdgionGatewayConfig'
  | 'EdgionAcme'
  | 'PluginMetaData'
  | 'LinkSys';

export type KindSource = 'gateway-api' | 'core' | 'edgion';

export interface KindInfo {
  readonly kind: KindName;
  /** API group; '' for the core group (apiVersion "v1"). */
  readonly group: string;
  /** Accepted versions; the first one is the preferred (storage) version. */
  readonly versions: readonly string[];
  readonly namespaced: boolean;
  readonly plural: string;
  readonly singular: string;
  /** Lower-case names that select this kind: plural, singular, short names and extra aliases. */
  readonly aliases: readonly string[];
  readonly source: KindSource;
}

interface KindSpec {
  kind: KindName;
  group: string;
  versions: string[];
  namespaced: boolean;
  plural: string;
  singular: string;
  extraAliases?: string[];
  source: KindSource;
}

// Edgion configs in the wild mix v1 and v1alpha1 whatever their CRD says, so both are accepted.
const EDGION_VERSIONS = ['v1', 'v1alpha1'];

const SPECS: KindSpec[] = [
  // Gateway API v1.4 (experimental bundle: a superset of standard). Versions = served versions.
  { kind: 'GatewayClass', group: GATEWAY_API_GROUP, versions: ['v1', 'v1beta1'], namespaced: false, plural: 'gatewayclasses', singular: 'gatewayclass', extraAliases: ['gc'], source: 'gateway-api' },
  { kind: 'Gateway', group: GATEWAY_API_GROUP, versions: ['v1', 'v1beta1'], namespaced: true, plural: 'gateways', singular: 'gateway', extraAliases: ['gtw'], source: 'gateway-api' },
  { kind: 'HTTPRoute', group: GATEWAY_API_GROUP, versions: ['v1', 'v1beta1'], namespaced: true, plural: 'httproutes', singular: 'httproute', source: 'gateway-api' },
  { kind: 'GRPCRoute', group: GATEWAY_API_GROUP, versions: ['v1'], namespaced: true, plural: 'grpcroutes', singular: 'grpcroute', source: 'gateway-api' },
  { kind: 'TCPRoute', group: GATEWAY_API_GROUP, versions: ['v1alpha2'], namespaced: true, plural: 'tcproutes', singular: 'tcproute', source: 'gateway-api' },
  { kind: 'UDPRoute', group: GATEWAY_API_GROUP, versions: ['v1alpha2'], namespaced: true, plural: 'udproutes', singular: 'udproute', source: 'gateway-api' },
  { kind: 'TLSRoute', group: GATEWAY_API_GROUP, versions: ['v1alpha3', 'v1alpha2'], namespaced: true, plural: 'tlsroutes', singular: 'tlsroute', source: 'gateway-api' },
  { kind: 'ReferenceGrant', group: GATEWAY_API_GROUP, versions: ['v1beta1'], namespaced: true, plural: 'referencegrants', singular: 'referencegrant', extraAliases: ['refgrant'], source: 'gateway-api' },
  { kind: 'BackendTLSPolicy', group: GATEWAY_API_GROUP, versions: ['v1', 'v1alpha3'], namespaced: true, plural: 'backendtlspolicies', singular: 'backendtlspolicy', extraAliases: ['btlspolicy'], source: 'gateway-api' },

  // Kubernetes core kinds (hand-made schemas, see scripts/core-schemas.mjs).
  { kind: 'Namespace', group: '', versions: ['v1'], namespaced: false, plural: 'namespaces', singular: 'namespace', extraAliases: ['ns'], source: 'core' },
  { kind: 'Service', group: '', versions: ['v1'], namespaced: true, plural: 'services', singular: 'service', extraAliases: ['svc'], source: 'core' },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', versions: ['v1'], namespaced: true, plural: 'endpointslices', singular: 'endpointslice', source: 'core' },
  { kind: 'Endpoints', group: '', versions: ['v1'], namespaced: true, plural: 'endpoints', singular: 'endpoints', extraAliases: ['ep'], source: 'core' },
  { kind: 'Secret', group: '', versions: ['v1'], namespaced: true, plural: 'secrets', singular: 'secret', source: 'core' },
  { kind: 'ConfigMap', group: '', versions: ['v1'], namespaced: true, plural: 'configmaps', singular: 'configmap', extraAliases: ['cm'], source: 'core' },

  // edgion.io. The first version is the CRD's storage version.
  { kind: 'EdgionPlugins', group: EDGION_GROUP, versions: EDGION_VERSIONS, namespaced: true, plural: 'edgionplugins', singular: 'edgionplugins', extraAliases: ['eplugins', 'edgionplugin'], source: 'edgion' },
  { kind: 'EdgionStreamPlugins', group: EDGION_GROUP, versions: EDGION_VERSIONS, namespaced: true, plural: 'edgionstreamplugins', singular: 'edgionstreamplugins', extraAliases: ['esplugins', 'edgionstreamplugin'], source: 'edgion' },
  { kind: 'EdgionTls', group: EDGION_GROUP, versions: EDGION_VERSIONS, namespaced: true, plural: 'edgiontls', singular: 'edgiontls', extraAliases: ['etls'], source: 'edgion' },
  // The CRD's plural is "edgiongatewayclassconfigs" (a leftover name); the kind's own plural works too.
  { kind: 'EdgionGatewayConfig', group: EDGION_GROUP, versions: ['v1alpha1', 'v1'], namespaced: false, plural: 'edgiongatewayclassconfigs', singular: 'edgiongatewayclassconfig', extraAliases: ['edgwcfg', 'edgiongwconfig', 'edgiongatewayconfigs'], source: 'edgion' },
  { kind: 'EdgionAcme', group: EDGION_GROUP, versions: EDGION_VERSIONS, namespaced: true, plural: 'edgionacmes', singular: 'edgionacme', extraAliases: ['eacme'], source: 'edgion' },
  { kind: 'PluginMetaData', group: EDGION_GROUP, versions: EDGION_VERSIONS, namespaced: true, plural: 'pluginmetadata', singular: 'pluginmetadata', extraAliases: ['pmd'], source: 'edgion' },
  { kind: 'LinkSys', group: EDGION_GROUP, versions: EDGION_VERSIONS, namespaced: true, plural: 'linksys', singular: 'linksys', extraAliases: ['lsys'], source: 'edgion' },
];

function toInfo(s: KindSpec): KindInfo {
  const aliases = [...new Set([s.kind.toLowerCase(), s.plural, s.singular, ...(s.extraAliases ?? [])])];
  return Object.freeze({
    kind: s.kind,
    group: s.group,
    versions: Object.freeze([...s.versions]),
    namespaced: s.namespaced,
    plural: s.plural,
    singular: s.singular,
    aliases: Object.freeze(aliases),
    source: s.source,
  });
}

export const KINDS: readonly KindInfo[] = Object.freeze(SPECS.map(toInfo));

export const KIND_NAMES: readonly KindName[] = Object.freeze(KINDS.map((k) => k.kind));

// Built once at module load from constant data; never mutated afterwards.
const BY_ALIAS: ReadonlyMap<string, KindInfo> = new Map(KINDS.flatMap((k) => k.aliases.map((a) => [a, k] as const)));
const BY_KIND: ReadonlyMap<string, KindInfo> = new Map(KINDS.map((k) => [k.kind, k]));

/**
 * Finds a kind by name or alias, case-insensitively: `HTTPRoute`, `httproutes`, `gtw`.
 * Also accepts kubectl's `plural.group` form (`httproutes.gateway.networking.k8s.io`).
 */
export function findKind(nameOrAlias: string): KindInfo | undefined {
  const key = nameOrAlias.trim().toLowerCase();
  const direct = BY_ALIAS.get(key);
  if (direct) return direct;
  const dot = key.indexOf('.');
  if (dot > 0) {
    const info = BY_ALIAS.get(key.slice(0, dot));
    if (info && info.group === key.slice(dot + 1)) return info;
  }
  return undefined;
}

/** Exact (case-sensitive) lookup by `kind` as written in a resource. */
export function kindInfo(kind: string): KindInfo | undefined {
  return BY_KIND.get(kind);
}

export function isKindName(kind: string): kind is KindName {
  return BY_KIND.has(kind);
}

/** `group/version` (or just `version` for the core group). */
export function formatApiVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Splits an apiVersion into group and version: `v1` → {'' , v1}; `edgion.io/v1` → {edgion.io, v1}. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The preferred apiVersion of a kind (`gateway.networking.k8s.io/v1` for HTTPRoute). */
export function apiVersionOf(kind: KindName | KindInfo): string {
  const info = typeof kind === 'string' ? BY_KIND.get(kind) : kind;
  if (!info) throw new Error(`unknown kind ${String(kind)}`);
  return formatApiVersion(info.group, info.versions[0]!);
}

/** Every apiVersion accepted for a kind, preferred first. */
export function acceptedApiVersions(info: KindInfo): string[] {
  return info.versions.map((v) => formatApiVersion(info.group, v));
}
