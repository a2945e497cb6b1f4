// Endpoint selection inside a cluster (resources.md §7.8): round robin (default), least
// connections, EWMA latency, and consistent hashing (ketama ring: adding or removing an endpoint
// moves only the keys of that endpoint). Unhealthy endpoints are skipped by every algorithm.
// Balancer state lives per cluster key and survives snapshots whose endpoints did not change.

import { createHash } from 'node:crypto';
import type { ClusterIR, EndpointIR, LbPolicyIR } from '../../ir/index.js';

export type HealthCheck = (ep: EndpointIR) => boolean;

export interface Balancer {
  readonly endpoints: readonly EndpointIR[];
  /**
   * A healthy endpoint, avoiding `exclude` (endpoints that already failed for this request) when
   * another one exists. `hashKey` feeds consistent hashing (missing = round robin).
   */
  pick(hashKey?: string, exclude?: readonly EndpointIR[]): EndpointIR | undefined;
  /** A request to `ep` started / ended (least connections, EWMA). */
  started(ep: EndpointIR): void;
  ended(ep: EndpointIR, latencyMs: number): void;
}

const kKey = Symbol('edgion.endpointKey');

/** `address:port`, computed once per endpoint object (it is looked up several times per request). */
export function endpointKey(ep: { address: string; port: number }): string {
  const o = ep as { address: string; port: number; [kKey]?: string };
  return (o[kKey] ??= `${ep.address}:${ep.port}`);
}

function sortEndpoints(endpoints: readonly EndpointIR[]): EndpointIR[] {
  // Same order in every worker and after every reload.
  return endpoints.filter((e) => e.ready).sort((a, b) => (a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1));
}

abstract class BaseBalancer implements Balancer {
  readonly endpoints: EndpointIR[];
  protected next = 0;
  /** Requests in flight by endpoint key. */
  protected readonly active = new Map<string, number>();

  constructor(endpoints: readonly EndpointIR[], protected readonly healthy: HealthCheck) {
    this.endpoints = sortEndpoints(endpoints);
  }

  abstract pick(hashKey?: string, exclude?: readonly EndpointIR[]): EndpointIR | undefined;

  /** Round robin over healthy endpoints not in `exclude` (falls back to excluded healthy ones). */
  protected roundRobin(exclude?: readonly EndpointIR[]): EndpointIR | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    let fallback: EndpointIR | undefined;
    for (let i = 0; i < n; i++) {
      const ep = eps[this.next++ % n]!;
      if (!this.healthy(ep)) continue;
      if (exclude && exclude.length && exclude.includes(ep)) {
        fallback ??= ep;
        continue;
      }
      return ep;
    }
    return fallback;
  }

  started(ep: EndpointIR): void {
    const k = endpointKey(ep);
    this.active.set(k, (this.active.get(k) ?? 0) + 1);
  }

  ended(ep: EndpointIR, _latencyMs: number): void {
    const k = endpointKey(ep);
    const n = (this.active.get(k) ?? 1) - 1;
    if (n <= 0) this.active.delete(k);
    else this.active.set(k, n);
  }

  /** The candidate with the lowest score (ties broken round robin). */
  protected lowest(score: (ep: EndpointIR) => number, exclude?: readonly EndpointIR[]): EndpointIR | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    let best: EndpointIR | undefined;
    let bestScore = Infinity;
    const start = this.next++;
    for (let i = 0; i < n; i++) {
      const ep = eps[(start + i) % n]!;
      if (!this.healthy(ep) || (exclude && exclude.includes(ep))) continue;
      const s = score(ep);
      if (s < bestScore) {
        best = ep;
        bestScore = s;
      }
    }
    return best ?? this.roundRobin(exclude);
  }
}

export class RoundRobinBalancer extends BaseBalancer {
  pick(_hashKey?: string, exclude?: readonly EndpointIR[]): EndpointIR | undefined {
    return this.roundRobin(exclude);
  }
}

export class LeastConnBalancer extends BaseBalancer {
  pick(_hashKey?: string, exclude?: readonly EndpointIR[]): EndpointIR | undefined {
    return this.lowest((ep) => this.active.get(endpointKey(ep)) ?? 0, exclude);
  }
}

