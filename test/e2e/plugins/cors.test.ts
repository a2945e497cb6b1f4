// Cors plugin and the Gateway API HTTPRoute CORS filter end to end (same CORS code): allowed and
// disallowed origins, comma lists and `*.domain` patterns, anchored regexes, preflights answered
// 200 (with or without CORS headers), preflightContinue, private network, timing, Vary.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, type Res } from '../../helpers/http.js';

let e: Edgion;
let echo: EchoServer;
let port: number;

const APP = 'https://app.example.test';
const plugin = (name: string, config: Record<string, unknown>) => `apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: ${name}, namespace: default }
spec:
  requestPlugins:
    - type: Cors
      config: ${JSON.stringify(config)}
`;
const route = (name: string, host: string, filters: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules:
    - filters: ${filters}
      backendRefs: [{ name: echo, port: ${echo.port} }]
`;
const ext = (n: string) => `[{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: EdgionPlugins, name: ${n} } }]`;

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  const gatewayCors = JSON.stringify([
    {
      type: 'CORS',
      cors: {
        allowOrigins: ['https://www.foo.com', 'https://*.bar.com'],
        allowMethods: ['GET', 'OPTIONS'],
        allowHeaders: ['x-header-1', 'x-header-2'],
        exposeHeaders: ['x-header-3', 'x-header-4'],
        allowCredentials: true,
        maxAge: 3600,
      },
    },
  ]);
  const gatewayWild = JSON.stringify([{ type: 'CORS', cors: { allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], exposeHeaders: ['*'], allowCredentials: true } }]);
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('echo', echo.port)].join('---\n'),
      'plugins.yaml': [
        plugin('list', { allowOrigins: `${APP}, https://admin.example.test,*.corp.test`, allowMethods: 'GET,POST,PUT', allowHeaders: 'Content-Type,X-Trace', exposeHeaders: 'X-Total', allowCredentials: true, maxAge: 600, allowPrivateNetwork: true, timingAllowOrigins: APP }),
        plugin('reflect', { allowOrigins: '**', allowMethods: '**', allowHeaders: '**', allowCredentials: true }),
        plugin('star', { allowOrigins: '*' }),
        plugin('regex', { allowOriginsByRegex: ['https://[a-z]+\\.tenant\\.test', '(?i)https://UPPER\\.test'] }),
        plugin('cont', { allowOrigins: APP, preflightContinue: true }),
        plugin('bad', { allowOrigins: '*', allowCredentials: true }),
      ].join('---\n'),
      'routes.yaml': [
        route('list', 'list.test', ext('list')),
        route('reflect', 'reflect.test', ext('reflect')),
        route('star', 'star.test', ext('star')),
        route('regex', 'regex.test', ext('regex')),
        route('cont', 'cont.test', ext('cont')),
        route('bad', 'bad.test', ext('bad')),
        route('gapi', 'gapi.test', gatewayCors),
        route('gwild', 'gwild.test', gatewayWild),
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const req = (host: string, method: string, headers: Record<string, string> = {}, path = '/items'): Promise<Res> => request({ port, host, path, method, headers });
const preflight = (host: string, origin: string, m = 'PUT', extra: Record<string, string> = {}) => req(host, 'OPTIONS', { origin, 'access-control-request-method': m, ...extra });

test('allowed origins from a comma list are echoed, with credentials, expose headers and Vary', async () => {
  for (const o of [APP, 'https://admin.example.test']) {
    const r = await req('list.test', 'GET', { origin: o });
    assert.equal(r.status, 200);
    assert.equal(r.json.method, 'GET');
    assert.equal(r.headers['access-control-allow-origin'], o);
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['access-control-expose-headers'], 'X-Total');
    assert.match(String(r.headers.vary), /Origin/);
    assert.equal(r.headers['access-control-max-age'], undefined, 'max-age only on preflights');
  }
});

test('*.domain patterns allow subdomains with any scheme, never suffix tricks', async () => {
  assert.equal((await req('list.test', 'GET', { origin: 'https://intranet.corp.test' })).headers['access-control-allow-origin'], 'https://intranet.corp.test');
  assert.equal((await req('list.test', 'GET', { origin: 'http://a.b.corp.test' })).headers['access-control-allow-origin'], 'http://a.b.corp.test');
  for (const o of ['https://intranet.corp.test.evil.test', 'https://corp.test', 'https://evilcorp.test', 'https://x.corp.test:8443']) {
    assert.equal((await req('list.test', 'GET', { origin: o })).headers['access-control-allow-origin'], undefined, o);
  }
});

test('a disallowed origin or Origin: null is served without CORS headers; no Origin gets nothing', async () => {
  const r = await req('list.test', 'GET', { origin: 'https://evil.test' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  assert.equal(r.headers['access-control-allow-credentials'], undefined);
  assert.equal((await req('list.test', 'GET', { origin: 'null' })).headers['access-control-allow-origin'], undefined);
  const none = await req('list.test', 'GET');
  assert.equal(none.headers['access-control-allow-origin'], undefined);
  assert.equal(none.headers.vary, undefined);
});

test('preflight from an allowed origin: 200 from the plugin with every preflight header', async () => {
  const before = echo.seen.length;
  const r = await preflight('list.test', APP, 'PUT', { 'access-control-request-headers': 'content-type', 'access-control-request-private-network': 'true' });
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.equal(r.headers['access-control-allow-origin'], APP);
  assert.equal(r.headers['access-control-allow-methods'], 'GET,POST,PUT');
  assert.equal(r.headers['access-control-allow-headers'], 'Content-Type,X-Trace');
  assert.equal(r.headers['access-control-max-age'], '600');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers['access-control-allow-private-network'], 'true');
  assert.equal(r.headers['timing-allow-origin'], APP);
  assert.equal(r.headers.server, 'edgion');
  assert.equal(echo.seen.length, before, 'not proxied');
});

test('preflight from a disallowed origin: 200 without CORS headers, not proxied (DECISIONS §34)', async () => {
  const before = echo.seen.length;
  const r = await preflight('list.test', 'https://evil.test');
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], undefined);
  assert.equal(r.headers['access-control-allow-methods'], undefined);
  assert.equal(echo.seen.length, before);
});

