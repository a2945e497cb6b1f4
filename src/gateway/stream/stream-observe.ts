// Logs and metrics of TLS handshakes and layer-4 sessions. The logs are W/logs/ssl.log (one line
// per TLS handshake the gateway performs), tcp.log (one line per TCP or TLS-route connection) and
// udp.log (one line per UDP session), JSON per line, always on (CONTRACT.md), written through the
// same batching writer as the access log. Metrics are plain numbers read by prom-client at scrape.

import path from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AccessLog } from '../observe/access-log.js';

const q = JSON.stringify;

export interface SslLogLine {
  ts: number;
  handshakeMs: number;
  port: number;
  tlsId: string;
  sni: string | undefined;
  clientAddr: string;
  clientPort: number;
  log: string[];
  matched?: { kind: string; ns: string; name: string; section?: string; sv?: number };
  error?: string;
  isMtls: boolean;
  protocol?: string | null;
  cipher?: string;
  alpn?: string | false | null;
  clientCert?: ClientCertInfo;
}

export interface ClientCertInfo {
  subject: string;
  sans: string[];
  cn?: string;
  fingerprint: string;
}

export interface TcpLogLine {
  ts: number;
  kind: string;
  listenerPort: number;
  clientAddr: string;
  clientPort: number;
  upstreamAddr: string | undefined;
  durationMs: number;
  bytesSent: number;
  bytesReceived: number;
  status: string;
  established: boolean;
  route?: { ns: string; name: string };
  gateway?: { ns: string; name: string };
  backend?: { ns: string; name: string };
  connectMs?: number;
  proxyProtocol?: string;
  sni?: string;
  tlsId?: string;
  upstreamTls?: boolean;
  attempts?: number;
  error?: string;
}

export interface UdpLogLine {
  ts: number;
  listenerPort: number;
  clientAddr: string;
  clientPort: number;
  upstreamAddr: string | undefined;
  durationMs: number;
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  status: string;
  route?: { ns: string; name: string };
  gateway?: { ns: string; name: string };
  backend?: { ns: string; name: string };
  error?: string;
}

export function sslLine(l: SslLogLine): string {
  let s = `{"ts":${l.ts},"handshake_complete_time":${l.handshakeMs},"port":${l.port},"tls_id":${q(l.tlsId)},"sni":${l.sni === undefined ? 'null' : q(l.sni)},"client_addr":${q(l.clientAddr)},"client_port":${l.clientPort},"log":${q(l.log)}`;
  if (l.matched) s += `,"matched":${q(l.matched)}`;
  if (l.protocol) s += `,"tls_version":${q(l.protocol)}`;
  if (l.cipher) s += `,"cipher":${q(l.cipher)}`;
  if (l.alpn) s += `,"alpn":${q(l.alpn)}`;
  if (l.error !== undefined) s += `,"err_log":${q(l.error)}`;
  if (l.isMtls) s += ',"is_mtls":true';
  if (l.clientCert) s += `,"client_cert_info":${q(l.clientCert)}`;
  return s + '}';
}

export function tcpLine(l: TcpLogLine): string {
  let s = `{"ts":${l.ts},"kind":${q(l.kind)},"listener_port":${l.listenerPort},"client_addr":${q(l.clientAddr)},"client_port":${l.clientPort},"upstream_addr":${l.upstreamAddr === undefined ? 'null' : q(l.upstreamAddr)},"duration_ms":${l.durationMs},"bytes_sent":${l.bytesSent},"bytes_received":${l.bytesReceived},"status":${q(l.status)},"connection_established":${l.established}`;
  if (l.route) s += `,"route":${q(l.route)}`;
  if (l.gateway) s += `,"gateway":${q(l.gateway)}`;
  if (l.backend) s += `,"backend":${q(l.backend)}`;
  if (l.connectMs !== undefined) s += `,"connect_time":${l.connectMs}`;
  if (l.attempts !== undefined) s += `,"attempts":${l.attempts}`;
  if (l.proxyProtocol) s += `,"proxy_protocol_sent":${q(l.proxyProtocol)}`;
  if (l.upstreamTls) s += ',"upstream_tls":true';
  if (l.sni !== undefined) s += `,"sni":${q(l.sni)}`;
  if (l.tlsId !== undefined) s += `,"tls_id":${q(l.tlsId)}`;
  if (l.error !== undefined) s += `,"error":${q(l.error)}`;
  return s + '}';
}

export function udpLine(l: UdpLogLine): string {
  let s = `{"ts":${l.ts},"listener_port":${l.listenerPort},"client_addr":${q(l.clientAddr)},"client_port":${l.clientPort},"upstream_addr":${l.upstreamAddr === undefined ? 'null' : q(l.upstreamAddr)},"session_duration_ms":${l.durationMs},"packets_sent":${l.packetsSent},"packets_received":${l.packetsReceived},"bytes_sent":${l.bytesSent},"bytes_received":${l.bytesReceived},"status":${q(l.status)}`;
  if (l.route) s += `,"route":${q(l.route)}`;
  if (l.gateway) s += `,"gateway":${q(l.gateway)}`;
  if (l.backend) s += `,"backend":${q(l.backend)}`;
  if (l.error !== undefined) s += `,"error":${q(l.error)}`;
  return s + '}';
}

