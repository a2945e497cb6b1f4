// A TLS listener port: HTTPS listeners, TLS listeners (TLSRoute Terminate and Passthrough), or both
// on one port, told apart by SNI. Each connection: Gateway-level stream plugins (by peer address),
// then the ClientHello is read (not answered) to learn the SNI; a passthrough route gets the raw
// bytes; otherwise the certificate and TLS policy for that name are chosen (EdgionTls exact, then
// wildcard, then the listener's certificateRefs), the handshake runs with that policy's versions,
// ciphers and client-certificate rules, and the decrypted stream goes to HTTP/1.1 or HTTP/2 (ALPN)
// or to a TLSRoute's backend. One ssl.log line per handshake.

import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../shared/logger.js';
import { normalizeIp } from '../../shared/net.js';
import type { GatewayRuntime } from '../compile/runtime.js';
import type { CertStore } from '../tls/cert-store.js';
import { ALERT_UNRECOGNIZED_NAME, MAX_HELLO_BYTES, parseClientHello, tlsAlert, type ClientHello } from '../tls/client-hello.js';
import { checkClientCertificate } from '../tls/client-cert.js';
import { kTlsConn, newTlsId, type TlsConnInfo } from '../tls/conn-info.js';
import { gateDecision, selectPolicy, type L4Runtime, type TlsListenerRuntime, type TlsPolicy, type TlsPortRuntime } from '../stream/compile-l4.js';
import { logRefused, proxyStream, type StreamProxyDeps } from '../stream/tcp-proxy.js';
import { sslLine, type SslLogLine } from '../stream/stream-observe.js';
import { HttpFrontend, type FrontendDeps } from './http-frontend.js';
import { listenServer, type ListenerState, type PortServer, type PortSpec } from './listener-manager.js';

export interface TlsPortDeps extends StreamProxyDeps {
  frontend: FrontendDeps;
  certs: CertStore;
  l4(runtime: GatewayRuntime): L4Runtime;
  logger: Logger;
}

const HTTP_ALPN = ['h2', 'http/1.1'];
const kSecured = Symbol('edgion.tls-secured');
const HTTP1_ALPN = ['http/1.1'];

interface Handshake {
  socket: tls.TLSSocket;
  timer: NodeJS.Timeout;
  auth: TlsPolicy['clientAuth'];
  base: { port: number; tlsId: string; clientAddr: string; clientPort: number };
  name: string;
  fallback: boolean;
  policy: TlsPolicy;
  listener: TlsListenerRuntime | undefined;
  port: TlsPortRuntime;
  rt: GatewayRuntime;
  started: number;
  log: string[];
  line: (extra: Partial<SslLogLine>) => SslLogLine;
  http: boolean;
}

export class HttpsPortServer implements PortServer {
  readonly state: ListenerState;
  private readonly server: net.Server;
  private frontend: HttpFrontend | undefined;
  private readonly sockets = new Set<net.Socket>();
  private closing = false;

  constructor(
    private readonly spec: PortSpec,
    runtime: GatewayRuntime,
    private readonly deps: TlsPortDeps,
  ) {
    this.state = { port: spec.port, address: spec.address ?? '0.0.0.0', protocol: spec.protocol, bound: false };
    this.server = net.createServer({ noDelay: true, keepAlive: true, allowHalfOpen: true }, (socket) => this.onConnection(socket));
    this.server.on('error', (err) => deps.logger.error({ port: spec.port, err: err.message }, 'listener error'));
    this.update(runtime);
  }

  listen(): Promise<void> {
    return listenServer(this.server, this.state, this.spec.address, this.deps.logger);
  }

