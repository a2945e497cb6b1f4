// End to end: real controller and gateway processes, real backends on 127.0.0.1. Routing by host
// and path, every standard filter, weights, forwarding headers, gateway-made errors and the
// access log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';

let e: Edgion;
let a: EchoServer;
let b: EchoServer;
let c: EchoServer;
let port: number;
let isoPort: number;
let deadPort: number;

const routes = (p: { a: number; b: number; c: number }) => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["shop.test", "*.shop.test"]
  rules:
    - matches: [{ path: { type: PathPrefix, value: / } }]
      backendRefs: [{ name: svc-a, port: 80 }]
    - matches: [{ path: { type: Exact, value: /exact } }]
      backendRefs: [{ name: svc-b, port: ${p.b} }]
    - matches: [{ path: { type: PathPrefix, value: /api } , headers: [{ name: x-version, value: "2" }] }]
      backendRefs: [{ name: svc-c, port: ${p.c} }]
    - matches: [{ path: { type: RegularExpression, value: "^/re/[0-9]+$" } }]
      backendRefs: [{ name: svc-b, port: ${p.b} }]
    - matches: [{ path: { type: PathPrefix, value: /q }, queryParams: [{ name: tier, value: gold }] }]
      backendRefs: [{ name: svc-c, port: ${p.c} }]
    - matches: [{ path: { type: PathPrefix, value: /m }, method: DELETE }]
      backendRefs: [{ name: svc-c, port: ${p.c} }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: filters, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["filters.test"]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /hdr } }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{ name: x-set, value: s1 }]
            add: [{ name: x-add, value: a2 }]
            remove: [x-remove]
        - type: ResponseHeaderModifier
          responseHeaderModifier:
            set: [{ name: x-resp-set, value: r1 }]
            add: [{ name: x-resp-add, value: r2 }]
            remove: [x-backend]
      backendRefs: [{ name: svc-a, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /old } }]
      filters:
        - type: RequestRedirect
          requestRedirect: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /new }, statusCode: 301 }
    - matches: [{ path: { type: PathPrefix, value: /secure } }]
      filters:
        - type: RequestRedirect
          requestRedirect: { scheme: https, hostname: secure.example }
    - matches: [{ path: { type: PathPrefix, value: /strip } }]
      filters:
        - type: URLRewrite
          urlRewrite: { hostname: rewritten.internal, path: { type: ReplacePrefixMatch, replacePrefixMatch: / } }
      backendRefs: [{ name: svc-b, port: ${p.b} }]
    - matches: [{ path: { type: PathPrefix, value: /full } }]
      filters:
        - type: URLRewrite
          urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /replaced } }
      backendRefs: [{ name: svc-b, port: ${p.b} }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: weights, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["weights.test"]
  rules:
    - backendRefs:
        - { name: svc-a, port: 80, weight: 3 }
        - { name: svc-b, port: ${p.b}, weight: 1 }
        - { name: svc-c, port: ${p.c}, weight: 0 }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: broken-backends, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["errors.test"]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /missing } }]
      backendRefs: [{ name: no-such-service, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /empty } }]
      backendRefs: [{ name: svc-empty, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /dead } }]
      backendRefs: [{ name: svc-dead, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /slow } }]
      timeouts: { request: 300ms }
      backendRefs: [{ name: svc-a, port: 80 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: cross-namespace, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["xns.test"]
  rules:
    - backendRefs: [{ name: svc-other, namespace: other, port: 80 }]
`;

// GatewayHTTPListenerIsolation: one port, three listeners; each route attaches to one listener.
const isolationRoutes = (p: { b: number; c: number }) =>
  [
    ['iso-any', 'any', '/any', 'svc-a', 80],
    ['iso-wild', 'wild', '/wild', 'svc-b', p.b],
    ['iso-exact', 'exact', '/exact-l', 'svc-c', p.c],
  ]
    .map(
      ([name, section, path, svc, svcPort]) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: iso, sectionName: ${section} }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${path} } }]
      backendRefs: [{ name: ${svc}, port: ${svcPort} }]
`,
    )
    .join('---\n');

before(async () => {
  [a, b, c] = await Promise.all([startEcho('a'), startEcho('b'), startEcho('c')]);
  port = await freePort();
  isoPort = await freePort();
  deadPort = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': [
        yaml.gatewayClass(),
        yaml.gateway('gw', [{ name: 'http', port }]),
        yaml.gateway('iso', [
          { name: 'any', port: isoPort },
          { name: 'wild', port: isoPort, hostname: '*.iso.test' },
          { name: 'exact', port: isoPort, hostname: 'a.iso.test' },
        ]),
      ].join('---\n'),
      'services.yaml': [
        yaml.service('svc-a', a.port, 'default', 80),
        yaml.service('svc-b', b.port),
        yaml.service('svc-c', c.port),
        yaml.service('svc-dead', deadPort, 'default', 80),
        yaml.service('svc-other', a.port, 'other', 80),
        `apiVersion: v1\nkind: Service\nmetadata: { name: svc-empty, namespace: default }\nspec: { ports: [{ name: http, port: 80 }] }\n`,
      ].join('---\n'),
      'routes/shop.yaml': routes({ a: a.port, b: b.port, c: c.port }),
      'routes/isolation.yaml': isolationRoutes({ b: b.port, c: c.port }),
    },
  });
});

