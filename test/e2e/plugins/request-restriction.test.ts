// RequestRestriction end to end: rules on headers, cookies, query, path, method and referer, with
// exact lists and regexes, case folding, onMissing, matchMode Any/All, status and message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, type Res } from '../../helpers/http.js';

let e: Edgion;
let echo: EchoServer;
let port: number;

const plugin = (name: string, config: Record<string, unknown>) => `apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: ${name}, namespace: default }
spec:
  requestPlugins:
    - type: RequestRestriction
      config: ${JSON.stringify(config)}
`;
const route = (name: string, host: string, set: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules:
    - filters: [{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: EdgionPlugins, name: ${set} } }]
      backendRefs: [{ name: echo, port: ${echo.port} }]
`;

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('echo', echo.port)].join('---\n'),
      'plugins.yaml': [
        plugin('any', {
          rules: [
            { name: 'block-bots', source: 'Header', key: 'user-agent', denyRegex: ['(?i)sqlmap', '(?i)nikto'] },
            { name: 'only-get-post', source: 'Method', allow: ['GET', 'POST'] },
            { name: 'api-paths', source: 'Path', allow: ['/health'], allowRegex: ['^/api/'] },
            { name: 'tenant', source: 'Query', key: 'tenant', deny: ['evil'], caseSensitive: false },
            { name: 'session', source: 'Cookie', key: 'plan', deny: ['blocked'], onMissing: 'Skip' },
            { name: 'referer', source: 'Referer', denyRegex: ['^https://spam\\.test/'] },
          ],
          status: 429,
          message: 'Request refused',
        }),
        plugin('need-header', { rules: [{ source: 'Header', key: 'x-api-version', allow: ['v1', 'v2'], onMissing: 'Deny' }] }),
        plugin('all', {
          matchMode: 'All',
          rules: [
            { source: 'Header', key: 'x-a', deny: ['1'] },
            { source: 'Header', key: 'x-b', deny: ['1'] },
          ],
        }),
        plugin('bad', { rules: [{ source: 'Header', allow: ['x'] }, { source: 'Path', denyRegex: ['(?s)x'] }, { source: 'Method' }] }),
      ].join('---\n'),
      'routes.yaml': ['any', 'need-header', 'all', 'bad'].map((n) => route(n, `${n}.test`, n)).join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const call = (host: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> => request({ port, host, path, method, headers });

test('a request every rule allows reaches the backend', async () => {
  const r = await call('any.test', '/api/items?tenant=acme', { 'user-agent': 'Mozilla/5.0', cookie: 'plan=gold', referer: 'https://app.test/' });
  assert.equal(r.status, 200);
  assert.equal(r.json.path, '/api/items');
  assert.equal((await call('any.test', '/health')).status, 200, 'exact allow');
});

test('any denying rule denies (matchMode Any) with the configured status and JSON message', async () => {
  const cases: [string, Record<string, string>, string?][] = [
    ['/api/x', { 'user-agent': 'SQLMap/1.5' }],
    ['/api/x', {}, 'DELETE'],
    ['/admin', {}],
    ['/api/x?tenant=EVIL', {}],
    ['/api/x', { cookie: 'plan=blocked' }],
    ['/api/x', { referer: 'https://spam.test/buy' }],
  ];
  for (const [path, headers, method] of cases) {
    const r = await call('any.test', path, headers, method);
    assert.equal(r.status, 429, `${method ?? 'GET'} ${path} ${JSON.stringify(headers)}`);
    assert.match(String(r.headers['content-type']), /application\/json/);
    assert.deepEqual(r.json, { message: 'Request refused' });
  }
});

test('exact values are case-sensitive by default and not prefixes', async () => {
  assert.equal((await call('any.test', '/health/x')).status, 429);
  assert.equal((await call('need-header.test', '/', { 'x-api-version': 'V1' })).status, 403);
  assert.equal((await call('need-header.test', '/', { 'x-api-version': 'v1' })).status, 200);
});

test('onMissing Deny denies a request without the value (default status and message)', async () => {
  const r = await call('need-header.test', '/');
  assert.equal(r.status, 403);
  assert.deepEqual(r.json, { message: 'Access denied by restriction policy' });
});

test('matchMode All denies only when every rule denies', async () => {
  assert.equal((await call('all.test', '/', { 'x-a': '1' })).status, 200);
  assert.equal((await call('all.test', '/', { 'x-b': '1' })).status, 200);
  assert.equal((await call('all.test', '/', { 'x-a': '1', 'x-b': '1' })).status, 403);
});

test('bad rules are rejected with precise paths; the route fails closed', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /config\.rules\[0\]\.key: RequestRestriction: key is required for source Header|config\.rules\[0\]\.key/);
  assert.match(accepted.message, /config\.rules\[1\]\.denyRegex\[0\]/);
  assert.match(accepted.message, /config\.rules\[2\]/);
  assert.equal((await call('bad.test', '/')).status, 500);
});
