// Everything that serves traffic in one worker process: compiled runtime, listeners, proxy,
// upstream pools, access log and metrics. A snapshot is compiled off to the side and swapped in
// with one assignment; requests in flight finish on the runtime they started with.

import path from 'node:path';
import type { Snapshot } from '../ir/index.js';
import { emptySnapshot } from '../ir/index.js';
import type { Logger } from '../shared/logger.js';
import { compileSnapshot, type CompileDeps } from './compile/compile-snapshot.js';
import type { GatewayRuntime } from './compile/runtime.js';
import { ListenerManager, type ListenerState, type PortSpec, type RuntimeRef } from './listeners/listener-manager.js';
import { HttpPortServer } from './listeners/http-port.js';
import { StreamPlane } from './stream/stream-plane.js';
import { PluginHost } from './plugins-engine/plugin-host.js';
import { PluginRunner } from './plugins-engine/plugin-steps.js';
import { ClusterCounters } from './plugins-engine/cluster-counters.js';
import { LocalCounters } from './plugins-engine/local-counters.js';
import { WebhookKeys } from './plugins-engine/webhook.js';
import { builtinRegistry } from '../plugins/registry.js';
import type { SharedCounters } from '../plugins/runtime/define-plugin.js';
import { Mirror, type MirrorStats } from './upstream/mirror.js';
import { AccessLog } from './observe/access-log.js';
import { GatewayMetrics } from './observe/metrics.js';
import { HttpProxy } from './proxy/http-proxy.js';
import { corsFilter } from './filters/cors.js';
import type { RejectInfo, RejectLogger } from './proxy/client-errors.js';
import { Balancers } from './upstream/balancer.js';
import { UpstreamHealth } from './upstream/health.js';
import { UpstreamPools } from './upstream/pools.js';
import { WriteBatch } from './net/write-batch.js';

export interface DataPlaneOptions {
  workDir: string;
  logger: Logger;
  /** Write the access log (default true). */
  accessLog?: boolean;
  bindAddress?: string;
  /** Counters shared by every worker (rate limits); a process-local store when absent. */
  counters?: SharedCounters;
}

export interface ApplyResult {
  version: number;
  listeners: ListenerState[];
  error?: string;
}

/** The HTTP and HTTPS ports of a runtime, one bind per address. */
function httpPortSpecs(runtime: GatewayRuntime, bindOverride: string | undefined): PortSpec[] {
  const out: PortSpec[] = [];
  for (const port of runtime.httpPorts.values()) {
    const addresses = bindOverride ? [bindOverride] : port.bindAddresses.length ? port.bindAddresses : [undefined];
    for (const address of addresses) out.push({ family: port.tls ? 'https' : 'http', port: port.port, address, protocol: port.tls ? 'HTTPS' : 'HTTP' });
  }
  return out;
}

export class DataPlane implements RejectLogger {
  readonly metrics = new GatewayMetrics();
  /** Answers to clients and requests to upstreams leave together at the end of each event-loop turn. */
  readonly writes = new WriteBatch(process.env.EDGION_WRITE_BATCH !== '0');
  readonly pools = new UpstreamPools(undefined, this.writes);
  readonly health: UpstreamHealth;
  readonly balancers: Balancers;
  readonly accessLog: AccessLog | undefined;
  readonly proxy: HttpProxy;
  private readonly runtimeRef: RuntimeRef;
  private readonly listeners: ListenerManager;
  /** TLS, TCP and UDP listeners, their logs and metrics (stream/stream-plane.ts). */
  readonly stream: StreamPlane;
  private readonly compileDeps: CompileDeps;
  readonly plugins: PluginHost;
  readonly mirrorStats: MirrorStats = { byStatus: new Map(), durationMsSum: 0 };
  private readonly mirrorLog: AccessLog | undefined;
  /** LinkSys webhooks behind `webhook` keys (plugins.md §3.3). */
  readonly webhooks: WebhookKeys;
  readonly pluginRunner: PluginRunner;
  private applying: Promise<ApplyResult> = Promise.resolve({ version: 0, listeners: [] });