after(async () => {
  await e?.stop();
  await Promise.all([a?.close(), b?.close(), c?.close()]);
});

const get = (host: string, path: string, extra: Partial<Parameters<typeof request>[0]> = {}) => request({ port, host, path, ...extra });

describe('matching', () => {
  test('host and prefix route to the right backend, exact beats prefix', async () => {
    assert.equal((await get('shop.test', '/anything')).json?.server, 'a');
    assert.equal((await get('shop.test', '/exact')).json?.server, 'b');
    assert.equal((await get('shop.test', '/exact/more')).json?.server, 'a');
  });
  test('wildcard hostnames and case-insensitive Host with a port', async () => {
    assert.equal((await get('www.shop.test', '/')).json?.server, 'a');
    assert.equal((await get(`SHOP.Test:${port}`, '/')).json?.server, 'a');
  });
  test('header, query, method and regex matches', async () => {
    assert.equal((await get('shop.test', '/api/x', { headers: { 'x-version': '2' } })).json?.server, 'c');
    assert.equal((await get('shop.test', '/api/x', { headers: { 'x-version': '1' } })).json?.server, 'a');
    assert.equal((await get('shop.test', '/q?tier=gold')).json?.server, 'c');
    assert.equal((await get('shop.test', '/q?tier=silver')).json?.server, 'a');
    assert.equal((await get('shop.test', '/m', { method: 'DELETE' })).json?.server, 'c');
    assert.equal((await get('shop.test', '/m', { method: 'GET' })).json?.server, 'a');
    assert.equal((await get('shop.test', '/re/42')).json?.server, 'b');
    assert.equal((await get('shop.test', '/re/4x')).json?.server, 'a');
  });
  test('unknown host gets 404 with a reason and Server: edgion', async () => {
    const r = await get('nowhere.test', '/x');
    assert.equal(r.status, 404);
    assert.equal(r.headers.server, 'edgion');
    assert.match(r.body, /^404 Not Found: no route for host nowhere.test path \/x/);
  });
  test('the backend sees method, path, query, body and forwarding headers', async () => {
    const r = await get('shop.test', '/p/x?y=1&y=2', { method: 'POST', body: 'hello', headers: { 'x-forwarded-for': '203.0.113.7' } });
    const seen = r.json;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/p/x?y=1&y=2');
    assert.equal(seen.body, 'hello');
    assert.equal(seen.headers.host, 'shop.test');
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(seen.headers['x-real-ip'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'shop.test');
    assert.ok(seen.headers['x-trace-id']);
    assert.equal(r.headers['x-trace-id'], seen.headers['x-trace-id']);
  });
});

test('listener isolation: a request belongs to the most specific listener of its port only', async () => {
  const iso = (host: string, path: string) => request({ port: isoPort, host, path });
  assert.equal((await iso('other.test', '/any')).json?.server, 'a');
  assert.equal((await iso('other.test', '/wild')).status, 404);
  assert.equal((await iso('x.iso.test', '/wild')).json?.server, 'b');
  assert.equal((await iso('x.iso.test', '/any')).status, 404);
  assert.equal((await iso('a.iso.test', '/exact-l')).json?.server, 'c');
  assert.equal((await iso('a.iso.test', '/wild')).status, 404);
  assert.equal((await iso('a.iso.test', '/any')).status, 404);
});

describe('filters', () => {
  test('RequestHeaderModifier and ResponseHeaderModifier', async () => {
    const r = await get('filters.test', '/hdr', { headers: { 'x-add': 'a1', 'x-remove': 'gone', 'x-set': 'old' } });
    assert.equal(r.json.headers['x-set'], 's1');
    assert.equal(r.json.headers['x-add'], 'a1,a2');
    assert.equal(r.json.headers['x-remove'], undefined);
    assert.equal(r.headers['x-resp-set'], 'r1');
    assert.equal(r.headers['x-resp-add'], 'r2');
    assert.equal(r.headers['x-backend'], undefined);
  });
  test('RequestRedirect keeps the listener port and the query, replaces the prefix', async () => {
    const r = await get('filters.test', '/old/page?x=1');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, `http://filters.test:${port}/new/page?x=1`);
  });
  test('RequestRedirect with a scheme uses its default port', async () => {
    const r = await get('filters.test', '/secure/x');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'https://secure.example/secure/x');
  });
  test('URLRewrite replaces host and prefix without a double slash', async () => {
    const r = await get('filters.test', '/strip/one/two?k=v');
    assert.equal(r.json.url, '/one/two?k=v');
    assert.equal(r.json.headers.host, 'rewritten.internal');
    assert.equal((await get('filters.test', '/full/whatever')).json.url, '/replaced');
  });
});

