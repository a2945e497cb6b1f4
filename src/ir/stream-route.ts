// TCPRoute, UDPRoute and TLSRoute after resolution.

import type { BackendRefIR } from './backend.js';
import type { RouteMetaIR } from './route.js';

export interface StreamRuleIR {
  index: number;
  backends: BackendRefIR[];
}

export interface StreamRouteIR extends RouteMetaIR {
  kind: 'TCPRoute' | 'UDPRoute' | 'TLSRoute';
  rules: StreamRuleIR[];
  /** TLSRoute: SNI hostnames (lower-cased, exact or `*.suffix`); empty = every name of its listener. */
  hostnames: string[];
  /** EdgionStreamPlugins key (`ns/name`) from the `edgion.io/edgion-stream-plugins` annotation. */
  streamPlugins?: string;
  /** `edgion.io/proxy-protocol`: PROXY protocol header sent to the backend (TCPRoute, TLSRoute). */
  proxyProtocol?: 'v1' | 'v2';
  /** `edgion.io/max-connect-retries` (default 1): further endpoints tried when a connect fails. */
  maxConnectRetries: number;
  /** UDPRoute `edgion.io/udp-session-timeout` (default 60 s): a session ends after this long without traffic. */
  sessionIdleMs?: number;
}