export class StreamLogs {
  readonly ssl: AccessLog;
  readonly tcp: AccessLog;
  readonly udp: AccessLog;

  constructor(workDir: string) {
    const dir = path.join(workDir, 'logs');
    this.ssl = new AccessLog(path.join(dir, 'ssl.log'));
    this.tcp = new AccessLog(path.join(dir, 'tcp.log'));
    this.udp = new AccessLog(path.join(dir, 'udp.log'));
  }

  async close(): Promise<void> {
    await Promise.all([this.ssl.close(), this.tcp.close(), this.udp.close()]);
  }
}

/** Per (protocol, Gateway, route) counters; long-lived so counters stay monotonic across reloads. */
export class StreamRouteStats {
  readonly byStatus = new Map<string, number>();
  bytesIn = 0;
  bytesOut = 0;
  constructor(readonly labels: { protocol: string; gateway_namespace: string; gateway_name: string; route_namespace: string; route_name: string }) {}
  record(status: string, bytesIn: number, bytesOut: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
  }
}

export class StreamMetrics {
  private readonly routes = new Map<string, StreamRouteStats>();
  readonly handshakes = new Map<string, number>();
  readonly refused = new Map<string, number>();
  activeTcp = 0;
  activeUdp = 0;
  udpDropped = 0;

  constructor(registry: Registry, logs: StreamLogs) {
    const self = this;
    new Counter({
      name: 'edgion_stream_connections_total',
      help: 'TCP and TLS-route connections and UDP sessions, by route and final status',
      labelNames: ['protocol', 'gateway_namespace', 'gateway_name', 'route_namespace', 'route_name', 'status'],
      registers: [registry],
      collect() {
        this.reset();
        for (const st of self.routes.values()) for (const [status, n] of st.byStatus) this.inc({ ...st.labels, status }, n);
      },
    });
    new Counter({
      name: 'edgion_stream_bytes_total',
      help: 'Bytes proxied by stream routes (direction in = from clients, out = to clients)',
      labelNames: ['protocol', 'gateway_namespace', 'gateway_name', 'route_namespace', 'route_name', 'direction'],
      registers: [registry],
      collect() {
        this.reset();
        for (const st of self.routes.values()) {
          if (st.bytesIn) this.inc({ ...st.labels, direction: 'in' }, st.bytesIn);
          if (st.bytesOut) this.inc({ ...st.labels, direction: 'out' }, st.bytesOut);
        }
      },
    });
    new Counter({
      name: 'edgion_tls_handshakes_total',
      help: 'Downstream TLS handshakes by result (success, no_sni, no_certificate, client_certificate, failed, timeout)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [result, n] of self.handshakes) this.inc({ result }, n);
      },
    });
    new Counter({
      name: 'edgion_stream_refused_total',
      help: 'Connections and UDP sessions refused before proxying (stream plugin, no route, no certificate, bad ClientHello)',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, n] of self.refused) this.inc({ reason }, n);
      },
    });
    new Gauge({
      name: 'edgion_stream_connections_active',
      help: 'Open TCP and TLS-route connections',
      registers: [registry],
      collect() {
        this.set(self.activeTcp);
      },
    });
    new Gauge({
      name: 'edgion_udp_sessions_active',
      help: 'Open UDP sessions',
      registers: [registry],
      collect() {
        this.set(self.activeUdp);
      },
    });
    new Counter({
      name: 'edgion_udp_sessions_dropped_total',
      help: 'Datagrams from new clients dropped because the session table was full',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.udpDropped);
      },
    });
    for (const [name, log] of [
      ['edgion_ssl_log_dropped_total', logs.ssl],
      ['edgion_tcp_log_dropped_total', logs.tcp],
      ['edgion_udp_log_dropped_total', logs.udp],
    ] as const) {
      new Counter({
        name,
        help: `${path.basename(log.file)} lines dropped because the disk could not keep up`,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(log.dropped);
        },
      });
    }
  }

  route(protocol: string, gw: { namespace: string; name: string }, route: { namespace: string; name: string }): StreamRouteStats {
    const key = `${protocol}|${gw.namespace}/${gw.name}|${route.namespace}/${route.name}`;
    let st = this.routes.get(key);
    if (st === undefined) {
      st = new StreamRouteStats({ protocol, gateway_namespace: gw.namespace, gateway_name: gw.name, route_namespace: route.namespace, route_name: route.name });
      this.routes.set(key, st);
    }
    return st;
  }

  handshake(result: string): void {
    this.handshakes.set(result, (this.handshakes.get(result) ?? 0) + 1);
  }

  refuse(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }
}
