// Layer-4 routes end to end: TCPRoute (weights, PROXY protocol v1, connect failures), UDPRoute
// (sessions per client address, idle expiry), TLSRoute passthrough by SNI (exact and wildcard, PROXY
// protocol v2 with the SNI) and terminated TLS to a plain TCP backend, EdgionStreamPlugins on
// Gateways and routes (fail closed when missing), the tcp/udp logs, metrics and route statuses.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import dgram from 'node:dgram';
import { Edgion, yaml } from '../helpers/edgion.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';
import { TestCa, tlsSecretYaml } from '../helpers/certs.js';
import { rawExchange, udpExchange } from '../helpers/tls-client.js';
import { startProxyProtocolServer, startTcpEcho, startTlsEcho, startUdpEcho, type Backend } from '../helpers/l4-backends.js';

let e: Edgion;
let ca: TestCa;
const backends: Backend[] = [];
let tcpA: Awaited<ReturnType<typeof startTcpEcho>>;
let tcpB: Awaited<ReturnType<typeof startTcpEcho>>;
let udpEcho: Awaited<ReturnType<typeof startUdpEcho>>;
let pp: Awaited<ReturnType<typeof startProxyProtocolServer>>;
let tlsA: Backend;
let tlsB: Backend;
let deadPort: number;
const P: Record<string, number> = {};

const PORTS = ['tcp', 'tcpw', 'tcppp', 'tcpdeny', 'tcpdead', 'tcpmissing', 'udp', 'udpdeny', 'pass', 'term', 'guardtcp', 'guardhttp'] as const;

function route(kind: 'TCPRoute' | 'UDPRoute' | 'TLSRoute', name: string, section: string, backendsYaml: string, opts: { hostnames?: string[]; annotations?: Record<string, string>; gw?: string } = {}): string {
  const ann = opts.annotations ? `\n  annotations:\n${Object.entries(opts.annotations).map(([k, v]) => `    ${k}: "${v}"`).join('\n')}` : '';
  return `apiVersion: gateway.networking.k8s.io/v1alpha2
kind: ${kind}
metadata:
  name: ${name}
  namespace: default${ann}
spec:
  parentRefs: [{ name: ${opts.gw ?? 'gw-l4'}, sectionName: ${section} }]
${opts.hostnames ? `  hostnames: [${opts.hostnames.map((h) => `"${h}"`).join(', ')}]\n` : ''}  rules:
    - backendRefs: ${backendsYaml}
`;
}

