// Binds the HTTP listener ports a runtime asks for and unbinds the ones it no longer has. Servers
// outlive snapshots: a reload that keeps a port keeps its open keep-alive connections, and every
// request reads the runtime that is current when it arrives.

import http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/logger.js';
import type { GatewayRuntime, HttpPortRuntime, ListenerSettings } from '../compile/runtime.js';
import type { HttpProxy } from '../proxy/http-proxy.js';
import type { RejectLogger } from '../proxy/client-errors.js';
import { answerClientError } from '../proxy/client-errors.js';

export interface ListenerState {
  port: number;
  address: string;
  protocol: string;
  bound: boolean;
  error?: string;
}

interface BoundServer {
  key: string;
  port: number;
  address: string | undefined;
  server: http.Server;
  state: ListenerState;
  /** Set when the port left the configuration: remaining requests are answered with Connection: close. */
  closing: boolean;
}

export interface RuntimeRef {
  current: GatewayRuntime;
}

export class HttpListeners {
  private readonly servers = new Map<string, BoundServer>();

  constructor(
    private readonly runtimeRef: RuntimeRef,
    private readonly proxy: HttpProxy,
    private readonly logger: Logger,
    private readonly rejects: RejectLogger,
    /** Overrides every listener's bind address (flag `--bind-address`). */
    private readonly bindOverride?: string,
  ) {}

  /** Makes the bound set match `runtime`; resolves once every new bind succeeded or failed. */
  async apply(runtime: GatewayRuntime): Promise<ListenerState[]> {
    const wanted = new Map<string, { port: HttpPortRuntime; address: string | undefined }>();
    for (const port of runtime.httpPorts.values()) {
      const addresses = this.bindOverride ? [this.bindOverride] : port.bindAddresses.length ? port.bindAddresses : [undefined];
      for (const address of addresses) wanted.set(`${address ?? '*'}:${port.port}`, { port, address });
    }
    for (const [key, b] of this.servers) {
      if (!wanted.has(key)) {
        this.servers.delete(key);
        this.logger.info({ port: b.port, address: b.address ?? '*' }, 'closing listener (no longer configured)');
        b.closing = true;
        closeGracefully(b.server);
      }
    }
    const binds: Promise<void>[] = [];
    for (const [key, { port, address }] of wanted) {
      const existing = this.servers.get(key);
      if (existing) {
        tune(existing.server, port.connection);
        if (!existing.state.bound) binds.push(this.listen(existing));
        continue;
      }
      const b = this.create(key, port, address);
      this.servers.set(key, b);
      binds.push(this.listen(b));
    }
    await Promise.all(binds);
    return this.states();
  }

  states(): ListenerState[] {
    return [...this.servers.values()].map((b) => ({ ...b.state }));
  }

  private create(key: string, port: HttpPortRuntime, address: string | undefined): BoundServer {
    const s = port.connection;
    const server = http.createServer({
      requireHostHeader: false, // answered by the proxy, so the rejection is logged like any other
      maxHeaderSize: s.maxHeaderBytes,
      joinDuplicateHeaders: false,
      keepAlive: true,
    });
    tune(server, s);
    const portNumber = port.port;
    const b: BoundServer = { key, port: portNumber, address, server, state: { port: portNumber, address: address ?? '0.0.0.0', protocol: port.tls ? 'HTTPS' : 'HTTP', bound: false }, closing: false };
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (b.closing) res.shouldKeepAlive = false;
      const rt = this.runtimeRef.current;
      const pr = rt.httpPorts.get(portNumber);
      if (pr === undefined) {
        res.writeHead(503, { server: 'edgion', 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end(`503 Service Unavailable: listener on port ${portNumber} is being removed\n`);
        return;
      }
      this.proxy.handle(req, res, rt, pr, false);
    });
    server.on('clientError', (err: Error & { code?: string }, socket: Socket) => answerClientError(err, socket, portNumber, this.rejects));
    return b;
  }

  private listen(b: BoundServer): Promise<void> {
    return new Promise((resolve) => {
      const onError = (err: Error & { code?: string }) => {
        b.server.off('listening', onListening);
        b.state.bound = false;
        b.state.error = err.code === 'EADDRINUSE' ? `port ${b.port} is already in use` : err.message;
        this.logger.error({ port: b.port, address: b.address ?? '*', err: err.message }, `cannot bind listener port ${b.port}`);
        resolve();
      };
      const onListening = () => {
        b.server.off('error', onError);
        b.state.bound = true;
        delete b.state.error;
        this.logger.info({ port: b.port, address: b.address ?? '*' }, `listening on ${b.address ?? '*'}:${b.port}`);
        resolve();
      };
      b.server.once('error', onError);
      b.server.once('listening', onListening);
      b.server.listen({ port: b.port, ...(b.address ? { host: b.address } : {}) });
    });
  }

  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then cuts what is left. */
  async close(graceMs: number): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((b) => closeGracefully(b.server, graceMs)));
  }
}

function tune(server: http.Server, s: ListenerSettings): void {
  server.keepAliveTimeout = s.clientKeepaliveTimeoutMs;
  server.headersTimeout = Math.min(s.clientReadTimeoutMs, 60_000);
  server.requestTimeout = s.clientReadTimeoutMs * 5;
  server.maxRequestsPerSocket = s.keepaliveRequestLimit > 0 ? s.keepaliveRequestLimit : 0;
}

function closeGracefully(server: http.Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