test('OPTIONS without Access-Control-Request-Method is no preflight: proxied', async () => {
  const r = await req('list.test', 'OPTIONS', { origin: APP });
  assert.equal(r.json.method, 'OPTIONS');
  assert.equal(r.headers['access-control-allow-origin'], APP);
});

test('** reflects any origin, the requested headers; ** methods is the full list', async () => {
  const r = await preflight('reflect.test', 'https://whoever.test', 'PATCH', { 'access-control-request-headers': 'x-a, x-b' });
  assert.equal(r.headers['access-control-allow-origin'], 'https://whoever.test');
  assert.equal(r.headers['access-control-allow-headers'], 'x-a, x-b');
  assert.equal(r.headers['access-control-allow-methods'], 'GET,POST,PUT,DELETE,PATCH,HEAD,OPTIONS,CONNECT,TRACE');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
});

test('* answers "*" without Vary; defaults for methods and headers', async () => {
  const r = await preflight('star.test', 'https://anyone.test', 'GET');
  assert.equal(r.headers['access-control-allow-origin'], '*');
  assert.equal(r.headers.vary, undefined);
  assert.equal(r.headers['access-control-allow-methods'], 'GET,HEAD,OPTIONS');
  assert.equal(r.headers['access-control-allow-headers'], 'Accept,Accept-Language,Content-Language,Content-Type,Range');
});

test('regexes must match the whole origin; (?i) makes one case-insensitive', async () => {
  assert.equal((await req('regex.test', 'GET', { origin: 'https://acme.tenant.test' })).headers['access-control-allow-origin'], 'https://acme.tenant.test');
  assert.equal((await req('regex.test', 'GET', { origin: 'https://acme.tenant.test.evil.test' })).headers['access-control-allow-origin'], undefined);
  assert.equal((await req('regex.test', 'GET', { origin: 'https://x.https://acme.tenant.test' })).headers['access-control-allow-origin'], undefined);
  assert.equal((await req('regex.test', 'GET', { origin: 'https://upper.test' })).headers['access-control-allow-origin'], 'https://upper.test');
});

test('preflightContinue proxies the preflight and still adds the headers', async () => {
  const r = await preflight('cont.test', APP, 'GET');
  assert.equal(r.json.method, 'OPTIONS');
  assert.equal(r.headers['access-control-allow-origin'], APP);
});

test('"*" with allowCredentials is rejected with the field named; the route fails closed', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.requestPlugins\[0\]\.config\.allowCredentials/);
  assert.equal((await req('bad.test', 'GET', { origin: APP })).status, 500);
});

test('Gateway API CORS filter: exact and wildcard origins, preflight headers, credentials', async () => {
  for (const o of ['https://www.foo.com', 'https://www.bar.com', 'https://xpto.www.bar.com']) {
    const r = await preflight('gapi.test', o, 'GET', { 'access-control-request-headers': 'x-header-1, x-header-2' });
    assert.equal(r.status, 200, o);
    assert.equal(r.headers['access-control-allow-origin'], o);
    assert.equal(r.headers['access-control-allow-methods'], 'GET,OPTIONS');
    assert.equal(r.headers['access-control-allow-headers'], 'x-header-1,x-header-2');
    assert.equal(r.headers['access-control-expose-headers'], 'x-header-3,x-header-4');
    assert.equal(r.headers['access-control-max-age'], '3600');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
  }
  const no = await preflight('gapi.test', 'https://foobar.com', 'GET');
  assert.equal(no.status, 200);
  assert.equal(no.headers['access-control-allow-origin'], undefined);
  const simple = await req('gapi.test', 'GET', { origin: 'https://www.foo.com' });
  assert.equal(simple.json.method, 'GET');
  assert.equal(simple.headers['access-control-allow-origin'], 'https://www.foo.com');
  assert.equal((await req('gapi.test', 'GET', { origin: 'https://foobar.com' })).headers['access-control-allow-origin'], undefined);
});

test('Gateway API CORS filter: "*" with credentials echoes origin, method and headers; expose lists response headers', async () => {
  const r = await preflight('gwild.test', 'https://other.foo.com', 'PUT', { 'access-control-request-headers': 'x-header-1, x-header-2' });
  assert.equal(r.headers['access-control-allow-origin'], 'https://other.foo.com');
  assert.equal(r.headers['access-control-allow-methods'], 'PUT');
  assert.equal(r.headers['access-control-allow-headers'], 'x-header-1, x-header-2');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(r.headers['access-control-max-age'], '5', 'the Gateway API default');
  const g = await req('gwild.test', 'GET', { origin: 'https://other.foo.com', authorization: 'Bearer test' });
  assert.equal(g.headers['access-control-allow-origin'], 'https://other.foo.com');
  assert.match(String(g.headers['access-control-expose-headers']), /x-backend/);
});
