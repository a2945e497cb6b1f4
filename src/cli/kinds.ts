// The resource kinds edgion-ctl knows (CONTRACT.md "Configuration folder"), with the
// names users type for them: the Kind in any case, its plural, and kubectl short names.

export type Scope = 'Namespaced' | 'Cluster';

export interface KindInfo {
  kind: string;
  scope: Scope;
  /** Lower-case names accepted besides the kind itself. */
  aliases: readonly string[];
}

function k(kind: string, scope: Scope, ...aliases: string[]): KindInfo {
  return { kind, scope, aliases };
}

export const KINDS: readonly KindInfo[] = [
  k('GatewayClass', 'Cluster', 'gatewayclasses', 'gc'),
  k('Gateway', 'Namespaced', 'gateways', 'gtw'),
  k('HTTPRoute', 'Namespaced', 'httproutes'),
  k('GRPCRoute', 'Namespaced', 'grpcroutes'),
  k('TCPRoute', 'Namespaced', 'tcproutes'),
  k('UDPRoute', 'Namespaced', 'udproutes'),
  k('TLSRoute', 'Namespaced', 'tlsroutes'),
  k('ReferenceGrant', 'Namespaced', 'referencegrants', 'refgrant'),
  k('BackendTLSPolicy', 'Namespaced', 'backendtlspolicies', 'btlspolicy'),
  k('Namespace', 'Cluster', 'namespaces', 'ns'),
  k('Service', 'Namespaced', 'services', 'svc'),
  k('EndpointSlice', 'Namespaced', 'endpointslices'),
  k('Endpoints', 'Namespaced', 'ep'),
  k('Secret', 'Namespaced', 'secrets'),
  k('ConfigMap', 'Namespaced', 'configmaps', 'cm'),
  k('EdgionPlugins', 'Namespaced', 'edgionplugin'),
  k('EdgionStreamPlugins', 'Namespaced', 'edgionstreamplugin'),
  k('EdgionTls', 'Namespaced', 'edgiontlses', 'edgiontlss'),
  k('EdgionGatewayConfig', 'Cluster', 'edgiongatewayconfigs', 'edgiongwconfig'),
  k('EdgionAcme', 'Namespaced', 'edgionacmes'),
  k('PluginMetaData', 'Namespaced', 'pluginmetadatas'),
  k('LinkSys', 'Namespaced', 'linksyses'),
];

const byName = new Map<string, KindInfo>();
for (const info of KINDS) {
  byName.set(info.kind.toLowerCase(), info);
  for (const alias of info.aliases) byName.set(alias, info);
}

/** The kind a user meant (case-insensitive, plurals and short names), or undefined. */
export function resolveKind(input: string): KindInfo | undefined {
  const key = input.trim().toLowerCase();
  // `httproutes.gateway.networking.k8s.io` style: the part before the first dot.
  return byName.get(key) ?? byName.get(key.split('.')[0] ?? key);
}

export function kindNames(): string[] {
  return KINDS.map((info) => info.kind);
}

export function isRouteKind(kind: string): boolean {
  return kind.endsWith('Route');
}