/** Lowest smoothed latency (α = 0.1, new endpoints start at 1 ms), weighted by requests in flight. */
export class EwmaBalancer extends BaseBalancer {
  private readonly ewma = new Map<string, number>();

  pick(_hashKey?: string, exclude?: readonly EndpointIR[]): EndpointIR | undefined {
    return this.lowest((ep) => {
      const k = endpointKey(ep);
      return (this.ewma.get(k) ?? 1) * ((this.active.get(k) ?? 0) + 1);
    }, exclude);
  }

  override ended(ep: EndpointIR, latencyMs: number): void {
    super.ended(ep, latencyMs);
    const k = endpointKey(ep);
    const prev = this.ewma.get(k) ?? 1;
    this.ewma.set(k, prev + 0.1 * (latencyMs - prev));
  }
}

const VNODES = 160;

function hash32(s: string): number {
  return createHash('md5').update(s).digest().readUInt32BE(0);
}

/** Ketama: every endpoint owns VNODES points on a 32-bit ring; a key goes to the next point. */
export class ConsistentHashBalancer extends BaseBalancer {
  private readonly points: Uint32Array;
  private readonly owners: EndpointIR[];

  constructor(endpoints: readonly EndpointIR[], healthy: HealthCheck) {
    super(endpoints, healthy);
    const ring: { point: number; ep: EndpointIR }[] = [];
    for (const ep of this.endpoints) {
      for (let v = 0; v < VNODES; v++) ring.push({ point: hash32(`${endpointKey(ep)}-${v}`), ep });
    }
    ring.sort((a, b) => a.point - b.point);
    this.points = Uint32Array.from(ring.map((r) => r.point));
    this.owners = ring.map((r) => r.ep);
  }

  pick(hashKey?: string, exclude?: readonly EndpointIR[]): EndpointIR | undefined {
    if (hashKey === undefined || hashKey === '' || this.points.length === 0) return this.roundRobin(exclude);
    const h = hash32(hashKey);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    // Walk the ring from the key's position to the first healthy, not excluded owner.
    for (let i = 0; i < this.owners.length; i++) {
      const ep = this.owners[(lo + i) % this.owners.length]!;
      if (this.healthy(ep) && !(exclude && exclude.includes(ep))) return ep;
    }
    return this.roundRobin(exclude);
  }
}

export function createBalancer(lb: LbPolicyIR, endpoints: readonly EndpointIR[], healthy: HealthCheck): Balancer {
  switch (lb.type) {
    case 'LeastConn':
      return new LeastConnBalancer(endpoints, healthy);
    case 'Ewma':
      return new EwmaBalancer(endpoints, healthy);
    case 'ConsistentHash':
      return new ConsistentHashBalancer(endpoints, healthy);
    default:
      return new RoundRobinBalancer(endpoints, healthy);
  }
}

function signature(c: ClusterIR): string {
  return c.endpoints.map((e) => `${e.address}:${e.port}:${e.ready ? 1 : 0}`).join(',') + `|${JSON.stringify(c.lb)}`;
}

/** Keeps one balancer per cluster key, rebuilt only when the cluster's endpoints or policy change. */
export class Balancers {
  private readonly byKey = new Map<string, { cluster: ClusterIR; signature: string; balancer: Balancer }>();

  constructor(private readonly healthFor: (clusterKey: string) => HealthCheck = () => () => true) {}

  get(cluster: ClusterIR): Balancer {
    const cur = this.byKey.get(cluster.key);
    // Same IR object (same snapshot): the fast path of every request.
    if (cur !== undefined && cur.cluster === cluster) return cur.balancer;
    const sig = signature(cluster);
    if (cur !== undefined && cur.signature === sig) {
      cur.cluster = cluster;
      return cur.balancer;
    }
    const balancer = createBalancer(cluster.lb, cluster.endpoints, this.healthFor(cluster.key));
    this.byKey.set(cluster.key, { cluster, signature: sig, balancer });
    return balancer;
  }

  retain(live: Set<string>): void {
    for (const key of this.byKey.keys()) if (!live.has(key)) this.byKey.delete(key);
  }
}
