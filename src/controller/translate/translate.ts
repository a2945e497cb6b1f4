// resources → snapshot + statuses. Pure: the same input gives the same output, no I/O, the clock
// comes in through the input. Reads like a table of contents: classes, gateways and listeners,
// routes by kind, plugins, then the statuses that depend on everything before.

import type { Snapshot, TlsBundleIR, ClusterIR } from '../../ir/index.js';
import type { Diagnostic } from '../../shared/diagnostics.js';
import { TranslateContext, type Obj, type TranslateInput } from './context.js';
import { translateGatewayClasses, translateGateways, writeGatewayStatuses, type GatewayState } from './gateways.js';
import { translateHttpRoutes } from './http-routes.js';
import { translateGrpcRoutes } from './grpc-routes.js';
import { translateLinkSys, translatePluginSets, translateStreamPluginSets } from './plugins.js';
import { translateStreamRoutes } from './stream-routes.js';
import { translateEdgionTls } from './edgion-tls.js';
import { writeBackendTlsStatuses } from './backend-tls.js';
import { translateAcme } from './acme.js';

export type SnapshotContent = Omit<Snapshot, 'version' | 'controllerId' | 'generatedAt'>;

export interface TranslateResult {
  content: SnapshotContent;
  statuses: Map<string, Obj>;
  diagnostics: Diagnostic[];
}

/** Kinds never sent to gateways: their content is resolved into what needs it. */
const NOT_SYNCED = new Set(['Secret', 'ReferenceGrant']);

export function translate(input: TranslateInput): TranslateResult {
  const ctx = new TranslateContext(input);
  const tlsBundles: Record<string, TlsBundleIR> = {};
  const clusters: Record<string, ClusterIR> = {};

  const classes = translateGatewayClasses(ctx);
  const gatewayStates = translateGateways(ctx, classes, tlsBundles);
  const gateways = new Map<string, GatewayState>(gatewayStates.map((g) => [g.ir.key, g]));
  const httpRoutes = translateHttpRoutes(ctx, gateways, clusters);
  const grpcRoutes = translateGrpcRoutes(ctx, gateways, clusters);
  const tcpRoutes = translateStreamRoutes(ctx, 'TCPRoute', gateways, clusters);
  const udpRoutes = translateStreamRoutes(ctx, 'UDPRoute', gateways, clusters);
  const tlsRoutes = translateStreamRoutes(ctx, 'TLSRoute', gateways, clusters);
  const edgionTls = translateEdgionTls(ctx, gateways, tlsBundles);
  const acmeChallenges = translateAcme(ctx);
  const pluginSets = translatePluginSets(ctx, clusters);
  const streamPluginSets = translateStreamPluginSets(ctx, clusters);
  writeBackendTlsStatuses(ctx, [...httpRoutes, ...grpcRoutes, ...tcpRoutes, ...udpRoutes, ...tlsRoutes], clusters, pluginSets);
  writeGatewayStatuses(ctx, gatewayStates);

  const resources: Record<string, unknown[]> = {};
  for (const [kind, list] of ctx.byKind) {
    if (NOT_SYNCED.has(kind)) continue;
    resources[kind] = list.map((r) => {
      const status = ctx.statuses.get(r.key);
      return status ? { ...r.obj, status } : r.obj;
    });
  }

  return {
    content: {
      gateways: gatewayStates.map((g) => g.ir),
      httpRoutes,
      grpcRoutes,
      tcpRoutes,
      udpRoutes,
      tlsRoutes,
      clusters,
      pluginSets,
      streamPluginSets,
      tlsBundles,
      edgionTls,
      acmeChallenges,
      linkSys: translateLinkSys(ctx),
      resources,
    },
    statuses: ctx.statuses,
    diagnostics: ctx.diagnostics,
  };
}
