// Backends: a cluster is one Service port (or an external target) with its endpoints, protocol,
// load-balancing policy and health checks. Routes refer to clusters by key; gateways keep
// connection pools and health state per cluster key and endpoint, across snapshots.

export type UpstreamProtocol = 'http1' | 'h2c' | 'h2' | 'ws';

export interface EndpointIR {
  address: string;
  port: number;
  ready: boolean;
  zone?: string;
  hostname?: string;
}

export type LbPolicyIR =
  | { type: 'RoundRobin' }
  | { type: 'LeastConn' }
  | { type: 'Ewma' }
  | { type: 'ConsistentHash'; source: 'header' | 'cookie' | 'query' | 'sourceIp'; name?: string };

export interface ActiveHealthCheckIR {
  type: 'http' | 'tcp';
  path: string;
  port?: number;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  expectedStatuses: number[];
  host?: string;
}

export interface PassiveHealthCheckIR {
  consecutiveFailures: number;
  ejectionMs: number;
}

export interface UpstreamTlsIR {
  /** Content fingerprint (CA, client certificate, hostname): connection pools are keyed by it. */
  id?: string;
  /** BackendTLSPolicy `ns/name` that produced it (logs). */
  policy?: string;
  /** SNI, and the name verified in the backend certificate unless `subjectAltNames` is given. */
  hostname: string;
  /** BackendTLSPolicy `validation.subjectAltNames`: the certificate must carry one of them. */
  subjectAltNames?: { type: 'Hostname' | 'URI'; value: string }[];
  /** PEM CA bundle; undefined with `system` = the system roots. */
  caPem?: string;
  system: boolean;
  clientCertPem?: string;
  clientKeyPem?: string;
  /**
   * The policy cannot be applied (no valid CA certificate, unusable client certificate): requests
   * to the cluster fail (502) with this message; never plain text, never the system roots.
   */
  error?: string;
}

export interface ClusterIR {
  key: string;
  /** Service namespace/name (for logs and metrics). */
  namespace: string;
  name: string;
  /** The Service port the routes asked for. */
  port?: number;
  protocol: UpstreamProtocol;
  endpoints: EndpointIR[];
  lb: LbPolicyIR;
  healthCheck?: { active?: ActiveHealthCheckIR; passive?: PassiveHealthCheckIR };
  tls?: UpstreamTlsIR;
}

/** A backendRef after resolution. `error` set = the ref does not resolve: requests get `error.status`. */
export interface BackendRefIR {
  kind: string;
  namespace: string;
  name: string;
  port?: number;
  weight: number;
  cluster?: string;
  error?: { status: number; reason: string; message: string };
  filters: import('./route.js').FilterIR[];
}
