// One proxied stream connection (TCPRoute, TLSRoute terminated or passthrough): weighted backendRef,
// round-robin endpoint, connect with retries on other endpoints, optional PROXY protocol header,
// optional TLS to the backend (BackendTLSPolicy), then bytes copied both ways with backpressure and
// half-close until both sides are done. Exactly one tcp.log line and one metrics record per
// connection.

import net from 'node:net';
import tls from 'node:tls';
import type { ClusterIR, EndpointIR } from '../../ir/index.js';
import type { Balancers } from '../upstream/balancer.js';
import type { CompiledStreamRoute } from './compile-l4.js';
import { proxyV1, proxyV2 } from './proxy-protocol.js';
import { tcpLine, type StreamLogs, type StreamMetrics } from './stream-observe.js';
import { checkBackendIdentity } from '../upstream/backend-identity.js';

export interface StreamProxyDeps {
  balancers: Balancers;
  logs: StreamLogs;
  metrics: StreamMetrics;
}

export interface StreamSession {
  client: net.Socket;
  clientAddr: string;
  clientPort: number;
  listenerPort: number;
  route: CompiledStreamRoute;
  clusters: Map<string, ClusterIR>;
  /** Bytes already read from the client that go upstream first (the ClientHello of a passthrough). */
  initialData?: Buffer;
  sni?: string;
  tlsId?: string;
  /** When the client connected (performance.now()). */
  startedAt: number;
}

type Status = 'Success' | 'UpstreamConnectionFailed' | 'UpstreamReadError' | 'UpstreamWriteError' | 'DownstreamReadError' | 'DownstreamWriteError' | 'NoBackend' | 'Denied' | 'NoRoute';

/** Logs a connection refused before any upstream was chosen. */
export function logRefused(deps: StreamProxyDeps, s: Omit<StreamSession, 'clusters' | 'route'> & { route: CompiledStreamRoute | undefined }, status: Status, error: string, kind: string): void {
  deps.metrics.refuse(status === 'Denied' ? 'stream_plugin' : status === 'NoRoute' ? 'no_route' : 'no_backend');
  if (s.route) deps.metrics.route(protoOf(s.route), s.route.gateway, s.route).record(status, 0, 0);
  deps.logs.tcp.write(
    tcpLine({
      ts: Date.now(),
      kind,
      listenerPort: s.listenerPort,
      clientAddr: s.clientAddr,
      clientPort: s.clientPort,
      upstreamAddr: undefined,
      durationMs: Math.round(performance.now() - s.startedAt),
      bytesSent: 0,
      bytesReceived: 0,
      status,
      established: false,
      ...(s.route ? { route: { ns: s.route.namespace, name: s.route.name }, gateway: { ns: s.route.gateway.namespace, name: s.route.gateway.name } } : {}),
      ...(s.sni !== undefined ? { sni: s.sni } : {}),
      ...(s.tlsId !== undefined ? { tlsId: s.tlsId } : {}),
      error,
    }),
  );
}

function protoOf(route: CompiledStreamRoute): string {
  return route.kind === 'TLSRoute' ? 'tls' : route.kind === 'UDPRoute' ? 'udp' : 'tcp';
}

