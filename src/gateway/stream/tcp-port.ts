// A TCP listener port (TCPRoute): Gateway-level and route stream plugins by peer address, then the
// connection is proxied to the route's backend. Connections in flight keep the route they started
// with; a reload only changes what new connections get.

import net from 'node:net';
import type { Logger } from '../../shared/logger.js';
import { normalizeIp } from '../../shared/net.js';
import type { GatewayRuntime } from '../compile/runtime.js';
import { listenServer, type ListenerState, type PortServer, type PortSpec, type RuntimeRef } from '../listeners/listener-manager.js';
import { gateDecision, type L4Runtime } from './compile-l4.js';
import { logRefused, proxyStream, type StreamProxyDeps } from './tcp-proxy.js';

export interface StreamPortDeps extends StreamProxyDeps {
  runtimeRef: RuntimeRef;
  l4(runtime: GatewayRuntime): L4Runtime;
  logger: Logger;
}

export class TcpPortServer implements PortServer {
  readonly state: ListenerState;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly spec: PortSpec,
    private readonly deps: StreamPortDeps,
  ) {
    this.state = { port: spec.port, address: spec.address ?? '0.0.0.0', protocol: 'TCP', bound: false };
    this.server = net.createServer({ noDelay: true, keepAlive: true, allowHalfOpen: true }, (socket) => {
      try {
        this.onConnection(socket);
      } catch (err) {
        deps.logger.error({ port: spec.port, err: (err as Error).stack ?? String(err) }, 'TCP connection setup failed');
        socket.destroy();
      }
    });
    this.server.on('error', (err) => deps.logger.error({ port: spec.port, err: err.message }, 'listener error'));
  }

  listen(): Promise<void> {
    return listenServer(this.server, this.state, this.spec.address, this.deps.logger);
  }

  update(): void {}

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const startedAt = performance.now();
    const rt = this.deps.runtimeRef.current;
    const port = this.deps.l4(rt).tcpPorts.get(this.spec.port);
    const s = { client: socket, clientAddr: normalizeIp(socket.remoteAddress ?? ''), clientPort: socket.remotePort ?? 0, listenerPort: this.spec.port, startedAt };
    const route = port?.route;
    const denied = port ? gateDecision(port.gates, s.clientAddr) : 'listener is being removed';
    if (denied !== undefined) {
      logRefused(this.deps, { ...s, route }, 'Denied', denied, 'TCPRoute');
      socket.destroy();
      return;
    }
    if (route === undefined) {
      logRefused(this.deps, { ...s, route: undefined }, 'NoRoute', `no TCPRoute is attached to listener ${port!.gateway.namespace}/${port!.gateway.name} ${port!.listener.name}`, 'TCPRoute');
      socket.destroy();
      return;
    }
    const routeDenied = gateDecision(route.gates, s.clientAddr);
    if (routeDenied !== undefined) {
      logRefused(this.deps, { ...s, route }, 'Denied', routeDenied, 'TCPRoute');
      socket.destroy();
      return;
    }
    proxyStream(this.deps, { ...s, route, clusters: rt.clusters });
  }

  async close(graceMs: number): Promise<void> {
    this.server.close();
    const deadline = Date.now() + graceMs;
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const s of this.sockets) s.destroy();
  }
}
