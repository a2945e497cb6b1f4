// What the compiler builds from a snapshot and the request path reads. Immutable once built; a new
// snapshot produces a new GatewayRuntime that is swapped in atomically (requests in flight keep the
// objects they already hold).

import type { ClusterIR, GatewayIR, ListenerIR, Snapshot, BackendRefIR, RetryIR, SessionPersistenceIR } from '../../ir/index.js';
import type { CidrList } from '../../shared/net.js';
import type { HostIndex } from '../routing/host-index.js';
import type { RouteTable } from '../routing/route-table.js';
import type { GrpcTable } from '../routing/grpc-table.js';
import type { RequestStep, ResponseHeaderStep } from '../pipeline/steps.js';
import type { BackendStats } from '../observe/metrics.js';

export interface GatewayRuntime {
  version: number;
  controllerId: string;
  snapshot: Snapshot;
  /** HTTP and HTTPS listener ports. */
  httpPorts: Map<number, HttpPortRuntime>;
  clusters: Map<string, ClusterIR>;
}

export interface HttpPortRuntime {
  port: number;
  tls: boolean;
  /** HTTP/2: h2c prior knowledge on plain ports, ALPN h2 on TLS ports (Gateway annotation `edgion.io/enable-http2`). */
  http2: boolean;
  /** Empty = all interfaces. */
  bindAddresses: string[];
  /** Listeners on this port by hostname (`*` = no hostname): the most specific one owns a host. */
  listeners: HostIndex<ListenerRuntime>;
  /** Settings of the first Gateway on the port, for connection-level limits and timeouts. */
  connection: ListenerSettings;
}

export interface ListenerSettings {
  xffLimit: number;
  trustedProxies: CidrList;
  realIpHeader: string;
  maxHeaderBytes: number;
  maxHeaderCount: number;
  maxConnections: number;
  clientReadTimeoutMs: number;
  clientKeepaliveTimeoutMs: number;
  keepaliveRequestLimit: number;
  backendConnectTimeoutMs: number;
  backendRequestTimeoutMs: number;
  backendIdleTimeoutMs: number;
  maxRetries: number;
  /** TLS: certificate host used when a client sends no SNI. */
  fallbackSni?: string;
  /** TLS: the Host header must match the SNI (else 421). */
  requireSniHostMatch: boolean;
  /** `edgion.io/http-to-https-redirect`: the HTTPS port to redirect to. */
  httpsRedirectPort?: number;
}

export interface ListenerRuntime {
  gateway: GatewayIR;
  listener: ListenerIR;
  settings: ListenerSettings;
  /** Route tables by request host (exact, wildcard, `*`). */
  hosts: HostIndex<HostRoutes>;
  /** EdgionGatewayConfig globalPluginsRef: request plugins run before every route's own. */
  globalSteps: RequestStep[];
  /** The global plugins run a Cors plugin (preflights are left to it). */
  globalCors: boolean;
}

export interface HostRoutes {
  http: RouteTable<CompiledRule>;
  /** GRPCRoutes for this host; gRPC requests fall back to `http` when none matches. */
  grpc: GrpcTable<CompiledRule> | undefined;
}

export interface CompiledBackend {
  ref: BackendRefIR;
  steps: RequestStep[];
  responseSteps: ResponseHeaderStep[];
  /** Metrics bound on first use, per Gateway (a rule can attach to several). */
  stats?: Map<GatewayIR, BackendStats>;
}

export interface CompiledRule {
  routeKey: string;
  routeNamespace: string;
  routeName: string;
  ruleIndex: number;
  /** Request-phase filters and plugins, in order. */
  steps: RequestStep[];
  responseSteps: ResponseHeaderStep[];
  backends: CompiledBackend[];
  /** Smooth weighted round robin state over `backends` (weight > 0 only). */
  picker: WeightedPicker<CompiledBackend>;
  requestTimeoutMs?: number;
  backendRequestTimeoutMs?: number;
  maxRetries?: number;
  retry?: RetryIR;
  sessionPersistence?: SessionPersistenceIR;
  /** An ExtensionRef of this rule runs a Cors plugin: preflights are left to it. */
  cors: boolean;
  /** A GRPCRoute rule: the upstream always speaks HTTP/2. */
  grpc: boolean;
  /** Route annotation `edgion.io/retry-non-idempotent`: status-code retries for POST/PATCH too. */
  retryNonIdempotent: boolean;
}

/** Nginx-style smooth weighted round robin: even spread, deterministic, O(n) per pick. */
export class WeightedPicker<T extends { ref: { weight: number } }> {
  private readonly items: T[];
  private readonly current: number[];
  private readonly total: number;

  constructor(all: T[]) {
    this.items = all.filter((x) => x.ref.weight > 0);
    this.current = this.items.map(() => 0);
    this.total = this.items.reduce((s, x) => s + x.ref.weight, 0);
  }

  get size(): number {
    return this.items.length;
  }

  pick(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    if (n === 1) return this.items[0];
    let best = 0;
    for (let i = 0; i < n; i++) {
      this.current[i]! += this.items[i]!.ref.weight;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.total;
    return this.items[best];
  }
}