  constructor(private readonly opts: DataPlaneOptions) {
    this.health = new UpstreamHealth(opts.logger);
    this.balancers = new Balancers((key) => this.health.healthFor(key));
    this.accessLog = opts.accessLog === false || process.env.EDGION_NO_ACCESS_LOG ? undefined : new AccessLog(path.join(opts.workDir, 'logs', 'access.log'));
    const counters = opts.counters ?? new LocalCounters();
    this.webhooks = new WebhookKeys(counters, opts.logger);
    this.mirrorLog = opts.accessLog === false ? undefined : new AccessLog(path.join(opts.workDir, 'logs', 'mirror.log'));
    const mirrorDeps = { pools: this.pools, balancers: this.balancers, logger: opts.logger, log: this.mirrorLog, stats: this.mirrorStats };
    const mirrorStep = (ir: import('../ir/index.js').RequestMirrorIR) => new Mirror(ir, mirrorDeps).step();
    this.plugins = new PluginHost({ logger: opts.logger, registry: builtinRegistry(), counters, mirrorStep, webhook: this.webhooks.resolve });
    this.pluginRunner = new PluginRunner(this.plugins, {
      stats: (type) => this.metrics.plugin(type),
      onError: (ctx, set, entry, err) => {
        const route = ctx.rule ? `HTTPRoute ${ctx.rule.routeKey} rule ${ctx.rule.ruleIndex}` : 'global plugins';
        opts.logger.error(
          { plugin: entry.type, plugins: set, at: entry.where, route, traceId: ctx.traceId, err: (err as Error)?.stack ?? String(err) },
          `plugin ${entry.type} (EdgionPlugins ${set} ${entry.where}) failed on ${route}: ${(err as Error)?.message ?? String(err)}`,
        );
      },
    });
    this.compileDeps = {
      extraFilter: (f) => {
        if (f.type === 'RequestMirror') return { request: mirrorStep(f) };
        if (f.type === 'CORS') return { request: corsFilter(f), cors: true };
        if (f.type !== 'ExtensionRef') return undefined;
        return { request: this.pluginRunner.extensionRefStep(f.pluginSet), cors: this.plugins.get(f.pluginSet)?.cors ?? false };
      },
      globalSteps: (keys) => keys.map((k) => this.pluginRunner.extensionRefStep(k)),
      globalCors: (keys) => keys.some((k) => this.plugins.get(k)?.cors ?? false),
    };
    this.stream = new StreamPlane({ workDir: opts.workDir, logger: opts.logger, registry: this.metrics.registry, balancers: this.balancers });
    this.proxy = new HttpProxy({ logger: opts.logger, accessLog: this.accessLog, metrics: this.metrics, pools: this.pools, balancers: this.balancers, plugins: this.pluginRunner, health: this.health, guards: this.stream.guards(), unmatchedHostGuard: this.stream.unmatchedHostGuard });
    this.runtimeRef = { current: compileSnapshot(emptySnapshot()) };
    const frontend = { runtimeRef: this.runtimeRef, proxy: this.proxy, rejects: this, acceptConnection: this.stream.acceptConnection, writes: this.writes };
    this.listeners = new ListenerManager(
      {
        http: (spec, rt) => new HttpPortServer(spec, rt, frontend, opts.logger),
        ...this.stream.factories(frontend),
      },
      [httpPortSpecs, this.stream.portSpecs],
      opts.logger,
      opts.bindAddress,
    );
    if (counters instanceof ClusterCounters) {
      // How rate limits are decided in this worker: locally, or by asking the primary (and in how many messages).
      this.metrics.addCounter('edgion_rate_limit_local_takes_total', 'Rate-limit units this worker took without asking the primary (its own slice, or batches it holds)', () => counters.localHits);
      this.metrics.addCounter('edgion_rate_limit_leases_total', 'Batches of rate-limit units asked from the primary', () => counters.roundTrips);
      this.metrics.addCounter('edgion_rate_limit_lease_messages_total', 'Messages to the primary carrying those asks (one per event-loop turn)', () => counters.messages);
    }
    this.metrics.addCounter('edgion_access_log_dropped_total', 'Access log lines dropped because the disk could not keep up', () => this.accessLog?.dropped ?? 0);
    this.metrics.addLabeledCounter('edgion_mirror_requests_total', 'Mirrored requests by outcome', 'status', () => this.mirrorStats.byStatus);
    this.metrics.addGauge('edgion_config_version', 'Version of the configuration snapshot in use', () => this.runtimeRef.current.version);
  }

