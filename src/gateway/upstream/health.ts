// Endpoint health (resources.md §7.12, DECISIONS.md §21): active HTTP or TCP checks on an interval
// with healthy/unhealthy thresholds (an endpoint starts healthy), and passive ejection after
// consecutive connection failures seen by real traffic. Balancers skip unhealthy endpoints.
// State is kept per cluster and endpoint across snapshots.

import net from 'node:net';
import { Agent, request } from 'undici';
import type { ActiveHealthCheckIR, ClusterIR, EndpointIR, PassiveHealthCheckIR } from '../../ir/index.js';
import type { Logger } from '../../shared/logger.js';
import { endpointKey, type HealthCheck } from './balancer.js';

export interface EndpointHealth {
  address: string;
  port: number;
  /** Result of active checks (true when there are none). */
  activeHealthy: boolean;
  successes: number;
  failures: number;
  /** Passive ejection: no traffic until this time (epoch ms). */
  ejectedUntil: number;
  passiveFailures: number;
  lastError?: string;
  lastCheckAt?: number;
}

/** Passive ejection when a cluster configures none: connection failures only, conservative. */
const DEFAULT_PASSIVE: PassiveHealthCheckIR = { consecutiveFailures: 5, ejectionMs: 10_000 };

class ClusterHealth {
  readonly states = new Map<string, EndpointHealth>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    public cluster: ClusterIR,
    private readonly agent: Agent,
    private readonly logger: Logger,
  ) {}

  update(cluster: ClusterIR): void {
    this.cluster = cluster;
    const live = new Set<string>();
    for (const ep of cluster.endpoints) {
      const k = endpointKey(ep);
      live.add(k);
      if (!this.states.has(k)) this.states.set(k, { address: ep.address, port: ep.port, activeHealthy: true, successes: 0, failures: 0, ejectedUntil: 0, passiveFailures: 0 });
    }
    for (const k of this.states.keys()) if (!live.has(k)) this.states.delete(k);
    const active = cluster.healthCheck?.active;
    if (!active) {
      this.stop();
      for (const s of this.states.values()) s.activeHealthy = true;
      return;
    }
    if (!this.timer) {
      this.timer = setInterval(() => void this.round(), active.intervalMs);
      this.timer.unref();
      void this.round();
    }
  }

  get passive(): PassiveHealthCheckIR {
    return this.cluster.healthCheck?.passive ?? DEFAULT_PASSIVE;
  }

  healthy(ep: EndpointIR): boolean {
    const s = this.states.get(endpointKey(ep));
    if (s === undefined) return true;
    return s.activeHealthy && (s.ejectedUntil === 0 || s.ejectedUntil <= Date.now());
  }

  private async round(): Promise<void> {
    const active = this.cluster.healthCheck?.active;
    if (!active || this.running) return;
    this.running = true;
    try {
      await Promise.all([...this.states.values()].map((s) => this.check(s, active)));
    } finally {
      this.running = false;
    }
  }

  private async check(s: EndpointHealth, a: ActiveHealthCheckIR): Promise<void> {
    const port = a.port ?? s.port;
    let ok = false;
    let why = '';
    try {
      if (a.type === 'tcp') {
        await tcpProbe(s.address, port, a.timeoutMs);
        ok = true;
      } else {
        const host = s.address.includes(':') ? `[${s.address}]` : s.address;
        const res = await request(`http://${host}:${port}${a.path}`, {
          method: 'GET',
          headers: { host: a.host ?? `${host}:${port}`, 'user-agent': 'edgion-health-check' },
          headersTimeout: a.timeoutMs,
          bodyTimeout: a.timeoutMs,
          dispatcher: this.agent,
          signal: AbortSignal.timeout(a.timeoutMs),
        });
        await res.body.dump();
        ok = a.expectedStatuses.includes(res.statusCode);
        if (!ok) why = `HTTP ${res.statusCode}`;
      }
    } catch (err) {
      why = (err as { code?: string }).code ?? (err as Error).message;
    }
    s.lastCheckAt = Date.now();
    const name = `${this.cluster.namespace}/${this.cluster.name}${this.cluster.port ? ':' + this.cluster.port : ''}`;
    if (ok) {
      s.successes++;
      s.failures = 0;
      if (!s.activeHealthy && s.successes >= a.healthyThreshold) {
        s.activeHealthy = true;
        delete s.lastError;
        this.logger.info({ cluster: name, endpoint: `${s.address}:${port}` }, `endpoint ${s.address}:${s.port} of ${name} is healthy again`);
      }
    } else {
      s.failures++;
      s.successes = 0;
      s.lastError = why;
      if (s.activeHealthy && s.failures >= a.unhealthyThreshold) {
        s.activeHealthy = false;
        this.logger.warn({ cluster: name, endpoint: `${s.address}:${port}`, reason: why }, `endpoint ${s.address}:${s.port} of ${name} is unhealthy after ${s.failures} failed checks (${why}); it gets no traffic until it recovers`);
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve();
    });
    s.once('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

export class UpstreamHealth {
  private readonly clusters = new Map<string, ClusterHealth>();
  private readonly agent = new Agent({ keepAliveTimeout: 1000, connections: 4 });

  constructor(private readonly logger: Logger) {}

  /** The health check balancers of `clusterKey` consult on every pick. */
  healthFor(clusterKey: string): HealthCheck {
    return (ep) => this.clusters.get(clusterKey)?.healthy(ep) ?? true;
  }

  apply(clusters: Iterable<ClusterIR>): void {
    const live = new Set<string>();
    for (const c of clusters) {
      live.add(c.key);
      let h = this.clusters.get(c.key);
      if (!h) this.clusters.set(c.key, (h = new ClusterHealth(c, this.agent, this.logger)));
      h.update(c);
    }
    for (const [k, h] of this.clusters) {
      if (live.has(k)) continue;
      h.stop();
      this.clusters.delete(k);
    }
  }

  /** A connection to `ep` failed: after enough in a row the endpoint is ejected for a while. */
  failure(cluster: ClusterIR, ep: EndpointIR, why: string): void {
    const h = this.clusters.get(cluster.key);
    const s = h?.states.get(endpointKey(ep));
    if (!h || !s) return;
    s.passiveFailures++;
    s.lastError = why;
    const p = h.passive;
    if (s.passiveFailures >= p.consecutiveFailures && s.ejectedUntil <= Date.now()) {
      s.ejectedUntil = Date.now() + p.ejectionMs;
      s.passiveFailures = 0;
      this.logger.warn(
        { cluster: `${cluster.namespace}/${cluster.name}`, endpoint: endpointKey(ep), reason: why, ejectionMs: p.ejectionMs },
        `endpoint ${endpointKey(ep)} of ${cluster.namespace}/${cluster.name} ejected for ${p.ejectionMs} ms after ${p.consecutiveFailures} consecutive failures (${why})`,
      );
    }
  }

  success(cluster: ClusterIR, ep: EndpointIR): void {
    const s = this.clusters.get(cluster.key)?.states.get(endpointKey(ep));
    if (s && s.passiveFailures) s.passiveFailures = 0;
  }

  /** Every endpoint's state, for the admin API. */
  report(): { cluster: string; endpoints: (EndpointHealth & { healthy: boolean })[] }[] {
    const now = Date.now();
    return [...this.clusters.values()].map((h) => ({
      cluster: h.cluster.key,
      endpoints: [...h.states.values()].map((s) => ({ ...s, healthy: s.activeHealthy && s.ejectedUntil <= now })),
    }));
  }

  close(): void {
    for (const h of this.clusters.values()) h.stop();
    this.clusters.clear();
    void this.agent.close();
  }
}
