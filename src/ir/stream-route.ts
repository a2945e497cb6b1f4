// TCPRoute, UDPRoute and TLSRoute after resolution.

import type { BackendRefIR } from './backend.js';
import type { RouteMetaIR } from './route.js';

export interface StreamRuleIR {
  index: number;
  backends: BackendRefIR[];
}

export interface StreamRouteIR extends RouteMetaIR {
  rules: StreamRuleIR[];
  /** TLSRoute: SNI hostnames (lower-cased, exact or `*.suffix`). */
  hostnames: string[];
  /** EdgionStreamPlugins key from the `edgion.io/edgion-stream-plugins` annotation. */
  streamPlugins?: string;
  proxyProtocol?: 'v1' | 'v2';
  maxConnectRetries: number;
  /** TLSRoute: terminate at the gateway (plain TCP upstream) or pass the TLS bytes through. */
  tlsMode?: 'Passthrough' | 'Terminate';
}