function conf(): string {
  const l = (name: string, protocol: string, extra = '') => `    - name: ${name}\n      port: ${P[name]}\n      protocol: ${protocol}\n${extra}`;
  return [
    yaml.gatewayClass(),
    yaml.service('tcp-a', tcpA.port),
    yaml.service('tcp-b', tcpB.port),
    yaml.service('udp-echo', udpEcho.port),
    yaml.service('pp', pp.port),
    yaml.service('tls-a', tlsA.port),
    yaml.service('tls-b', tlsB.port),
    yaml.service('dead', deadPort),
    tlsSecretYaml('term-cert', ca.issue('*.term.test')),
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw-l4, namespace: default }
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
${l('tcp', 'TCP')}${l('tcpw', 'TCP')}${l('tcppp', 'TCP')}${l('tcpdeny', 'TCP')}${l('tcpdead', 'TCP')}${l('tcpmissing', 'TCP')}${l('udp', 'UDP')}${l('udpdeny', 'UDP')}${l('pass', 'TLS', '      tls: { mode: Passthrough }\n')}${l('term', 'TLS', '      hostname: "*.term.test"\n      tls: { mode: Terminate, certificateRefs: [{ name: term-cert }] }\n')}`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw-guarded
  namespace: default
  annotations: { edgion.io/edgion-stream-plugins: deny-all }
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
${l('guardtcp', 'TCP')}${l('guardhttp', 'HTTP')}`,
    `apiVersion: edgion.io/v1
kind: EdgionStreamPlugins
metadata: { name: deny-all, namespace: default }
spec:
  plugins: [{ type: IpRestriction, config: { defaultAction: deny } }]
---
apiVersion: edgion.io/v1
kind: EdgionStreamPlugins
metadata: { name: deny-local, namespace: default }
spec:
  plugins: [{ type: IpRestriction, config: { deny: ["127.0.0.0/8"] } }]
---
apiVersion: edgion.io/v1
kind: EdgionStreamPlugins
metadata: { name: allow-local, namespace: default }
spec:
  plugins: [{ type: IpRestriction, config: { allow: ["127.0.0.1/32"], defaultAction: deny } }]
---
apiVersion: edgion.io/v1
kind: EdgionStreamPlugins
metadata: { name: broken, namespace: default }
spec:
  plugins: [{ type: IpRestriction, config: { allow: ["not-an-ip"] } }]
`,
    route('TCPRoute', 'tcp-one', 'tcp', `[{ name: tcp-a, port: ${tcpA.port} }]`, { annotations: { 'edgion.io/edgion-stream-plugins': 'allow-local' } }),
    route('TCPRoute', 'tcp-weights', 'tcpw', `[{ name: tcp-a, port: ${tcpA.port}, weight: 3 }, { name: tcp-b, port: ${tcpB.port}, weight: 1 }]`),
    route('TCPRoute', 'tcp-pp', 'tcppp', `[{ name: pp, port: ${pp.port} }]`, { annotations: { 'edgion.io/proxy-protocol': 'v1' } }),
    route('TCPRoute', 'tcp-deny', 'tcpdeny', `[{ name: tcp-a, port: ${tcpA.port} }]`, { annotations: { 'edgion.io/edgion-stream-plugins': 'deny-local' } }),
    route('TCPRoute', 'tcp-dead', 'tcpdead', `[{ name: dead, port: ${deadPort} }]`),
    route('TCPRoute', 'tcp-missing', 'tcpmissing', `[{ name: tcp-a, port: ${tcpA.port} }]`, { annotations: { 'edgion.io/edgion-stream-plugins': 'no-such-plugins' } }),
    route('TCPRoute', 'tcp-guarded', 'guardtcp', `[{ name: tcp-a, port: ${tcpA.port} }]`, { gw: 'gw-guarded' }),
    route('UDPRoute', 'udp-one', 'udp', `[{ name: udp-echo, port: ${udpEcho.port} }]`, { annotations: { 'edgion.io/udp-session-timeout': '1s' } }),
    route('UDPRoute', 'udp-deny', 'udpdeny', `[{ name: udp-echo, port: ${udpEcho.port} }]`, { annotations: { 'edgion.io/edgion-stream-plugins': 'deny-local' } }),
    route('TLSRoute', 'pass-exact', 'pass', `[{ name: tls-a, port: ${tlsA.port} }]`, { hostnames: ['exact.pass.test'] }),
    route('TLSRoute', 'pass-wild', 'pass', `[{ name: tls-b, port: ${tlsB.port} }]`, { hostnames: ['*.pass.test'] }),
    route('TLSRoute', 'pass-pp', 'pass', `[{ name: pp, port: ${pp.port} }]`, { hostnames: ['pp.proxied.test'], annotations: { 'edgion.io/proxy-protocol': 'v2' } }),
    route('TLSRoute', 'term-db', 'term', `[{ name: tcp-b, port: ${tcpB.port} }]`, { hostnames: ['db.term.test'] }),
  ].join('---\n');
}

before(async () => {
  ca = new TestCa('l4-ca');
  tcpA = await startTcpEcho('A');
  tcpB = await startTcpEcho('B');
  udpEcho = await startUdpEcho('U');
  pp = await startProxyProtocolServer();
  tlsA = await startTlsEcho('TLS-A', ca.issue('exact.pass.test'));
  tlsB = await startTlsEcho('TLS-B', ca.issue('*.pass.test'));
  backends.push(tcpA, tcpB, udpEcho, pp, tlsA, tlsB);
  deadPort = await freePort();
  for (const p of PORTS) P[p] = await freePort();
  e = await Edgion.start({ conf: { 'l4.yaml': conf() } });
});

after(async () => {
  await e?.stop();
  for (const b of backends) await b.close();
});

