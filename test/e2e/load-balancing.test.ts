// Load balancing, health and resilience end to end: policies by backendRef ExtensionRef,
// active health checks, passive ejection, Gateway API retries, session persistence, and
// endpoints changed by hot reload under a keep-alive connection.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';

let e: Edgion;
let b: EchoServer[];
let port: number;
let dead: number;

function pool(name: string, ports: number[], annotations = ''): string {
  const svc = `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default${annotations ? `\n  annotations:\n${annotations}` : ''}
spec:
  ports: [{ name: http, port: 8080 }]
`;
  const slices = ports.map((p, i) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}-${i}, namespace: default, labels: { kubernetes.io/service-name: ${name} } }
addressType: IPv4
ports: [{ name: http, port: ${p} }]
endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]
`);
  return [svc, ...slices].join('---\n');
}

const route = (name: string, host: string, svc: string, extra = '', backendFilters = '') => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules:
    - backendRefs: [{ name: ${svc}, port: 8080${backendFilters} }]${extra}
`;

const HEALTH = `    edgion.io/health-check: |
      active:
        type: http
        path: /health
        interval: 1s
        timeout: 500ms
        healthyThreshold: 1
        unhealthyThreshold: 2`;

before(async () => {
  b = await Promise.all([startEcho('b0'), startEcho('b1'), startEcho('b2'), startEcho('h0'), startEcho('h1')]);
  port = await freePort();
  dead = await freePort();
  const ports = b.map((x) => x.port);
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }])].join('---\n'),
      'pools.yaml': [
        pool('rr', ports.slice(0, 3)),
        pool('hc', [ports[3]!, ports[4]!], HEALTH),
        pool('passive', [ports[0]!, dead]),
        pool('one', [ports[0]!]),
      ].join('---\n'),
      'routes.yaml': [
        route('rr', 'rr.test', 'rr'),
        route('hash', 'hash.test', 'rr', '', ', filters: [{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: LBPolicyConsistentHash, name: header.x-user } }]'),
        route('least', 'least.test', 'rr', '', ', filters: [{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: LBPolicyLeastConn, name: default } }]'),
        route('hc', 'hc.test', 'hc'),
        route('passive', 'passive.test', 'passive'),
        route('retry', 'retry.test', 'one', '\n      retry: { attempts: 2, codes: [503], backoff: 10ms }'),
        route('noretry', 'noretry.test', 'one'),
        route('sticky', 'sticky.test', 'rr', '\n      sessionPersistence: { sessionName: edgion-sticky, type: Cookie }'),
        route('sticky-h', 'stickyh.test', 'rr', '\n      sessionPersistence: { sessionName: x-session, type: Header }'),
        route('sticky-idle', 'stickyidle.test', 'rr', '\n      sessionPersistence: { sessionName: edgion-idle, type: Cookie, idleTimeout: 30s }'),
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await Promise.all(b.map((x) => x.close()));
});

const serverOf = async (host: string, path = '/', headers: Record<string, string> = {}) => (await request({ port, host, path, headers })).json?.server as string | undefined;

test('round robin spreads requests evenly over the endpoints', async () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 30; i++) {
    const s = (await serverOf('rr.test'))!;
    counts[s] = (counts[s] ?? 0) + 1;
  }
  assert.deepEqual(counts, { b0: 10, b1: 10, b2: 10 });
});

test('consistent hashing by header pins a user to one endpoint', async () => {
  for (const user of ['alice', 'bob', 'carol']) {
    const first = await serverOf('hash.test', '/', { 'x-user': user });
    for (let i = 0; i < 5; i++) assert.equal(await serverOf('hash.test', '/', { 'x-user': user }), first);
  }
});

test('least connections sends new requests away from a busy endpoint', async () => {
  // Two slow requests occupy two endpoints; the next ones go to the idle third.
  const slow = [request({ port, host: 'least.test', path: '/delay/800' }), request({ port, host: 'least.test', path: '/delay/800' })];
  await new Promise((r) => setTimeout(r, 400));
  const quick = await serverOf('least.test', '/quick');
  const slowServers = (await Promise.all(slow)).map((r) => r.json.server);
  assert.ok(!slowServers.includes(quick), `quick request went to ${quick}, busy were ${slowServers}`);
});

test('active health checks take an unhealthy endpoint out and bring it back', async () => {
  const [h0, h1] = [b[3]!, b[4]!];
  h0.health.status = 503;
  const out = await waitFor(async () => {
    for (let i = 0; i < 6; i++) if ((await serverOf('hc.test')) === 'h0') return false;
    return true;
  }, 5000, 200);
  assert.ok(out, 'h0 gets no traffic once unhealthy');
  h0.health.status = 200;
  const back = await waitFor(async () => {
    for (let i = 0; i < 6; i++) if ((await serverOf('hc.test')) === 'h0') return true;
    return false;
  }, 5000, 200);
  assert.ok(back, 'h0 gets traffic again after it recovers');
  assert.match(e.processLog('gateway'), new RegExp(`endpoint 127.0.0.1:${h0.port} of default/hc:8080 is unhealthy after 2 failed checks`));
  assert.ok(h1.seen.length > 0);
});

