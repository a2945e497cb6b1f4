// An HTTPS listener port: terminates TLS (certificate chosen by SNI), then hands the connection to
// HTTP/2 or HTTP/1.1 by ALPN.

import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../shared/logger.js';
import type { GatewayRuntime } from '../compile/runtime.js';
import type { CertStore } from '../tls/cert-store.js';
import { HttpFrontend, type FrontendDeps } from './http-frontend.js';
import { listenServer, type ListenerState, type PortServer, type PortSpec } from './listener-manager.js';

export class HttpsPortServer implements PortServer {
  readonly state: ListenerState;
  private readonly server: tls.Server;
  private readonly frontend: HttpFrontend;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly spec: PortSpec,
    runtime: GatewayRuntime,
    private readonly deps: FrontendDeps,
    private readonly certs: CertStore,
    private readonly logger: Logger,
  ) {
    const port = runtime.httpPorts.get(spec.port)!;
    this.state = { port: spec.port, address: spec.address ?? '0.0.0.0', protocol: spec.protocol, bound: false };
    this.frontend = new HttpFrontend(spec.port, true, port.connection, deps);
    this.server = tls.createServer({
      ALPNProtocols: port.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
      SNICallback: (servername, cb) => {
        const ctx = this.certs.select(this.deps.runtimeRef.current, spec.port, servername);
        if (ctx) cb(null, ctx);
        else cb(new Error(`no certificate for ${servername || '(no SNI)'} on port ${spec.port}`));
      },
    });
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('secureConnection', (socket: tls.TLSSocket) => this.frontend.accept(socket, socket.alpnProtocol === 'h2'));
    this.server.on('tlsClientError', () => undefined);
    this.server.on('error', (err) => logger.error({ port: spec.port, err: err.message }, 'listener error'));
  }

  listen(): Promise<void> {
    return listenServer(this.server, this.state, this.spec.address, this.logger);
  }

  update(runtime: GatewayRuntime): void {
    const port = runtime.httpPorts.get(this.spec.port);
    if (port) this.frontend.update(port.connection);
  }

  async close(graceMs: number): Promise<void> {
    this.server.close();
    await this.frontend.close(graceMs, () => this.sockets.size);
    for (const s of this.sockets) s.destroy();
  }
}