function readLog(name: string): any[] {
  const file = path.join(e.workDir, 'logs', name);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test('TCPRoute proxies bytes both ways and logs the connection', async () => {
  const r = await rawExchange(P.tcp!, 'hello tcp', { halfClose: true });
  assert.equal(r.data.toString(), 'A:hello tcp');
  const line = await waitFor(async () => readLog('tcp.log').find((l) => l.listener_port === P.tcp));
  assert.equal(line.status, 'Success');
  assert.equal(line.connection_established, true);
  assert.equal(line.upstream_addr, `127.0.0.1:${tcpA.port}`);
  assert.equal(line.bytes_received, 9);
  assert.equal(line.bytes_sent, 11);
  assert.deepEqual(line.route, { ns: 'default', name: 'tcp-one' });
  assert.equal(line.client_addr, '127.0.0.1');
  assert.equal(typeof line.duration_ms, 'number');
});

test('TCPRoute spreads connections by backendRef weight', async () => {
  const seen: string[] = [];
  for (let i = 0; i < 8; i++) seen.push((await rawExchange(P.tcpw!, 'x', { halfClose: true })).data.toString().slice(0, 1));
  assert.equal(seen.filter((s) => s === 'A').length, 6, seen.join(''));
  assert.equal(seen.filter((s) => s === 'B').length, 2, seen.join(''));
});

test('PROXY protocol v1 towards a TCPRoute backend', async () => {
  const r = await rawExchange(P.tcppp!, 'after-header', { halfClose: true });
  const [first, rest] = [r.data.toString().split('\n')[0]!, r.data.toString().split('\n').slice(1).join('\n')];
  const h = JSON.parse(first.slice(3));
  assert.equal(h.version, 1);
  assert.equal(h.srcAddr, '127.0.0.1');
  assert.equal(h.dstPort, pp.port);
  assert.ok(h.srcPort > 0);
  assert.equal(rest, 'after-header');
});

test('stream IpRestriction on a route closes the connection; allow-listed clients pass', async () => {
  const denied = await rawExchange(P.tcpdeny!, 'nope');
  assert.equal(denied.data.length, 0);
  assert.ok(denied.closed || denied.error);
  const line = await waitFor(async () => readLog('tcp.log').find((l) => l.listener_port === P.tcpdeny));
  assert.equal(line.status, 'Denied');
  assert.match(line.error, /deny list/);
  assert.equal((await rawExchange(P.tcp!, 'ok', { halfClose: true })).data.toString(), 'A:ok');
});

test('Gateway-level stream plugins (defaultAction only) refuse TCP and HTTP connections', async () => {
  const tcp = await rawExchange(P.guardtcp!, 'x');
  assert.equal(tcp.data.length, 0);
  const http = await request({ port: P.guardhttp!, path: '/' });
  assert.equal(http.status, 0);
});

test('a route naming a missing EdgionStreamPlugins refuses connections (fail closed) and says so', async () => {
  const r = await rawExchange(P.tcpmissing!, 'x');
  assert.equal(r.data.length, 0);
  const st = (await e.api('/api/v1/resources/TCPRoute/default/tcp-missing')).json;
  const refs = st.status.parents[0].conditions.find((c: any) => c.type === 'ResolvedRefs');
  assert.equal(refs.status, 'False');
  assert.match(refs.message, /no-such-plugins does not exist/);
  const broken = (await e.api('/api/v1/resources/EdgionStreamPlugins/default/broken')).json;
  const acc = broken.status.conditions.find((c: any) => c.type === 'Accepted');
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /not-an-ip/);
});

test('a backend that refuses connections: the client is closed and the log says why', async () => {
  const r = await rawExchange(P.tcpdead!, 'x');
  assert.equal(r.data.length, 0);
  const line = await waitFor(async () => readLog('tcp.log').find((l) => l.listener_port === P.tcpdead));
  assert.equal(line.status, 'UpstreamConnectionFailed');
  assert.equal(line.connection_established, false);
  assert.match(line.error, /ECONNREFUSED/);
});

test('UDPRoute: one session per client address, replies go back, sessions expire and are logged', async () => {
  const a = await udpExchange(P.udp!, ['one', 'two'], { waitMs: 300 });
  const b = await udpExchange(P.udp!, ['three'], { waitMs: 300 });
  assert.deepEqual(a.replies.sort(), ['U:one', 'U:two']);
  assert.deepEqual(b.replies, ['U:three']);
  const lines = await waitFor(async () => {
    const l = readLog('udp.log').filter((x) => x.listener_port === P.udp);
    return l.length >= 2 ? l : undefined;
  }, 5000, 100);
  assert.ok(lines, 'a udp.log line per session after the 1 s idle timeout');
  const la = lines.find((l: any) => l.client_port === a.localPort);
  assert.equal(la.packets_received, 2);
  assert.equal(la.packets_sent, 2);
  assert.equal(la.bytes_received, 6);
  assert.equal(la.status, 'Expired');
  assert.equal(la.upstream_addr, `127.0.0.1:${udpEcho.port}`);
  assert.ok(la.session_duration_ms >= 900);
});

test('UDP: a session keeps its upstream socket for all datagrams of one client', async () => {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  udpEcho.sources.clear();
  for (let i = 0; i < 3; i++) await udpExchange(P.udp!, [`m${i}`], { socket: sock, waitMs: 100 });
  sock.close();
  assert.equal(udpEcho.sources.size, 1);
});

test('UDP: stream IpRestriction drops datagrams', async () => {
  const r = await udpExchange(P.udpdeny!, ['x'], { waitMs: 300 });
  assert.deepEqual(r.replies, []);
});