test('connection failures are retried on another endpoint and the dead one is ejected', async () => {
  for (let i = 0; i < 10; i++) assert.equal((await request({ port, host: 'passive.test', path: `/p${i}` })).status, 200);
  assert.match(e.processLog('gateway'), /ejected for \d+ ms after \d+ consecutive failures/);
});

test('Gateway API retry: a 503 answer is retried with backoff until success', async () => {
  const r = await request({ port, host: 'retry.test', path: '/flaky/k1/2' });
  assert.equal(r.status, 200);
  const r2 = await request({ port, host: 'noretry.test', path: '/flaky/k2/1' });
  assert.equal(r2.status, 503, 'without retry the 503 passes through');
  const retriedPost = await request({ port, host: 'retry.test', path: '/flaky/k3/1', method: 'POST', body: 'x' });
  assert.equal(retriedPost.status, 503, 'POST is not idempotent: not retried by default');
});

test('session persistence by cookie keeps a client on one endpoint', async () => {
  const first = await request({ port, host: 'sticky.test', path: '/s' });
  const setCookie = String(first.headers['set-cookie'] ?? '');
  const m = /edgion-sticky=([^;]+)/.exec(setCookie);
  assert.ok(m, `session cookie set: ${setCookie}`);
  for (let i = 0; i < 6; i++) {
    const r = await request({ port, host: 'sticky.test', path: '/s', headers: { cookie: `edgion-sticky=${m![1]}` } });
    assert.equal(r.json.server, first.json.server);
    assert.equal(r.headers['set-cookie'], undefined, 'an existing session is not re-issued');
  }
});

test('session persistence with idleTimeout: each use renews the cookie; an idle session is replaced', async () => {
  const cookieOf = (h: unknown) => /edgion-idle=([^;]+)/.exec(String(h ?? ''))?.[1];
  const first = await request({ port, host: 'stickyidle.test', path: '/s' });
  const v1 = cookieOf(first.headers['set-cookie']);
  assert.match(v1 ?? '', /^[\w-]+\.[0-9a-z]+\.[0-9a-z]+$/, 'the value carries when the session began and was last used');
  const [id, began] = v1!.split('.');
  const again = await request({ port, host: 'stickyidle.test', path: '/s', headers: { cookie: `edgion-idle=${v1}` } });
  assert.equal(again.json.server, first.json.server);
  const v2 = cookieOf(again.headers['set-cookie']);
  assert.ok(v2, 'a used session is renewed');
  assert.equal(v2!.split('.')[0], id);
  assert.equal(v2!.split('.')[1], began, 'the session keeps its start');
  // Last used 60 s ago (> 30 s): no longer pinned, a new session starts.
  const now = Math.floor(Date.now() / 1000);
  const stale = `${id}.${(now - 100).toString(36)}.${(now - 60).toString(36)}`;
  const after = await request({ port, host: 'stickyidle.test', path: '/s', headers: { cookie: `edgion-idle=${stale}` } });
  const v3 = cookieOf(after.headers['set-cookie']);
  assert.ok(v3, 'a new session cookie');
  assert.ok(parseInt(v3!.split('.')[1]!, 36) >= now - 1, 'the new session begins now');
});

test('session persistence by header', async () => {
  const first = await request({ port, host: 'stickyh.test', path: '/s' });
  const token = first.headers['x-session'] as string;
  assert.ok(token);
  for (let i = 0; i < 4; i++) assert.equal((await request({ port, host: 'stickyh.test', path: '/s', headers: { 'x-session': token } })).json.server, first.json.server);
});

test('endpoints added and removed by reload, under one keep-alive connection', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen = async (n: number) => {
    const s = new Set<string>();
    for (let i = 0; i < n; i++) s.add((await request({ port, host: 'grow.test', path: '/g', agent })).json?.server);
    return s;
  };
  e.writeConf('grow.yaml', [pool('grow', [b[0]!.port]), route('grow', 'grow.test', 'grow')].join('---\n'));
  assert.ok(await waitFor(async () => (await request({ port, host: 'grow.test', path: '/g', agent })).status === 200, 10_000));
  e.writeConf('grow.yaml', [pool('grow', [b[0]!.port, b[1]!.port]), route('grow', 'grow.test', 'grow')].join('---\n'));
  assert.ok(await waitFor(async () => (await seen(4)).size === 2, 10_000), 'the added endpoint gets traffic');
  e.writeConf('grow.yaml', [pool('grow', [b[1]!.port]), route('grow', 'grow.test', 'grow')].join('---\n'));
  assert.ok(await waitFor(async () => {
    const s = await seen(4);
    return s.size === 1 && s.has('b1');
  }, 3000), 'the removed endpoint gets no more traffic');
  const last = await request({ port, host: 'grow.test', path: '/g', agent });
  assert.equal(last.reusedSocket, true);
  agent.destroy();
});
