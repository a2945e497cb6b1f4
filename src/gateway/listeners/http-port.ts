// A plain-text HTTP listener port: accepts TCP connections and hands each to HTTP/1.1, or to
// HTTP/2 when the client opens with the HTTP/2 connection preface (h2c with prior knowledge).

import net from 'node:net';
import type { Logger } from '../../shared/logger.js';
import type { GatewayRuntime } from '../compile/runtime.js';
import { HttpFrontend, type FrontendDeps } from './http-frontend.js';
import { listenServer, type ListenerState, type PortServer, type PortSpec } from './listener-manager.js';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export class HttpPortServer implements PortServer {
  readonly state: ListenerState;
  private readonly server: net.Server;
  private readonly frontend: HttpFrontend;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly spec: PortSpec,
    runtime: GatewayRuntime,
    deps: FrontendDeps,
    private readonly logger: Logger,
  ) {
    const port = runtime.httpPorts.get(spec.port)!;
    this.state = { port: spec.port, address: spec.address ?? '0.0.0.0', protocol: spec.protocol, bound: false };
    this.frontend = new HttpFrontend(spec.port, false, port.connection, deps);
    this.http2Enabled = port.http2;
    this.server = net.createServer({ noDelay: true, keepAlive: true }, (socket) => this.onConnection(socket));
    this.maxConnections = port.connection.maxConnections;
    this.server.on('error', (err) => logger.error({ port: spec.port, err: err.message }, 'listener error'));
  }

  private onConnection(socket: net.Socket): void {
    // Counted here rather than with net.Server.maxConnections, which cluster workers do not honour.
    if (this.maxConnections > 0 && this.sockets.size >= this.maxConnections) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (!this.http2Enabled) return this.frontend.accept(socket, false);
    // Read the first bytes to tell HTTP/2 prior knowledge from HTTP/1.x, then give them back.
    socket.once('readable', () => {
      const head: Buffer | null = socket.read();
      if (head === null) return this.frontend.accept(socket, false);
      socket.unshift(head);
      const isH2 = head.length >= 3 && head[0] === 0x50 && head[1] === 0x52 && head[2] === 0x49 && H2_PREFACE.subarray(0, Math.min(head.length, H2_PREFACE.length)).equals(head.subarray(0, Math.min(head.length, H2_PREFACE.length)));
      this.frontend.accept(socket, isH2);
    });
  }

  /** HTTP/2 (h2c) on a plain port unless the Gateway says `edgion.io/enable-http2: "false"`. */
  private http2Enabled = true;
  /** Open connections allowed (0 = no limit). */
  private maxConnections = 0;

  listen(): Promise<void> {
    return listenServer(this.server, this.state, this.spec.address, this.logger);
  }

  update(runtime: GatewayRuntime): void {
    const port = runtime.httpPorts.get(this.spec.port);
    if (!port) return;
    this.frontend.update(port.connection);
    this.http2Enabled = port.http2;
    this.maxConnections = port.connection.maxConnections;
  }

  async close(graceMs: number): Promise<void> {
    this.server.close(); // stop accepting; open connections are drained below
    await this.frontend.close(graceMs, () => this.sockets.size);
    for (const s of this.sockets) s.destroy();
  }
}