test('weights split traffic 3:1 and weight 0 gets nothing', async () => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < 80; i++) {
    const s = (await get('weights.test', '/w')).json?.server as string;
    counts[s] = (counts[s] ?? 0) + 1;
  }
  assert.equal(counts.a, 60);
  assert.equal(counts.b, 20);
  assert.equal(counts.c, undefined);
});

describe('gateway-made errors', () => {
  test('a backendRef to a missing Service gets 500 and the route says ResolvedRefs=False', async () => {
    const r = await get('errors.test', '/missing');
    assert.equal(r.status, 500);
    assert.match(r.body, /Service default\/no-such-service does not exist/);
    const st = await e.api('/api/v1/resources/httproute/default/broken-backends');
    const cond = st.json.status.parents[0].conditions.find((x: any) => x.type === 'ResolvedRefs');
    assert.equal(cond.status, 'False');
    assert.equal(cond.reason, 'BackendNotFound');
  });
  test('a cross-namespace backend without ReferenceGrant gets 500 (RefNotPermitted)', async () => {
    const r = await get('xns.test', '/xns');
    assert.equal(r.status, 500);
    assert.match(r.body, /ReferenceGrant/);
    const st = await e.api('/api/v1/resources/HTTPRoute/default/cross-namespace');
    const cond = st.json.status.parents[0].conditions.find((x: any) => x.type === 'ResolvedRefs');
    assert.equal(cond.reason, 'RefNotPermitted');
  });
  test('a Service without endpoints gets 503', async () => {
    const r = await get('errors.test', '/empty');
    assert.equal(r.status, 503);
    assert.match(r.body, /no ready endpoint/);
  });
  test('a refused connection gets 503 after retries', async () => {
    const r = await get('errors.test', '/dead');
    assert.equal(r.status, 503);
    assert.match(r.body, /cannot connect/);
  });
  test('the route request timeout gives 504', async () => {
    const r = await get('errors.test', '/slow/delay/2000');
    assert.equal(r.status, 504);
  });
});

test('every request is in the access log with route, upstream and status', async () => {
  const marker = `/log-${Date.now()}`;
  await get('shop.test', marker);
  await get('nowhere.test', marker);
  const lines = await waitFor(async () => {
    const l = e.accessLog().filter((x) => x.request_info?.path === marker);
    return l.length >= 2 ? l : undefined;
  });
  assert.ok(lines, 'two access log lines');
  const ok = lines!.find((l) => l.request_info.host === 'shop.test');
  assert.equal(ok.request_info.status, 200);
  assert.equal(ok.match_info.rn, 'shop');
  assert.equal(ok.backend_context.upstreams[0].port, a.port);
  const miss = lines!.find((l) => l.request_info.host === 'nowhere.test');
  assert.equal(miss.request_info.status, 404);
  assert.deepEqual(miss.errors, ['RouteNotFound']);
  assert.equal(miss.backend_context, null);
});
