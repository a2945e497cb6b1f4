// A UDP listener port (UDPRoute). Each client address gets a session with its own upstream socket
// and backend endpoint, chosen once (weighted backendRef, round-robin endpoint); replies go back to
// the client from the listener socket. A session ends after the route's idle timeout (60 s by
// default) and writes one udp.log line. The session table is bounded: when it is full, datagrams
// from new clients are dropped and counted, existing sessions keep working.
//
// Several workers: each binds the port with SO_REUSEPORT (Linux), so the kernel hashes every
// client's 4-tuple to one worker and a client's datagrams always meet the same session. Where
// SO_REUSEPORT is not available the port is shared through the primary instead (sessions are then
// per worker, still consistent for the upstream but possibly split across workers).

import dgram from 'node:dgram';
import net from 'node:net';
import type { ClusterIR, EndpointIR } from '../../ir/index.js';
import { normalizeIp } from '../../shared/net.js';
import type { ListenerState, PortServer, PortSpec } from '../listeners/listener-manager.js';
import { gateDecision, type CompiledStreamRoute, type StreamPortRuntime } from './compile-l4.js';
import { udpLine } from './stream-observe.js';
import type { StreamPortDeps } from './tcp-port.js';

interface Session {
  key: string;
  clientAddr: string;
  clientPort: number;
  route: CompiledStreamRoute;
  endpoint: EndpointIR;
  backend: { ns: string; name: string };
  upstream: dgram.Socket;
  startedAt: number;
  lastSeen: number;
  timer: NodeJS.Timeout | undefined;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  error?: string;
}


export class UdpPortServer implements PortServer {
  readonly state: ListenerState;
  private socket: dgram.Socket | undefined;
  private readonly sessions = new Map<string, Session>();
  private warnedFull = 0;

  constructor(
    private readonly spec: PortSpec,
    private readonly deps: StreamPortDeps,
  ) {
    this.state = { port: spec.port, address: spec.address ?? '0.0.0.0', protocol: 'UDP', bound: false };
  }

  async listen(): Promise<void> {
    const address = this.spec.address;
    const attempts: { type: 'udp4' | 'udp6'; address: string; reusePort: boolean }[] = [];
    const families: ('udp4' | 'udp6')[] = address ? [net.isIPv6(address) ? 'udp6' : 'udp4'] : ['udp6', 'udp4'];
    for (const type of families) {
      const a = address ?? (type === 'udp6' ? '::' : '0.0.0.0');
      attempts.push({ type, address: a, reusePort: true }, { type, address: a, reusePort: false });
    }
    let lastErr: Error | undefined;
    for (const at of attempts) {
      try {
        this.socket = await this.bind(at.type, at.address, at.reusePort);
        this.state.bound = true;
        delete this.state.error;
        this.deps.logger.info({ port: this.spec.port, address: at.address, reusePort: at.reusePort }, `listening on ${at.address}:${this.spec.port} (UDP)`);
        return;
      } catch (err) {
        lastErr = err as Error;
        if ((err as { code?: string }).code === 'EADDRINUSE' && !at.reusePort) break;
      }
    }
    this.state.bound = false;
    const code = (lastErr as { code?: string } | undefined)?.code;
    this.state.error = code === 'EADDRINUSE' ? `port ${this.spec.port} is already in use` : code === 'EACCES' ? `no permission to bind port ${this.spec.port}` : (lastErr?.message ?? 'cannot bind');
    this.deps.logger.error({ port: this.spec.port, err: lastErr?.message }, `cannot bind UDP listener ${address ?? '*'}:${this.spec.port}: ${this.state.error}`);
  }

  private bind(type: 'udp4' | 'udp6', address: string, reusePort: boolean): Promise<dgram.Socket> {
    return new Promise((resolve, reject) => {
      let sock: dgram.Socket;
      try {
        sock = dgram.createSocket({ type, reuseAddr: false, ...(reusePort ? { reusePort: true } : {}), ...(type === 'udp6' ? { ipv6Only: false } : {}) });
      } catch (err) {
        return reject(err as Error);
      }
      const onError = (err: Error) => {
        sock.close();
        reject(err);
      };
      sock.once('error', onError);
      sock.bind({ port: this.spec.port, address, exclusive: reusePort }, () => {
        sock.off('error', onError);
        sock.on('error', (err) => this.deps.logger.warn({ port: this.spec.port, err: err.message }, 'UDP listener error'));
        sock.on('message', (msg, rinfo) => {
          try {
            this.onMessage(msg, rinfo);
          } catch (err) {
            // Out of file descriptors and the like: drop the datagram, keep the worker.
            this.deps.metrics.refuse('error');
            this.deps.logger.warn({ port: this.spec.port, err: (err as Error).message }, 'UDP datagram dropped');
          }
        });
        resolve(sock);
      });
    });
  }

