// The snapshot: the intermediate representation the controller's translator produces and every
// gateway compiles. It is versioned, immutable once built, JSON-serialisable (it crosses gRPC and
// worker IPC) and already validated: a gateway never receives something it cannot compile.
// Secrets arrive resolved inside the structures that need them; Secret objects themselves and
// ReferenceGrants never reach a gateway.

import type { GatewayConfigIR } from './gateway-config.js';
import type { HttpRouteIR, GrpcRouteIR } from './route.js';
import type { ClusterIR } from './backend.js';
import type { PluginSetIR, StreamPluginSetIR } from './plugin.js';
import type { ListenerIR } from './listener.js';
import type { StreamRouteIR } from './stream-route.js';
import type { TlsBundleIR, EdgionTlsIR, AcmeChallengeIR } from './tls.js';

export const IR_SCHEMA_VERSION = 1;

export interface Snapshot {
  /** Strictly increasing per controller run. */
  version: number;
  /** Identifies one controller run; a gateway that sees it change takes the next snapshot whole. */
  controllerId: string;
  generatedAt: string;
  gateways: GatewayIR[];
  httpRoutes: HttpRouteIR[];
  grpcRoutes: GrpcRouteIR[];
  tcpRoutes: StreamRouteIR[];
  udpRoutes: StreamRouteIR[];
  tlsRoutes: StreamRouteIR[];
  /** Backend clusters by key (`ns/name:port` for Services), shared by every route that uses them. */
  clusters: Record<string, ClusterIR>;
  /** EdgionPlugins by `ns/name`, configs validated and secrets resolved. */
  pluginSets: Record<string, PluginSetIR>;
  streamPluginSets: Record<string, StreamPluginSetIR>;
  /** Certificates by key (`ns/name` of the Secret), PEM. */
  tlsBundles: Record<string, TlsBundleIR>;
  edgionTls: EdgionTlsIR[];
  /** Pending ACME HTTP-01 challenges, answered by the gateways' HTTP listeners. */
  acmeChallenges: AcmeChallengeIR[];
  /** LinkSys (external systems: redis, webhook...) by `ns/name`, secrets resolved. */
  linkSys: Record<string, LinkSysIR>;
  /** The accepted resources by kind, as the gateway admin API shows them (no Secrets). */
  resources: Record<string, unknown[]>;
}

export interface LinkSysIR {
  type: string;
  config: Record<string, unknown>;
}

export interface GatewayIR {
  /** `ns/name` */
  key: string;
  namespace: string;
  name: string;
  className: string;
  /** Order of first appearance (creationTimestamp, then file order). */
  order: number;
  annotations: Record<string, string>;
  /** Addresses to bind listeners on; empty = all interfaces. */
  bindAddresses: string[];
  config: GatewayConfigIR;
  listeners: ListenerIR[];
}

export function emptySnapshot(controllerId = '', version = 0): Snapshot {
  return {
    version,
    controllerId,
    generatedAt: new Date(0).toISOString(),
    gateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    tcpRoutes: [],
    udpRoutes: [],
    tlsRoutes: [],
    clusters: {},
    pluginSets: {},
    streamPluginSets: {},
    tlsBundles: {},
    edgionTls: [],
    acmeChallenges: [],
    linkSys: {},
    resources: {},
  };
}
