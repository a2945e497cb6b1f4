// The TLS and layer-4 side of a worker's data plane: the port servers for TLS, TCP and UDP
// listeners (registered with the ListenerManager by family), the compiled L4 tables of each
// runtime, the ssl/tcp/udp logs and stream metrics, the request guards for HTTPS and ACME, and the
// Gateway-level stream plugins on plain HTTP ports.

import type net from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../../shared/logger.js';
import { normalizeIp } from '../../shared/net.js';
import type { GatewayRuntime } from '../compile/runtime.js';
import type { FrontendDeps } from '../listeners/http-frontend.js';
import { HttpsPortServer } from '../listeners/https-port.js';
import type { PortLister, PortServerFactory, PortSpec } from '../listeners/listener-manager.js';
import type { RequestGuard } from '../proxy/http-proxy.js';
import type { Balancers } from '../upstream/balancer.js';
import { CertStore } from '../tls/cert-store.js';
import { acmeChallengeGuard, tlsGuard, unmatchedHostGuard } from '../tls/tls-guards.js';
import { compileL4, gateDecision, type L4Runtime } from './compile-l4.js';
import { StreamLogs, StreamMetrics } from './stream-observe.js';
import { TcpPortServer } from './tcp-port.js';
import { UdpPortServer } from './udp-port.js';

export interface StreamPlaneOptions {
  workDir: string;
  logger: Logger;
  registry: Registry;
  balancers: Balancers;
}

export class StreamPlane {
  readonly logs: StreamLogs;
  readonly metrics: StreamMetrics;
  readonly certs = new CertStore();
  private readonly compiled = new WeakMap<GatewayRuntime, L4Runtime>();
  private frontend: FrontendDeps | undefined;

  constructor(private readonly opts: StreamPlaneOptions) {
    this.logs = new StreamLogs(opts.workDir);
    this.metrics = new StreamMetrics(opts.registry, this.logs);
  }

  /** The L4 tables of a runtime, compiled on first use (once per snapshot). */
  readonly l4 = (rt: GatewayRuntime): L4Runtime => {
    let out = this.compiled.get(rt);
    if (out === undefined) {
      out = compileL4(rt);
      this.compiled.set(rt, out);
    }
    return out;
  };

  /** HTTP proxy guards: TLS facts, SNI/Host check and client certificate headers; ACME HTTP-01. */
  guards(): RequestGuard[] {
    return [tlsGuard, acmeChallengeGuard(this.l4)];
  }

  /** For requests no listener accepts: a TLS request whose Host is not the SNI gets 421, not 404. */
  readonly unmatchedHostGuard: RequestGuard = unmatchedHostGuard;

  /** Gateway-level stream plugins on plain HTTP ports (TLS, TCP and UDP ports check their own). */
  readonly acceptConnection = (port: number, socket: net.Socket): boolean => {
    const rt = this.frontend?.runtimeRef.current;
    if (rt === undefined) return true;
    const gates = this.l4(rt).httpGates.get(port);
    if (gates === undefined || gates.length === 0) return true;
    if (gateDecision(gates, normalizeIp(socket.remoteAddress ?? '')) === undefined) return true;
    this.metrics.refuse('stream_plugin');
    return false;
  };

  /** Port server factories by family; call once the HTTP frontend exists. */
  factories(frontend: FrontendDeps): Record<string, PortServerFactory> {
    this.frontend = frontend;
    const base = { balancers: this.opts.balancers, logs: this.logs, metrics: this.metrics, l4: this.l4, logger: this.opts.logger };
    const tlsDeps = { ...base, frontend, certs: this.certs };
    const streamDeps = { ...base, runtimeRef: frontend.runtimeRef };
    return {
      https: (spec, rt) => new HttpsPortServer(spec, rt, tlsDeps),
      tcp: (spec) => new TcpPortServer(spec, streamDeps),
      udp: (spec) => new UdpPortServer(spec, streamDeps),
    };
  }

  /** Binds of the TLS (HTTPS and TLS listeners), TCP and UDP ports of a runtime. */
  readonly portSpecs: PortLister = (rt, bindOverride) => {
    const l4 = this.l4(rt);
    const out: PortSpec[] = [];
    const add = (family: string, protocol: string, port: number, bindAddresses: string[]) => {
      const addresses = bindOverride ? [bindOverride] : bindAddresses.length ? bindAddresses : [undefined];
      for (const address of addresses) out.push({ family, port, address, protocol });
    };
    for (const p of l4.tlsPorts.values()) add('https', p.http ? 'HTTPS' : 'TLS', p.port, p.bindAddresses);
    for (const p of l4.tcpPorts.values()) add('tcp', 'TCP', p.port, p.bindAddresses);
    for (const p of l4.udpPorts.values()) add('udp', 'UDP', p.port, p.bindAddresses);
    return out;
  };

  /** After a runtime is live: forget TLS contexts no port uses any more. */
  applied(rt: GatewayRuntime): void {
    this.certs.retain(this.l4(rt));
  }

  close(): Promise<void> {
    return this.logs.close();
  }
}