  update(): void {}

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    const existing = this.sessions.get(key);
    if (existing !== undefined) {
      existing.lastSeen = performance.now();
      existing.packetsIn++;
      existing.bytesIn += msg.length;
      existing.upstream.send(msg, existing.endpoint.port, existing.endpoint.address);
      return;
    }
    const rt = this.deps.runtimeRef.current;
    const port: StreamPortRuntime | undefined = this.deps.l4(rt).udpPorts.get(this.spec.port);
    const clientAddr = normalizeIp(rinfo.address);
    const route = port?.route;
    if (port === undefined || route === undefined) {
      this.deps.metrics.refuse('no_route');
      return;
    }
    const denied = gateDecision(port.gates, clientAddr) ?? gateDecision(route.gates, clientAddr);
    if (denied !== undefined) {
      // Not logged per datagram (a flood would flood the log too); counted.
      this.deps.metrics.refuse('stream_plugin');
      this.deps.metrics.route('udp', route.gateway, route).record('Denied', 0, 0);
      return;
    }
    if (this.sessions.size >= port.maxSessions) {
      this.deps.metrics.udpDropped++;
      const now = Date.now();
      if (now - this.warnedFull > 10_000) {
        this.warnedFull = now;
        this.deps.logger.warn({ port: this.spec.port, sessions: this.sessions.size }, `UDP port ${this.spec.port}: session table full (${port.maxSessions}); datagrams from new clients are dropped`);
      }
      return;
    }
    const backend = route.picker.pick();
    const cluster: ClusterIR | undefined = backend?.ref.cluster ? rt.clusters.get(backend.ref.cluster) : undefined;
    const ep = cluster ? this.deps.balancers.get(cluster).pick(clientAddr) : undefined;
    if (backend === undefined || cluster === undefined || ep === undefined) {
      this.deps.metrics.refuse('no_backend');
      this.deps.metrics.route('udp', route.gateway, route).record('NoBackend', 0, 0);
      return;
    }
    const upstream = dgram.createSocket(net.isIPv6(ep.address) ? 'udp6' : 'udp4');
    const now = performance.now();
    const s: Session = {
      key,
      clientAddr,
      clientPort: rinfo.port,
      route,
      endpoint: ep,
      backend: { ns: backend.ref.namespace, name: backend.ref.name },
      upstream,
      startedAt: now,
      lastSeen: now,
      timer: undefined,
      packetsIn: 1,
      packetsOut: 0,
      bytesIn: msg.length,
      bytesOut: 0,
    };
    this.sessions.set(key, s);
    this.deps.metrics.activeUdp++;
    upstream.on('message', (reply, from) => {
      if (from.port !== ep.port || normalizeIp(from.address) !== normalizeIp(ep.address)) return;
      s.lastSeen = performance.now();
      s.packetsOut++;
      s.bytesOut += reply.length;
      this.socket?.send(reply, rinfo.port, rinfo.address);
    });
    upstream.on('error', (err) => {
      s.error = `${(err as { code?: string }).code ?? err.name}: ${err.message}`;
    });
    upstream.send(msg, ep.port, ep.address);
    this.arm(s);
  }

  /** One timer per session, re-armed lazily: traffic only moves `lastSeen`. */
  private arm(s: Session): void {
    const idle = s.route.sessionIdleMs;
    const wait = Math.max(10, idle - (performance.now() - s.lastSeen));
    s.timer = setTimeout(() => {
      if (performance.now() - s.lastSeen >= idle - 5) this.end(s, 'Expired');
      else this.arm(s);
    }, wait);
    s.timer.unref();
  }

  private end(s: Session, status: string): void {
    if (this.sessions.get(s.key) !== s) return;
    this.sessions.delete(s.key);
    if (s.timer) clearTimeout(s.timer);
    this.deps.metrics.activeUdp--;
    try {
      s.upstream.close();
    } catch {
      // already closed
    }
    const route = s.route;
    this.deps.metrics.route('udp', route.gateway, route).record(status === 'Expired' || status === 'Closed' ? 'Success' : status, s.bytesIn, s.bytesOut);
    this.deps.logs.udp.write(
      udpLine({
        ts: Date.now(),
        listenerPort: this.spec.port,
        clientAddr: s.clientAddr,
        clientPort: s.clientPort,
        upstreamAddr: `${s.endpoint.address}:${s.endpoint.port}`,
        durationMs: Math.round(performance.now() - s.startedAt),
        packetsSent: s.packetsOut,
        packetsReceived: s.packetsIn,
        bytesSent: s.bytesOut,
        bytesReceived: s.bytesIn,
        status,
        route: { ns: route.namespace, name: route.name },
        gateway: { ns: route.gateway.namespace, name: route.gateway.name },
        backend: s.backend,
        ...(s.error ? { error: s.error } : {}),
      }),
    );
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) this.end(s, 'Closed');
    const sock = this.socket;
    this.socket = undefined;
    if (sock) await new Promise<void>((r) => sock.close(() => r()));
  }
}