  update(runtime: GatewayRuntime): void {
    const hp = runtime.httpPorts.get(this.spec.port);
    if (hp === undefined) return;
    if (this.frontend === undefined) this.frontend = new HttpFrontend(this.spec.port, true, hp.connection, this.deps.frontend);
    else this.frontend.update(hp.connection);
  }

  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.server.close();
    const deadline = Date.now() + graceMs;
    if (this.frontend) await this.frontend.close(graceMs, () => this.sockets.size);
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const s of this.sockets) s.destroy();
  }

  private sslLog(l: SslLogLine): void {
    this.deps.logs.ssl.write(sslLine(l));
  }

  private onConnection(raw: net.Socket): void {
    if (this.closing) {
      raw.destroy();
      return;
    }
    this.sockets.add(raw);
    raw.once('close', () => this.sockets.delete(raw));
    raw.on('error', () => undefined);
    const started = performance.now();
    const rt = this.deps.frontend.runtimeRef.current;
    const l4 = this.deps.l4(rt);
    const port = l4.tlsPorts.get(this.spec.port);
    const clientAddr = normalizeIp(raw.remoteAddress ?? '');
    const clientPort = raw.remotePort ?? 0;
    const tlsId = newTlsId();
    const base = { port: this.spec.port, tlsId, clientAddr, clientPort };
    if (port === undefined) {
      raw.destroy();
      return;
    }
    const denied = gateDecision(port.gates, clientAddr);
    if (denied !== undefined) {
      this.deps.metrics.refuse('stream_plugin');
      this.sslLog({ ts: Date.now(), handshakeMs: 0, ...base, sni: undefined, log: ['refused before the handshake'], error: denied, isMtls: false });
      raw.destroy();
      return;
    }
    let buf: Buffer | undefined;
    const timer = setTimeout(() => {
      raw.off('data', onData);
      this.deps.metrics.handshake('timeout');
      this.sslLog({ ts: Date.now(), handshakeMs: Math.round(performance.now() - started), ...base, sni: undefined, log: [], error: `no complete ClientHello within ${port.handshakeTimeoutMs} ms`, isMtls: false });
      raw.destroy();
    }, port.handshakeTimeoutMs);
    const onData = (chunk: Buffer) => {
      buf = buf === undefined ? chunk : Buffer.concat([buf, chunk]);
      const r = parseClientHello(buf);
      if (r.state === 'more' && buf.length <= MAX_HELLO_BYTES + 1024) return;
      clearTimeout(timer);
      raw.off('data', onData);
      raw.pause();
      if (r.state !== 'done') {
        this.deps.metrics.handshake('failed');
        this.deps.metrics.refuse('bad_client_hello');
        this.sslLog({ ts: Date.now(), handshakeMs: Math.round(performance.now() - started), ...base, sni: undefined, log: [], error: r.state === 'error' ? `bad ClientHello: ${r.reason}` : 'ClientHello too large', isMtls: false });
        raw.destroy();
        return;
      }
      try {
        this.dispatch(raw, buf, r.hello, port, rt, l4, started, base);
      } catch (err) {
        // A bug must cost one connection, never the worker.
        this.deps.logger.error({ port: this.spec.port, err: (err as Error).stack ?? String(err) }, 'TLS connection setup failed');
        raw.destroy();
      }
    };
    raw.on('data', onData);
    raw.once('close', () => clearTimeout(timer));
  }

  private dispatch(raw: net.Socket, hello: Buffer, ch: ClientHello, port: TlsPortRuntime, rt: GatewayRuntime, l4: L4Runtime, started: number, base: { port: number; tlsId: string; clientAddr: string; clientPort: number }): void {
    const fallback = ch.sni === undefined;
    const name = ch.sni ?? port.fallbackSni;
    const log: string[] = [];
    if (ch.alpn.length) log.push(`client ALPN ${ch.alpn.join(',')}`);
    if (name === undefined) {
      this.deps.metrics.handshake('no_sni');
      this.sslLog({ ts: Date.now(), handshakeMs: Math.round(performance.now() - started), ...base, sni: undefined, log, error: 'no SNI', isMtls: false });
      raw.end(tlsAlert(ALERT_UNRECOGNIZED_NAME));
      return;
    }
    if (fallback) log.push(`no SNI: using fallbackSni ${name}`);
    const listener = port.listeners.lookup(name);

    if (listener?.kind === 'passthrough') return this.passthrough(raw, hello, name, listener, rt, started, base);

    const policy = selectPolicy(port, name, listener);
    const ctx = policy ? this.deps.certs.contextFor(policy) : undefined;
    if (policy === undefined || ctx === undefined) {
      this.deps.metrics.handshake('no_certificate');
      this.deps.metrics.refuse('no_certificate');
      const why = policy ? `certificate of ${policy.matched.kind} ${policy.matched.ns}/${policy.matched.name} cannot be loaded: ${this.deps.certs.failures.get(policy.contextKey) ?? '?'}` : 'cert not found';
      this.sslLog({ ts: Date.now(), handshakeMs: Math.round(performance.now() - started), ...base, sni: name, log, error: why, isMtls: false });
      raw.end(tlsAlert(ALERT_UNRECOGNIZED_NAME));
      return;
    }
    const http = listener === undefined ? port.http : listener.kind === 'https';
    const auth = policy.clientAuth;
    raw.unshift(hello);
    const socket = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: ctx,
      requestCert: auth !== undefined,
      rejectUnauthorized: auth?.mode === 'Mutual',
      ...(http ? { ALPNProtocols: port.http2 ? HTTP_ALPN : HTTP1_ALPN } : {}),
    });
    const hsStarted = performance.now();
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`TLS handshake not finished within ${port.handshakeTimeoutMs} ms`), { code: 'ETIMEDOUT' })), port.handshakeTimeoutMs);
    const line = (extra: Partial<SslLogLine>): SslLogLine => ({ ts: Date.now(), handshakeMs: Math.round(performance.now() - hsStarted), ...base, sni: name, log, matched: policy.matched, isMtls: auth !== undefined, ...extra });
    socket.once('error', (err: Error & { code?: string }) => {
      clearTimeout(timer);
      if ((socket as unknown as { [kSecured]?: boolean })[kSecured]) return;
      this.deps.metrics.handshake(err.code === 'ETIMEDOUT' ? 'timeout' : /CERTIFICATE/.test(err.code ?? '') ? 'client_certificate' : 'failed');
      this.sslLog(line({ error: `${err.code ?? 'ERR'}: ${err.message.split('\n')[0]}` }));
    });
    socket.on('error', () => undefined);
    socket.once('secure', () => {
      try {
        this.secured({ socket, timer, auth, base, name, fallback, policy, listener, port, rt, started, log, line, http });
      } catch (err) {
        this.deps.logger.error({ port: this.spec.port, err: (err as Error).stack ?? String(err) }, 'TLS connection hand-off failed');
        socket.destroy();
      }
    });
  }

  /** Handshake done: client-certificate rules, ssl.log, then HTTP or the TLSRoute backend. */
  private secured(h: Handshake): void {
    const { socket, timer, auth, base, name, fallback, policy, listener, port, rt, started, log, line, http } = h;
    clearTimeout(timer);
    (socket as unknown as { [kSecured]: boolean })[kSecured] = true;
    (socket as unknown as { secureConnecting: boolean }).secureConnecting = false; // lets HTTP/2 take the socket over (it waits for this otherwise)
    const info: TlsConnInfo = { tlsId: base.tlsId, sni: name, fallback, policy, requireSniHostMatch: listener?.gateway.config.securityProtect.requireSniHostMatch ?? port.requireSniHostMatch };
    let verdictError: string | undefined;
    if (auth !== undefined) {
      const v = checkClientCertificate(socket, auth);
      if (v.cert) info.clientCert = v.cert;
      socket.authorized = v.ok && v.cert !== undefined;
      if (!v.ok) verdictError = v.error;
      else if (v.cert) log.push(`client certificate ${v.cert.subject}`);
      else if (v.untrusted !== undefined) log.push(`client certificate not trusted, connection allowed (AllowInsecureFallback): ${v.untrusted}`);
      else log.push('no client certificate (optional)');
    }
    const details = { protocol: socket.getProtocol(), cipher: socket.getCipher()?.name, alpn: socket.alpnProtocol, ...(info.clientCert ? { clientCert: info.clientCert } : {}) };
    if (verdictError !== undefined) {
      this.deps.metrics.handshake('client_certificate');
      this.sslLog(line({ ...details, error: verdictError }));
      socket.destroy();
      return;
    }
    this.deps.metrics.handshake('success');
    this.sslLog(line(details));
    (socket as unknown as { [kTlsConn]: TlsConnInfo })[kTlsConn] = info;
    if (listener?.kind === 'terminate') return this.terminated(socket, name, listener, rt, started, base);
    if (!http || this.frontend === undefined) {
      socket.destroy();
      return;
    }
    this.frontend.accept(socket, socket.alpnProtocol === 'h2');
  }

  private passthrough(raw: net.Socket, hello: Buffer, name: string, listener: TlsListenerRuntime, rt: GatewayRuntime, started: number, base: { port: number; clientAddr: string; clientPort: number }): void {
    const route = listener.routes.lookup(name);
    const s = { client: raw, clientAddr: base.clientAddr, clientPort: base.clientPort, listenerPort: base.port, sni: name, startedAt: started };
    if (route === undefined) {
      logRefused(this.deps, { ...s, route: undefined }, 'NoRoute', `no TLSRoute for SNI ${name}`, 'TLSRoute/Passthrough');
      raw.destroy();
      return;
    }
    const denied = gateDecision(route.gates, base.clientAddr);
    if (denied !== undefined) {
      logRefused(this.deps, { ...s, route }, 'Denied', denied, 'TLSRoute/Passthrough');
      raw.destroy();
      return;
    }
    proxyStream(this.deps, { ...s, route, clusters: rt.clusters, initialData: hello });
  }

  private terminated(socket: tls.TLSSocket, name: string, listener: TlsListenerRuntime, rt: GatewayRuntime, started: number, base: { port: number; tlsId: string; clientAddr: string; clientPort: number }): void {
    const route = listener.routes.lookup(name);
    const s = { client: socket as net.Socket, clientAddr: base.clientAddr, clientPort: base.clientPort, listenerPort: base.port, sni: name, tlsId: base.tlsId, startedAt: started };
    if (route === undefined) {
      logRefused(this.deps, { ...s, route: undefined }, 'NoRoute', `no TLSRoute for SNI ${name}`, 'TLSRoute');
      socket.destroy();
      return;
    }
    const denied = gateDecision(route.gates, base.clientAddr);
    if (denied !== undefined) {
      logRefused(this.deps, { ...s, route }, 'Denied', denied, 'TLSRoute');
      socket.destroy();
      return;
    }
    proxyStream(this.deps, { ...s, route, clusters: rt.clusters });
  }
}