export function proxyStream(deps: StreamProxyDeps, s: StreamSession): void {
  const { client, route } = s;
  const kind = route.kind === 'TLSRoute' ? (s.tlsId ? 'TLSRoute' : 'TLSRoute/Passthrough') : 'TCPRoute';
  const backend = route.picker.pick();
  if (backend === undefined || backend.ref.error !== undefined) {
    const why = backend?.ref.error?.message ?? (route.backends.length ? 'every backendRef has weight 0' : 'the route has no backendRefs');
    logRefused(deps, s, 'NoBackend', why, kind);
    client.destroy();
    return;
  }
  const ref = backend.ref;
  const cluster = ref.cluster === undefined ? undefined : s.clusters.get(ref.cluster);
  if (cluster === undefined) {
    logRefused(deps, s, 'NoBackend', `backend ${ref.namespace}/${ref.name} does not resolve`, kind);
    client.destroy();
    return;
  }

  client.pause();
  const m = deps.metrics;
  m.activeTcp++;
  const tried: EndpointIR[] = [];
  let upstream: net.Socket | undefined;
  let endpoint: EndpointIR | undefined;
  let connectMs: number | undefined;
  let status: Status = 'Success';
  let error: string | undefined;
  let established = false;
  let headerBytes = 0;
  let finished = false;
  let clientClosed = false;
  let upstreamClosed = false;
  const ppSent = route.proxyProtocol;

  const finish = () => {
    if (finished) return;
    finished = true;
    m.activeTcp--;
    const up = upstream;
    const bytesReceived = up ? Math.max(0, up.bytesWritten - headerBytes) : 0;
    const bytesSent = up ? up.bytesRead : 0;
    m.route(protoOf(route), route.gateway, route).record(status, bytesReceived, bytesSent);
    deps.logs.tcp.write(
      tcpLine({
        ts: Date.now(),
        kind,
        listenerPort: s.listenerPort,
        clientAddr: s.clientAddr,
        clientPort: s.clientPort,
        upstreamAddr: endpoint ? `${endpoint.address}:${endpoint.port}` : undefined,
        durationMs: Math.round(performance.now() - s.startedAt),
        bytesSent,
        bytesReceived,
        status,
        established,
        route: { ns: route.namespace, name: route.name },
        gateway: { ns: route.gateway.namespace, name: route.gateway.name },
        backend: { ns: ref.namespace, name: ref.name },
        ...(connectMs !== undefined ? { connectMs } : {}),
        attempts: tried.length,
        ...(ppSent && established ? { proxyProtocol: ppSent } : {}),
        ...(cluster.tls ? { upstreamTls: true } : {}),
        ...(s.sni !== undefined ? { sni: s.sni } : {}),
        ...(s.tlsId !== undefined ? { tlsId: s.tlsId } : {}),
        ...(error !== undefined ? { error } : {}),
      }),
    );
  };

  const fail = (st: Status, err: Error | string) => {
    if (status === 'Success') {
      status = st;
      error = typeof err === 'string' ? err : `${(err as { code?: string }).code ?? err.name}: ${err.message}`;
    }
    client.destroy();
    upstream?.destroy();
  };

  client.on('error', (err) => fail(established ? 'DownstreamReadError' : 'UpstreamConnectionFailed', err));
  client.on('close', () => {
    clientClosed = true;
    if (!established) {
      upstream?.destroy();
      if (status === 'Success') {
        status = 'DownstreamReadError';
        error = 'client closed before the upstream connection was made';
      }
      finish();
    } else if (upstreamClosed) finish();
    else {
      // Nothing more can reach the client: let what is queued for the backend flush, then close.
      upstream?.end();
      setTimeout(() => upstream?.destroy(), 5000).unref();
    }
  });

  const connect = () => {
    const ep = deps.balancers.get(cluster).pick(s.clientAddr, tried);
    if (ep === undefined) {
      if (status === 'Success') {
        status = 'UpstreamConnectionFailed';
        error = error ?? `no ready endpoint for ${cluster.namespace}/${cluster.name}`;
      }
      client.destroy();
      return;
    }
    tried.push(ep);
    endpoint = ep;
    const t0 = performance.now();
    const opts = { host: ep.address, port: ep.port, allowHalfOpen: true, noDelay: true };
    const sock: net.Socket = cluster.tls
      ? tls.connect({
          ...opts,
          servername: net.isIP(cluster.tls.hostname) ? undefined : cluster.tls.hostname || undefined,
          ...(cluster.tls.caPem ? { ca: cluster.tls.caPem } : {}),
          ...(cluster.tls.clientCertPem ? { cert: cluster.tls.clientCertPem, key: cluster.tls.clientKeyPem } : {}),
          checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => checkBackendIdentity(cluster.tls!, ep.address, cert),
        })
      : net.connect(opts);
    upstream = sock;
    const timer = setTimeout(() => sock.destroy(Object.assign(new Error(`connect timeout after ${route.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })), route.connectTimeoutMs);
    const onConnectError = (err: Error) => {
      clearTimeout(timer);
      if (clientClosed) return;
      const why = `${ep.address}:${ep.port}: ${(err as { code?: string }).code ?? err.name}: ${err.message}`;
      if (tried.length <= route.maxConnectRetries && tried.length < cluster.endpoints.length + route.maxConnectRetries) {
        error = why;
        return connect();
      }
      status = 'UpstreamConnectionFailed';
      error = why;
      client.destroy();
    };
    sock.once('error', onConnectError);
    sock.once(cluster.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      sock.off('error', onConnectError);
      if (clientClosed) {
        sock.destroy();
        return;
      }
      established = true;
      error = undefined;
      connectMs = Math.round(performance.now() - t0);
      if (route.proxyProtocol) {
        const addrs = { srcAddr: s.clientAddr, srcPort: s.clientPort, dstAddr: ep.address, dstPort: ep.port };
        const header = route.proxyProtocol === 'v1' ? proxyV1(addrs) : proxyV2(addrs, s.sni);
        headerBytes = header.length;
        sock.write(header);
      }
      if (s.initialData?.length) sock.write(s.initialData);
      sock.on('error', (err) => fail('UpstreamReadError', err));
      sock.on('close', () => {
        upstreamClosed = true;
        if (clientClosed) finish();
        else client.end();
      });
      // Whoever closes their side first: the other direction keeps flowing until it ends too.
      client.pipe(sock);
      sock.pipe(client);
      client.resume();
    });
  };
  connect();
}
