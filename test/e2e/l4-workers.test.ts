// Layer 4 with two gateway workers: UDP sessions stay with one worker per client (SO_REUSEPORT
// hashing), the session table is bounded, HTTPS and TLS passthrough share one port by SNI, and TCP
// listeners come and go with the configuration.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/http.js';
import { TestCa, tlsSecretYaml } from '../helpers/certs.js';
import { httpsRequest, rawExchange, udpExchange } from '../helpers/tls-client.js';
import { startTcpEcho, startTlsEcho, startUdpEcho, type Backend } from '../helpers/l4-backends.js';

let e: Edgion;
let ca: TestCa;
let echo: EchoServer;
let udp: Awaited<ReturnType<typeof startUdpEcho>>;
let tcp: Backend;
let tlsBackend: Backend;
const P: Record<string, number> = {};

function l4Conf(): string {
  return [
    yaml.gatewayClass(),
    yaml.service('echo', echo.port),
    yaml.service('udp-echo', udp.port),
    yaml.service('tcp-echo', tcp.port),
    yaml.service('tls-echo', tlsBackend.port),
    tlsSecretYaml('web', ca.issue('web.mix.test')),
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
    - { name: udp, port: ${P.udp}, protocol: UDP }
    - { name: web, port: ${P.mix}, protocol: HTTPS, hostname: web.mix.test, tls: { certificateRefs: [{ name: web }] } }
    - { name: pt, port: ${P.mix}, protocol: TLS, hostname: "*.pt.mix.test", tls: { mode: Passthrough } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: small, namespace: default, annotations: { edgion.io/udp-max-sessions: "2" } }
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
    - { name: udp, port: ${P.small}, protocol: UDP }
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: { name: u, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: udp }, { name: small, sectionName: udp }]
  rules: [{ backendRefs: [{ name: udp-echo, port: ${udp.port} }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: web }]
  rules: [{ backendRefs: [{ name: echo, port: ${echo.port} }] }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: { name: pt, namespace: default }
spec:
  parentRefs: [{ name: gw, sectionName: pt }]
  rules: [{ backendRefs: [{ name: tls-echo, port: ${tlsBackend.port} }] }]
`,
  ].join('---\n');
}

const tcpGateway = () => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: late, namespace: default }
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners: [{ name: tcp, port: ${P.late}, protocol: TCP }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: late, namespace: default }
spec:
  parentRefs: [{ name: late, sectionName: tcp }]
  rules: [{ backendRefs: [{ name: tcp-echo, port: ${tcp.port} }] }]
`;

before(async () => {
  ca = new TestCa('workers-ca');
  echo = await startEcho('web');
  udp = await startUdpEcho('U');
  tcp = await startTcpEcho('T');
  tlsBackend = await startTlsEcho('PT', ca.issue('*.pt.mix.test'));
  for (const k of ['udp', 'small', 'mix', 'late']) P[k] = await freePort();
  e = await Edgion.start({ conf: { 'l4.yaml': l4Conf() }, workers: 2 });
});

after(async () => {
  await e?.stop();
  await echo?.close();
  for (const b of [udp, tcp, tlsBackend]) await b?.close();
});

test('UDP with two workers: every client keeps one session (one upstream socket)', async () => {
  udp.sources.clear();
  const sockets = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      return s;
    }),
  );
  for (let round = 0; round < 4; round++) {
    const replies = await Promise.all(sockets.map((s, i) => udpExchange(P.udp!, [`c${i}r${round}`], { socket: s, waitMs: 150 })));
    replies.forEach((r, i) => assert.deepEqual(r.replies, [`U:c${i}r${round}`]));
  }
  for (const s of sockets) s.close();
  assert.equal(udp.sources.size, 8, 'one upstream source per client, whatever worker got it');
});

test('the UDP session table is bounded: extra clients are dropped and counted', async () => {
  const results = [];
  for (let i = 0; i < 12; i++) results.push(await udpExchange(P.small!, ['x'], { waitMs: 60 }));
  const answered = results.filter((r) => r.replies.length > 0).length;
  assert.ok(answered >= 2 && answered <= 4, `answered ${answered} (2 sessions per worker)`);
  const metrics = (await e.gatewayApi('/metrics')).body;
  const dropped = Number(/edgion_udp_sessions_dropped_total\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
  assert.equal(dropped, 12 - answered);
});

test('HTTPS and TLS passthrough on one port, told apart by SNI', async () => {
  const web = await httpsRequest({ port: P.mix!, servername: 'web.mix.test', ca: ca.cert });
  assert.equal(web.status, 200, web.error ?? '');
  const pt = await rawExchange(P.mix!, undefined, { tls: { port: P.mix!, servername: 'db.pt.mix.test', ca: ca.cert } });
  assert.match(pt.data.toString(), /^PT sni=db\.pt\.mix\.test/);
});

test('a TCP listener added at run time is served; removed, its port closes', async () => {
  assert.ok((await rawExchange(P.late!, 'x')).error, 'nothing listens yet');
  e.writeConf('late.yaml', tcpGateway());
  const served = await waitFor(async () => {
    const r = await rawExchange(P.late!, 'hi', { halfClose: true });
    return r.data.toString() === 'T:hi' ? r : undefined;
  }, 8000, 200);
  assert.ok(served);
  e.removeConf('late.yaml');
  const closed = await waitFor(async () => ((await rawExchange(P.late!, 'x')).error ? true : undefined), 8000, 200);
  assert.ok(closed, 'the port is closed once the Gateway is gone');
});
