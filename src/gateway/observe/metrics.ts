// Gateway metrics (operations.md §6 names, `edgion_` prefix). The request path only bumps plain
// numbers on long-lived stat objects; prom-client reads them at scrape time through `collect()`,
// so a request never hashes label sets. One Registry per process, built in main and passed down.

import { Counter, Gauge, Registry } from 'prom-client';

export interface BackendLabels {
  gateway_namespace: string;
  gateway_name: string;
  route_namespace: string;
  route_name: string;
  backend_namespace: string;
  backend_name: string;
  protocol: string;
}

/** Per (route, backend) counters by status class: 2xx 3xx 4xx 5xx failed. */
export class BackendStats {
  readonly counts = [0, 0, 0, 0, 0];
  constructor(readonly labels: BackendLabels) {}
  record(status: number): void {
    const i = status >= 200 && status < 600 ? Math.floor(status / 100) - 2 : 4;
    this.counts[i < 0 ? 4 : i]!++;
  }
}

/** Per plugin type: runs, rejections (a reply), errors (threw), time spent. */
export class PluginStats {
  runs = 0;
  rejections = 0;
  errors = 0;
  usSum = 0;
  record(us: number): void {
    this.runs++;
    this.usSum += us;
  }
}

const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx', 'failed'];

export class GatewayMetrics {
  readonly registry = new Registry();
  requests = 0;
  failed = 0;
  active = 0;
  requestBytes = 0;
  responseBytes = 0;
  private readonly backendStats = new Map<string, BackendStats>();
  private readonly pluginStats = new Map<string, PluginStats>();

  constructor(service = 'edgion-gateway') {
    this.registry.setDefaultLabels({ service });
    const self = this;
    new Counter({
      name: 'edgion_requests_total',
      help: 'Completed HTTP requests (proxied, rejected or answered by the gateway)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(self.requests);
      },
    });
    new Counter({
      name: 'edgion_requests_failed_total',
      help: 'Requests that ended with a gateway-made 5xx or an upstream failure',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(self.failed);
      },
    });
    new Gauge({
      name: 'edgion_ctx_active',
      help: 'Requests in flight',
      registers: [this.registry],
      collect() {
        this.set(self.active);
      },
    });
    new Counter({
      name: 'edgion_gateway_request_bytes_total',
      help: 'Request body bytes received from clients',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(self.requestBytes);
      },
    });
    new Counter({
      name: 'edgion_gateway_response_bytes_total',
      help: 'Response body bytes sent to clients',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(self.responseBytes);
      },
    });
    new Counter({
      name: 'edgion_backend_requests_total',
      help: 'Proxied requests by route, backend and status class',
      labelNames: ['gateway_namespace', 'gateway_name', 'route_namespace', 'route_name', 'backend_namespace', 'backend_name', 'protocol', 'status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const st of self.backendStats.values()) {
          for (let i = 0; i < 5; i++) {
            if (st.counts[i]) this.inc({ ...st.labels, status: STATUS_CLASSES[i]! }, st.counts[i]!);
          }
        }
      },
    });
  }

  plugin(type: string): PluginStats {
    let st = this.pluginStats.get(type);
    if (st === undefined) {
      st = new PluginStats();
      this.pluginStats.set(type, st);
      if (this.pluginStats.size === 1) this.registerPluginMetrics();
    }
    return st;
  }

  private registerPluginMetrics(): void {
    const self = this;
    const each = (name: string, help: string, read: (s: PluginStats) => number, scale = 1) =>
      new Counter({
        name,
        help,
        labelNames: ['plugin'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [plugin, st] of self.pluginStats) this.inc({ plugin }, read(st) * scale);
        },
      });
    each('edgion_plugin_runs_total', 'Plugin invocations by plugin type', (s) => s.runs);
    each('edgion_plugin_rejections_total', 'Requests a plugin answered itself (auth failure, rate limit, mock...)', (s) => s.rejections);
    each('edgion_plugin_errors_total', 'Plugin invocations that threw (the request got 500)', (s) => s.errors);
    each('edgion_plugin_duration_seconds_total', 'Time spent inside plugins (synchronous part)', (s) => s.usSum, 1e-6);
  }

  /** Long-lived stats object for a label set (survives reloads, so counters stay monotonic). */
  backend(labels: BackendLabels): BackendStats {
    const key = `${labels.gateway_namespace}/${labels.gateway_name}|${labels.route_namespace}/${labels.route_name}|${labels.backend_namespace}/${labels.backend_name}|${labels.protocol}`;
    let st = this.backendStats.get(key);
    if (st === undefined) {
      st = new BackendStats(labels);
      this.backendStats.set(key, st);
    }
    return st;
  }

  addCounter(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }

  addLabeledCounter(name: string, help: string, label: string, read: () => Map<string, number>): void {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [value, n] of read()) this.inc({ [label]: value }, n);
      },
    });
  }

  addGauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}
