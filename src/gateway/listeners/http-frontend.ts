// The HTTP side of a listener port, independent of how bytes arrive: an HTTP/1.1 server and an
// HTTP/2 server that never listen themselves. The port server hands each accepted connection to
// one of them (plain: by sniffing the HTTP/2 preface; TLS: by ALPN). HTTP/1.1 connections start on
// the gateway's own server path (h1-server.ts), which gives node:http any connection whose request
// it does not take; EDGION_HTTP1_SERVER=node gives node:http every connection.

import http from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { GatewayRuntime, HttpPortRuntime, ListenerSettings } from '../compile/runtime.js';
import type { HttpProxy } from '../proxy/http-proxy.js';
import { answerClientError, type RejectLogger } from '../proxy/client-errors.js';
import type { RuntimeRef } from './listener-manager.js';
import { H1Server, type H1ServerSettings } from './h1-server.js';
import type { WriteBatch } from '../net/write-batch.js';

export interface FrontendDeps {
  runtimeRef: RuntimeRef;
  proxy: HttpProxy;
  rejects: RejectLogger;
  /** Connection-level filter (Gateway stream plugins) for plain ports; false = close at once. */
  acceptConnection?: (port: number, socket: Socket) => boolean;
  /** Answers on the own HTTP/1.1 path leave together at the end of each event-loop turn. */
  writes?: WriteBatch;
}

export class HttpFrontend {
  readonly http1: http.Server;
  readonly http2: http2.Http2Server;
  /** The own HTTP/1.1 path; undefined when node:http serves every HTTP/1.1 connection. */
  private readonly fast: H1Server | undefined;
  /** Set when the port left the configuration: remaining requests get Connection: close. */
  closing = false;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  constructor(
    private readonly port: number,
    private readonly tls: boolean,
    settings: ListenerSettings,
    private readonly deps: FrontendDeps,
  ) {
    this.http1 = http.createServer({
      requireHostHeader: false, // answered by the proxy, so the rejection is logged like any other
      maxHeaderSize: settings.maxHeaderBytes,
      joinDuplicateHeaders: false,
      keepAlive: true,
      // Header and request timeouts are enforced by a periodic sweep; check often enough that a
      // slow client gets its 408 close to the configured time.
      connectionsCheckingInterval: 500,
    });
    this.http1.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.onRequest(req, res));
    this.http1.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.http1.on('clientError', (err: Error & { code?: string }, socket: Socket) => answerClientError(err, socket, port, deps.rejects));
    // Node starts its header/request timeout checks when a server emits 'listening'; these servers
    // never listen (connections are handed to them), so start the checks explicitly.
    this.http1.emit('listening');

    this.http2 = http2.createServer({
      maxSessionMemory: 64,
      maxHeaderListPairs: settings.maxHeaderCount + 4, // + the four pseudo-headers
      settings: { maxConcurrentStreams: 1000, maxHeaderListSize: settings.maxHeaderBytes },
    });
    this.http2.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => this.onRequest(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse));
    this.http2.on('session', (s: http2.ServerHttp2Session) => {
      this.sessions.add(s);
      s.once('close', () => this.sessions.delete(s));
    });
    this.http2.on('sessionError', () => undefined);
    if (process.env.EDGION_HTTP1_SERVER !== 'node') {
      const frontend = this;
      this.fast = new H1Server(fastSettings(settings), {
        onRequest: (req, res) => this.onRequest(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse),
        handOver: (socket) => this.http1.emit('connection', socket),
        onHeadersTimeout: (socket) => answerClientError(Object.assign(new Error('headers timeout'), { code: 'ERR_HTTP_HEADERS_TIMEOUT' }), socket, port, deps.rejects),
        get closing() {
          return frontend.closing;
        },
        writes: deps.writes,
      });
    }
    this.update(settings);
  }

  update(s: ListenerSettings): void {
    // One more than the limit, so the proxy sees that the limit was crossed and answers 431.
    this.http1.maxHeadersCount = s.maxHeaderCount + 1;
    // The same limits on both HTTP/1.1 paths (the own path's settings are node:http's).
    const limits = fastSettings(s);
    this.http1.keepAliveTimeout = limits.keepAliveTimeoutMs;
    this.http1.headersTimeout = limits.headersTimeoutMs;
    this.http1.requestTimeout = limits.requestTimeoutMs;
    this.http1.maxRequestsPerSocket = limits.maxRequestsPerSocket;
    this.http2.setTimeout(s.clientKeepaliveTimeoutMs);
    if (this.fast !== undefined) this.fast.settings = limits;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.closing && 'shouldKeepAlive' in res) res.shouldKeepAlive = false;
    const rt: GatewayRuntime = this.deps.runtimeRef.current;
    const pr: HttpPortRuntime | undefined = rt.httpPorts.get(this.port);
    if (pr === undefined) {
      res.writeHead(503, { server: 'edgion', 'content-type': 'text/plain; charset=utf-8' });
      res.end(`503 Service Unavailable: listener on port ${this.port} is being removed\n`);
      return;
    }
    this.deps.proxy.handle(req, res, rt, pr, this.tls);
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const rt: GatewayRuntime = this.deps.runtimeRef.current;
    const pr = rt.httpPorts.get(this.port);
    if (pr === undefined) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nServer: edgion\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.deps.proxy.handleUpgrade(req, socket, head, rt, pr, this.tls);
  }

  /** Hands an accepted connection to HTTP/1.1 or HTTP/2. */
  accept(socket: Duplex, h2: boolean): void {
    if (h2) this.http2.emit('connection', socket);
    else if (this.fast !== undefined) this.fast.accept(socket as Socket);
    else this.http1.emit('connection', socket);
  }

  /**
   * Lets requests in flight finish and closes connections as they go idle; whatever is still open
   * after `graceMs` is cut. `openConnections` tells how many accepted sockets are still open.
   */
  async close(graceMs: number, openConnections: () => number): Promise<void> {
    this.closing = true;
    for (const s of this.sessions) s.close(); // HTTP/2: GOAWAY, streams in flight finish
    const deadline = Date.now() + graceMs;
    while (openConnections() > 0 && Date.now() < deadline) {
      this.http1.closeIdleConnections();
      this.fast?.closeIdle();
      await new Promise((r) => setTimeout(r, 25));
    }
    this.http1.closeAllConnections();
    this.fast?.closeAll();
    for (const s of this.sessions) s.destroy();
  }
}

/** The HTTP/1.1 limits of a listener, as node:http and the own server path take them. */
function fastSettings(s: ListenerSettings): H1ServerSettings {
  return {
    maxHeaderBytes: s.maxHeaderBytes,
    maxHeaderCount: s.maxHeaderCount,
    keepAliveTimeoutMs: s.clientKeepaliveTimeoutMs,
    headersTimeoutMs: Math.min(s.clientReadTimeoutMs, 60_000),
    maxRequestsPerSocket: s.keepaliveRequestLimit > 0 ? s.keepaliveRequestLimit : 0,
    requestTimeoutMs: s.clientReadTimeoutMs * 5,
  };
}
