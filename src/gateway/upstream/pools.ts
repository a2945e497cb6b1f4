// Connection pools to upstream endpoints, one per (protocol, address, port, TLS settings, connect
// timeout). Plain HTTP/1.1 endpoints get the gateway's own lean client (h1-pool.ts); TLS, HTTP/2
// (gRPC, h2c) and Upgrade requests go through undici. EDGION_UPSTREAM_CLIENT=undici sends
// everything through undici. Pools outlive snapshots: a reload that keeps an endpoint keeps its
// warm connections; pools of endpoints no snapshot references any more are closed gracefully.

import type { PeerCertificate } from 'node:tls';
import { Pool } from 'undici';
import type { ClusterIR, EndpointIR } from '../../ir/index.js';
import { checkBackendIdentity } from './backend-identity.js';
import { H1Pool, type UpstreamDispatcher } from './h1-pool.js';
import type { WriteBatch } from '../net/write-batch.js';

export interface PoolSettings {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

export class UpstreamPools {
  private readonly pools = new Map<string, UpstreamDispatcher>();
  /** Per endpoint object (one snapshot's IR) and connect timeout: skips building the key per request. */
  private readonly byEndpoint = new WeakMap<EndpointIR, { timeout: number; pool: UpstreamDispatcher }>();
  private readonly byEndpointH2 = new WeakMap<EndpointIR, { timeout: number; pool: UpstreamDispatcher }>();

  static keyOf(cluster: ClusterIR, ep: EndpointIR, s: PoolSettings, h2 = false): string {
    const tls = cluster.tls ? `tls:${cluster.tls.id ?? `${cluster.tls.hostname}:${cluster.tls.caPem?.length ?? 0}:${cluster.tls.clientCertPem?.length ?? 0}`}` : 'plain';
    const protocol = h2 && cluster.protocol !== 'h2' ? 'h2c' : cluster.protocol;
    return `${protocol}|${ep.address}|${ep.port}|${tls}|${s.connectTimeoutMs}`;
  }

  /** `ownH1`: plain HTTP/1.1 endpoints use the gateway's own client (the default) rather than undici. */
  constructor(
    private readonly ownH1 = process.env.EDGION_UPSTREAM_CLIENT !== 'undici',
    /** Requests of the own client leave together at the end of each event-loop turn. */
    private readonly writes?: WriteBatch,
  ) {}

  /** `h2` forces HTTP/2 (gRPC): h2c on plain connections, h2 by ALPN on TLS ones. */
  get(cluster: ClusterIR, ep: EndpointIR, s: PoolSettings, h2 = false): UpstreamDispatcher {
    const cache = h2 ? this.byEndpointH2 : this.byEndpoint;
    const cached = cache.get(ep);
    if (cached !== undefined && cached.timeout === s.connectTimeoutMs && !cached.pool.closed && !cached.pool.destroyed) return cached.pool;
    const key = UpstreamPools.keyOf(cluster, ep, s, h2);
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = this.create(cluster, ep, s, h2);
      this.pools.set(key, pool);
    }
    cache.set(ep, { timeout: s.connectTimeoutMs, pool });
    return pool;
  }

  private create(cluster: ClusterIR, ep: EndpointIR, s: PoolSettings, forceH2: boolean): UpstreamDispatcher {
    const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
    const secure = cluster.protocol === 'h2' || cluster.tls !== undefined;
    const origin = `${secure ? 'https' : 'http'}://${host}:${ep.port}`;
    const tls = cluster.tls;
    const h2 = forceH2 || cluster.protocol === 'h2' || cluster.protocol === 'h2c';
    // A BackendTLSPolicy that cannot be applied: every connection attempt fails (never plain text,
    // never the system roots). Routes answer 502 before getting here; this guards the other paths.
    const refused = tls?.error;
    if (refused !== undefined) {
      return new Pool(origin, { connections: 1, connect: (_o, cb) => cb(Object.assign(new Error(refused), { code: 'EDGION_BACKEND_TLS_POLICY' }), null) });
    }
    const undici = (): Pool =>
      new Pool(origin, {
        connections: h2 ? 8 : 1024,
        pipelining: h2 ? 100 : 1,
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: Math.max(4_000, s.idleTimeoutMs),
        allowH2: h2,
        ...(h2 && !secure ? { useH2c: true } : {}),
        connect: {
          timeout: s.connectTimeoutMs,
          ...(tls
            ? {
                servername: tls.hostname,
                ca: tls.caPem,
                cert: tls.clientCertPem,
                key: tls.clientKeyPem,
                rejectUnauthorized: true,
                // BackendTLSPolicy validation.hostname (or subjectAltNames) is what is verified, not the endpoint address.
                checkServerIdentity: (host: string, cert: PeerCertificate) => checkBackendIdentity(tls, host, cert),
              }
            : {}),
        },
      });
    if (!this.ownH1 || h2 || secure) return undici();
    return new H1Pool(
      { host: ep.address, port: ep.port, connectTimeoutMs: s.connectTimeoutMs, keepAliveTimeoutMs: 4_000, keepAliveMaxTimeoutMs: Math.max(4_000, s.idleTimeoutMs), maxConnections: 1024, writes: this.writes },
      undici, // Upgrade (WebSocket) requests
    );
  }

  /** Closes pools whose key is not in `live` (in-flight requests finish first). */
  retain(live: Set<string>): void {
    for (const [key, pool] of this.pools) {
      if (live.has(key)) continue;
      this.pools.delete(key);
      pool.close().catch(() => pool.destroy().catch(() => undefined));
    }
  }

  get size(): number {
    return this.pools.size;
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map((p) => p.close()));
  }

  destroy(): void {
    for (const p of this.pools.values()) p.destroy().catch(() => undefined);
    this.pools.clear();
  }
}
