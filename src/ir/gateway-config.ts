// Effective EdgionGatewayConfig of a Gateway (through its GatewayClass parametersRef), with every
// default filled in and durations in milliseconds, so the data plane never re-derives them.

export interface GatewayConfigIR {
  /** `name` of the EdgionGatewayConfig, or undefined when defaults apply. */
  source?: string;
  server: {
    threads?: number;
    enableCompression: boolean;
    downstreamKeepaliveRequestLimit: number;
    gracePeriodSeconds: number;
    gracefulShutdownTimeoutS: number;
    upstreamKeepalivePoolSize: number;
  };
  httpTimeout: {
    client: { readTimeoutMs: number; writeTimeoutMs: number; keepaliveTimeoutMs: number };
    backend: { connectTimeoutMs: number; requestTimeoutMs: number; idleTimeoutMs: number };
  };
  maxRetries: number;
  realIp: { trustedIps: string[]; realIpHeader: string; recursive: boolean };
  securityProtect: {
    xForwardedForLimit: number;
    requireSniHostMatch: boolean;
    fallbackSni?: string;
    tlsProxyLogRecord: boolean;
    maxHeaderBytes: number;
    maxHeaderCount: number;
    /** Open client connections per listener port (0 = no limit). */
    maxConnections: number;
  };
  globalPlugins: string[];
  preflightPolicy: { mode: 'cors-standard' | 'all-options'; statusCode: number };
}

export function defaultGatewayConfig(): GatewayConfigIR {
  return {
    server: {
      enableCompression: false,
      downstreamKeepaliveRequestLimit: 1000,
      gracePeriodSeconds: 30,
      gracefulShutdownTimeoutS: 10,
      upstreamKeepalivePoolSize: 128,
    },
    httpTimeout: {
      client: { readTimeoutMs: 60_000, writeTimeoutMs: 60_000, keepaliveTimeoutMs: 75_000 },
      backend: { connectTimeoutMs: 5_000, requestTimeoutMs: 60_000, idleTimeoutMs: 300_000 },
    },
    maxRetries: 3,
    realIp: { trustedIps: [], realIpHeader: 'x-forwarded-for', recursive: true },
    securityProtect: {
      xForwardedForLimit: 200,
      requireSniHostMatch: true,
      tlsProxyLogRecord: true,
      maxHeaderBytes: 16 * 1024,
      maxHeaderCount: 100,
      maxConnections: 0,
    },
    globalPlugins: [],
    preflightPolicy: { mode: 'cors-standard', statusCode: 204 },
  };
}