test('TLSRoute passthrough routes by SNI (exact before wildcard) without terminating TLS', async () => {
  const exact = await rawExchange(P.pass!, undefined, { tls: { port: P.pass!, servername: 'exact.pass.test', ca: ca.cert } });
  assert.match(exact.data.toString(), /^TLS-A sni=exact\.pass\.test/);
  assert.equal(exact.tls?.subjectCN, 'exact.pass.test', 'the backend certificate reaches the client');
  const wild = await rawExchange(P.pass!, undefined, { tls: { port: P.pass!, servername: 'any.pass.test', ca: ca.cert } });
  assert.match(wild.data.toString(), /^TLS-B sni=any\.pass\.test/);
  const none = await rawExchange(P.pass!, undefined, { tls: { port: P.pass!, servername: 'unknown.test', insecure: true } });
  assert.equal(none.data.length, 0);
  const line = await waitFor(async () => readLog('tcp.log').find((l) => l.listener_port === P.pass && l.sni === 'any.pass.test'));
  assert.equal(line.kind, 'TLSRoute/Passthrough');
  assert.deepEqual(line.route, { ns: 'default', name: 'pass-wild' });
});

test('TLSRoute passthrough with PROXY protocol v2 carries the SNI', async () => {
  await rawExchange(P.pass!, undefined, { tls: { port: P.pass!, servername: 'pp.proxied.test', insecure: true }, idleMs: 300 });
  const h = await waitFor(async () => pp.headers.find((x) => x.authority === 'pp.proxied.test'));
  assert.ok(h, 'PROXY v2 header with the authority TLV');
  assert.equal(h.version, 2);
  assert.equal(h.srcAddr, '127.0.0.1');
  assert.equal(h.dstPort, pp.port);
});

test('TLSRoute Terminate: TLS ends at the gateway and the backend gets plain TCP', async () => {
  const r = await rawExchange(P.term!, 'select 1', { tls: { port: P.term!, servername: 'db.term.test', ca: ca.cert } });
  assert.equal(r.data.toString(), 'B:select 1');
  assert.equal(r.tls?.subjectCN, '*.term.test');
  const line = await waitFor(async () => readLog('tcp.log').find((l) => l.listener_port === P.term && l.kind === 'TLSRoute'));
  assert.match(line.tls_id, /^[0-9a-f]{8}-[0-9a-f]{8}$/);
  const ssl = readLog('ssl.log').find((l) => l.tls_id === line.tls_id);
  assert.equal(ssl?.sni, 'db.term.test');
  // A name the listener covers but no TLSRoute does: handshake, then closed.
  const other = await rawExchange(P.term!, 'x', { tls: { port: P.term!, servername: 'other.term.test', ca: ca.cert } });
  assert.equal(other.data.length, 0);
});

test('garbage on TLS and TCP ports does not hurt the gateway', async () => {
  for (const p of [P.pass!, P.term!]) {
    const r = await rawExchange(p, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.equal(r.data.length, 0);
    assert.ok(r.closed || r.error);
  }
  await rawExchange(P.term!, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00]));
  const s = net.connect(P.pass!, '127.0.0.1');
  s.on('error', () => undefined);
  s.write(Buffer.from([0x16, 0x03]));
  s.destroy();
  const ssl = await waitFor(async () => readLog('ssl.log').find((l) => /bad ClientHello/.test(l.err_log ?? '')));
  assert.ok(ssl);
  assert.equal((await e.gatewayApi('/ready')).status, 200);
  assert.equal((await rawExchange(P.tcp!, 'still', { halfClose: true })).data.toString(), 'A:still');
});

test('stream routes have statuses and metrics', async () => {
  const st = (await e.api('/api/v1/resources/TLSRoute/default/pass-exact')).json;
  const conds = st.status.parents[0].conditions;
  assert.equal(conds.find((c: any) => c.type === 'Accepted').status, 'True');
  assert.equal(conds.find((c: any) => c.type === 'ResolvedRefs').status, 'True');
  const gw = (await e.api('/api/v1/resources/Gateway/default/gw-l4')).json;
  assert.equal(gw.status.listeners.find((l: any) => l.name === 'pass').attachedRoutes, 3);
  const metrics = (await e.gatewayApi('/metrics')).body;
  assert.match(metrics, /edgion_stream_connections_total\{[^}]*route_name="tcp-one"[^}]*status="Success"[^}]*\} [1-9]/);
  assert.match(metrics, /edgion_stream_connections_total\{[^}]*protocol="udp"[^}]*route_name="udp-one"/);
  assert.match(metrics, /edgion_tls_handshakes_total\{[^}]*result="success"/);
  assert.match(metrics, /edgion_ssl_log_dropped_total/);
});
