// EdgionGatewayConfig → GatewayConfigIR: defaults filled in, durations in milliseconds.

import { defaultGatewayConfig, type GatewayConfigIR } from '../../ir/index.js';
import { durationMs } from '../../shared/durations.js';
import type { Obj } from './context.js';

const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const bool = (v: unknown, d: boolean): boolean => (typeof v === 'boolean' ? v : d);
const dur = (v: unknown, d: number): number => (typeof v === 'string' || typeof v === 'number' ? durationMs(v, d) : d);

export function gatewayConfigIR(name: string | undefined, spec: Obj | undefined): GatewayConfigIR {
  const c = defaultGatewayConfig();
  if (name) c.source = name;
  if (!spec) return c;
  const server = (spec.server ?? {}) as Obj;
  if (typeof server.threads === 'number') c.server.threads = server.threads;
  c.server.enableCompression = bool(server.enableCompression, c.server.enableCompression);
  c.server.downstreamKeepaliveRequestLimit = num(server.downstreamKeepaliveRequestLimit, c.server.downstreamKeepaliveRequestLimit);
  c.server.gracePeriodSeconds = num(server.gracePeriodSeconds, c.server.gracePeriodSeconds);
  c.server.gracefulShutdownTimeoutS = num(server.gracefulShutdownTimeoutS, c.server.gracefulShutdownTimeoutS);
  c.server.upstreamKeepalivePoolSize = num(server.upstreamKeepalivePoolSize, c.server.upstreamKeepalivePoolSize);
  const ht = (spec.httpTimeout ?? {}) as Obj;
  const client = (ht.client ?? {}) as Obj;
  const backend = (ht.backend ?? {}) as Obj;
  c.httpTimeout.client.readTimeoutMs = dur(client.readTimeout, c.httpTimeout.client.readTimeoutMs);
  c.httpTimeout.client.writeTimeoutMs = dur(client.writeTimeout, c.httpTimeout.client.writeTimeoutMs);
  c.httpTimeout.client.keepaliveTimeoutMs = dur(client.keepaliveTimeout, c.httpTimeout.client.keepaliveTimeoutMs);
  c.httpTimeout.backend.connectTimeoutMs = dur(backend.defaultConnectTimeout, c.httpTimeout.backend.connectTimeoutMs);
  c.httpTimeout.backend.requestTimeoutMs = dur(backend.defaultRequestTimeout, c.httpTimeout.backend.requestTimeoutMs);
  c.httpTimeout.backend.idleTimeoutMs = dur(backend.defaultIdleTimeout, c.httpTimeout.backend.idleTimeoutMs);
  c.maxRetries = num(spec.maxRetries, c.maxRetries);
  const realIp = (spec.realIp ?? {}) as Obj;
  if (Array.isArray(realIp.trustedIps)) c.realIp.trustedIps = realIp.trustedIps.map(String);
  if (typeof realIp.realIpHeader === 'string' && realIp.realIpHeader) c.realIp.realIpHeader = realIp.realIpHeader.toLowerCase();
  c.realIp.recursive = bool(realIp.recursive, true);
  const sp = (spec.securityProtect ?? {}) as Obj;
  c.securityProtect.xForwardedForLimit = num(sp.xForwardedForLimit, c.securityProtect.xForwardedForLimit);
  c.securityProtect.requireSniHostMatch = bool(sp.requireSniHostMatch, c.securityProtect.requireSniHostMatch);
  if (typeof sp.fallbackSni === 'string' && sp.fallbackSni) c.securityProtect.fallbackSni = sp.fallbackSni.toLowerCase();
  c.securityProtect.tlsProxyLogRecord = bool(sp.tlsProxyLogRecord, c.securityProtect.tlsProxyLogRecord);
  c.securityProtect.maxHeaderBytes = num(sp.maxHeaderBytes, c.securityProtect.maxHeaderBytes);
  c.securityProtect.maxHeaderCount = num(sp.maxHeaderCount, c.securityProtect.maxHeaderCount);
  c.securityProtect.maxConnections = num(sp.maxConnections, c.securityProtect.maxConnections);
  if (Array.isArray(spec.globalPluginsRef)) {
    c.globalPlugins = (spec.globalPluginsRef as Obj[]).filter((r) => typeof r.name === 'string').map((r) => `${(r.namespace as string | undefined) ?? 'default'}/${r.name as string}`);
  }
  const pp = (spec.preflightPolicy ?? {}) as Obj;
  if (pp.mode === 'all-options' || pp.mode === 'cors-standard') c.preflightPolicy.mode = pp.mode;
  c.preflightPolicy.statusCode = num(pp.statusCode, c.preflightPolicy.statusCode);
  return c;
}