  get runtime(): GatewayRuntime {
    return this.runtimeRef.current;
  }

  /** Applies snapshots one at a time, in arrival order. */
  apply(snapshot: Snapshot): Promise<ApplyResult> {
    this.applying = this.applying.then(() => this.applyNow(snapshot));
    return this.applying;
  }

  private async applyNow(snapshot: Snapshot): Promise<ApplyResult> {
    let runtime: GatewayRuntime;
    try {
      this.webhooks.update(snapshot.linkSys);
      this.plugins.prepare(snapshot);
      runtime = compileSnapshot(snapshot, this.compileDeps);
    } catch (err) {
      // The controller validated everything; a failure here is a bug. Keep serving the last good runtime.
      this.opts.logger.error({ version: snapshot.version, err: (err as Error).message }, 'cannot compile configuration snapshot; keeping the previous one');
      return { version: this.runtimeRef.current.version, listeners: this.listeners.states(), error: (err as Error).message };
    }
    this.runtimeRef.current = runtime;
    const listeners = await this.listeners.apply(runtime);
    this.retainUpstreams(runtime);
    this.health.apply(runtime.clusters.values());
    this.stream.applied(runtime);
    return { version: runtime.version, listeners };
  }

  private retainUpstreams(runtime: GatewayRuntime): void {
    const liveClusters = new Set(runtime.clusters.keys());
    this.balancers.retain(liveClusters);
    const livePools = new Set<string>();
    for (const c of runtime.clusters.values()) {
      for (const ep of c.endpoints) {
        for (const port of runtime.httpPorts.values()) {
          for (const s of [port.connection, ...port.listeners.values().map((l) => l.settings)]) {
            const settings = { connectTimeoutMs: s.backendConnectTimeoutMs, idleTimeoutMs: s.backendIdleTimeoutMs };
            livePools.add(UpstreamPools.keyOf(c, ep, settings));
            livePools.add(UpstreamPools.keyOf(c, ep, settings, true));
          }
        }
      }
    }
    this.pools.retain(livePools);
  }

  /** Access-log line for a request node's parser refused (see client-errors.ts). */
  reject(info: RejectInfo): void {
    this.metrics.requests++;
    if (info.status >= 500) this.metrics.failed++;
    const line = `{"ts":${Date.now()},"request_info":{"client-addr":${JSON.stringify(info.clientAddr)},"client-port":${info.clientPort},"remote-addr":${JSON.stringify(info.clientAddr)},"x-trace-id":null,"host":"","path":"","status":${info.status},"listener-port":${info.port}},"errors":[${JSON.stringify(info.error)}],"reason":${JSON.stringify(info.reason)},"backend_context":null}`;
    this.accessLog?.write(line);
  }

  /** Graceful stop: no new connections, in-flight requests finish within `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.proxy.draining = true;
    await this.listeners.close(graceMs);
    this.health.close();
    await this.pools.close();
    this.webhooks.close();
    await this.accessLog?.close();
    await this.mirrorLog?.close();
    await this.stream.close();
  }
}
