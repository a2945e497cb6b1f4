// Endpoint selection inside a cluster. State (round-robin position) lives per cluster key and
// survives snapshots whose endpoints did not change.

import type { ClusterIR, EndpointIR } from '../../ir/index.js';

export interface Balancer {
  /** Picks a ready endpoint, avoiding `exclude` (endpoints that already failed) when possible. */
  pick(exclude?: readonly EndpointIR[]): EndpointIR | undefined;
  readonly endpoints: readonly EndpointIR[];
}

export class RoundRobinBalancer implements Balancer {
  private next = 0;
  readonly endpoints: readonly EndpointIR[];

  constructor(endpoints: readonly EndpointIR[]) {
    // Sorted by address so every worker and every reload walks the same order.
    this.endpoints = endpoints
      .filter((e) => e.ready)
      .slice()
      .sort((a, b) => (a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1));
  }

  pick(exclude?: readonly EndpointIR[]): EndpointIR | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 0) return undefined;
    for (let i = 0; i < n; i++) {
      const ep = eps[this.next++ % n]!;
      if (!exclude || exclude.length === 0 || !exclude.includes(ep)) return ep;
    }
    return eps[this.next++ % n];
  }
}

function endpointsSignature(c: ClusterIR): string {
  return c.endpoints.map((e) => `${e.address}:${e.port}:${e.ready ? 1 : 0}`).join(',') + `|${JSON.stringify(c.lb)}`;
}

/** Keeps one balancer per cluster key, rebuilt only when the cluster's endpoints or policy change. */
export class Balancers {
  private readonly byKey = new Map<string, { cluster: ClusterIR; signature: string; balancer: Balancer }>();

  get(cluster: ClusterIR): Balancer {
    const cur = this.byKey.get(cluster.key);
    // Same IR object (same snapshot): the fast path of every request.
    if (cur !== undefined && cur.cluster === cluster) return cur.balancer;
    const signature = endpointsSignature(cluster);
    if (cur !== undefined && cur.signature === signature) {
      cur.cluster = cluster;
      return cur.balancer;
    }
    const balancer = new RoundRobinBalancer(cluster.endpoints);
    this.byKey.set(cluster.key, { cluster, signature, balancer });
    return balancer;
  }

  retain(live: Set<string>): void {
    for (const key of this.byKey.keys()) if (!live.has(key)) this.byKey.delete(key);
  }
}
