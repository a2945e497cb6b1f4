// KeyAuth end to end: keys in a Secret (keys.yaml), header/query/cookie sources in order,
// whitelisted metadata headers over forged ones, hideCredentials, anonymous consumer, realm,
// failure delay, and a rejected configuration.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, waitFor } from '../../helpers/http.js';
import { accepted, baseConf, docs, entry, plugins, route, secretText, up } from './auth-conf.js';

const KEYS = `- key: "k-orion-7f3a"
  X-Consumer-Username: "orion"
  X-Tenant: "t-north"
  X-Plan: "gold"
- key: "k-vega-19bc"
  X-Consumer-Username: "vega"
  X-Tenant: "t-south"
  X-Plan: "free"
`;

let e: Edgion;
let echo: EchoServer;
let port: number;

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  const srcs = [
    { type: 'header', name: 'X-Api-Key' },
    { type: 'query', name: 'apikey_q' },
    { type: 'cookie', name: 'ak' },
  ];
  const ref = [{ name: 'ka-keys' }];
  e = await Edgion.start({
    conf: {
      'base.yaml': baseConf(port, echo.port),
      'auth.yaml': docs(
        secretText('ka-keys', { 'keys.yaml': KEYS }),
        plugins('ka-main', [entry('KeyAuth', { keySources: srcs, realm: 'Key Zone', secretRefs: ref, upstreamHeaderFields: ['X-Consumer-Username', 'X-Tenant'] })]),
        plugins('ka-hide', [entry('KeyAuth', { keySources: [srcs[0]], hideCredentials: true, secretRefs: ref, upstreamHeaderFields: ['X-Consumer-Username'] })]),
        plugins('ka-anon', [entry('KeyAuth', { keySources: [srcs[0]], anonymous: 'anon-key-user', secretRefs: ref, upstreamHeaderFields: ['X-Consumer-Username', 'X-Plan'] })]),
        plugins('ka-slow', [entry('KeyAuth', { keySources: [srcs[0]], authFailureDelayMs: 400, secretRefs: ref })]),
        plugins('ka-default', [entry('KeyAuth', { secretRefs: ref, upstreamHeaderFields: ['X-Consumer-Username'] })]),
        plugins('ka-bad', [entry('KeyAuth', { keySources: [{ type: 'path' }], secretRefs: ref })]),
        route('ka-main', 'ka-main.test', 'ka-main', echo.port),
        route('ka-hide', 'ka-hide.test', 'ka-hide', echo.port),
        route('ka-anon', 'ka-anon.test', 'ka-anon', echo.port),
        route('ka-slow', 'ka-slow.test', 'ka-slow', echo.port),
        route('ka-default', 'ka-default.test', 'ka-default', echo.port),
        route('ka-bad', 'ka-bad.test', 'ka-bad', echo.port),
      ),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string, headers: Record<string, string> = {}, path = '/ka') => request({ port, host, path, headers });

test('missing and unknown keys get 401 with the realm; keys are case-sensitive', async () => {
  let r = await get('ka-main.test');
  assert.equal(r.status, 401);
  assert.equal(r.headers['www-authenticate'], 'ApiKey realm="Key Zone"');
  assert.equal(r.body, '401 Unauthorized - Missing API key');
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  r = await get('ka-main.test', { 'x-api-key': 'k-unknown' });
  assert.equal(r.status, 401);
  assert.equal(r.body, '401 Unauthorized - Invalid API key');
  r = await get('ka-main.test', { 'x-api-key': 'K-ORION-7F3A' });
  assert.equal(r.status, 401);
});

test('a valid key reaches the upstream with whitelisted metadata only', async () => {
  const r = await get('ka-main.test', { 'x-api-key': 'k-orion-7f3a' });
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-consumer-username'), 'orion');
  assert.equal(up(r, 'x-tenant'), 't-north');
  assert.equal(up(r, 'x-plan'), undefined);
  assert.equal(up(r, 'x-api-key'), 'k-orion-7f3a');
});

test('metadata overrides a forged client value', async () => {
  const r = await get('ka-main.test', { 'x-api-key': 'k-vega-19bc', 'x-tenant': 't-forged', 'x-consumer-username': 'root' });
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-consumer-username'), 'vega');
  assert.equal(up(r, 'x-tenant'), 't-south');
});

test('query and cookie sources; header has priority; unconfigured sources are ignored', async () => {
  let r = await get('ka-main.test', {}, '/ka?apikey_q=k-vega-19bc&x=1');
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-consumer-username'), 'vega');
  r = await get('ka-main.test', { cookie: 'a=b; ak=k-orion-7f3a' });
  assert.equal(up(r, 'x-consumer-username'), 'orion');
  r = await get('ka-main.test', { 'x-api-key': 'k-orion-7f3a' }, '/ka?apikey_q=k-vega-19bc');
  assert.equal(up(r, 'x-consumer-username'), 'orion');
  r = await get('ka-main.test', {}, '/ka?apikey=k-orion-7f3a');
  assert.equal(r.status, 401);
});

test('hideCredentials removes the key header upstream', async () => {
  const r = await get('ka-hide.test', { 'x-api-key': 'k-orion-7f3a' });
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-api-key'), undefined);
  assert.equal(up(r, 'x-consumer-username'), 'orion');
});

test('anonymous consumer without a key; a wrong key is still rejected', async () => {
  let r = await get('ka-anon.test');
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-consumer-username'), 'anon-key-user');
  assert.equal(up(r, 'x-anonymous-consumer'), 'true');
  r = await get('ka-anon.test', { 'x-api-key': 'k-vega-19bc' });
  assert.equal(up(r, 'x-consumer-username'), 'vega');
  assert.equal(up(r, 'x-plan'), 'free');
  assert.equal(up(r, 'x-anonymous-consumer'), undefined);
  r = await get('ka-anon.test', { 'x-api-key': 'k-wrong' });
  assert.equal(r.status, 401);
});

test('default sources: header and query "apikey", realm "API Gateway"', async () => {
  let r = await get('ka-default.test', { apikey: 'k-vega-19bc' });
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-consumer-username'), 'vega');
  r = await get('ka-default.test', {}, '/ka?apikey=k-orion-7f3a');
  assert.equal(up(r, 'x-consumer-username'), 'orion');
  r = await get('ka-default.test');
  assert.equal(r.status, 401);
  assert.equal(r.headers['www-authenticate'], 'ApiKey realm="API Gateway"');
});

test('authFailureDelayMs delays the 401', async () => {
  const t0 = performance.now();
  const r = await get('ka-slow.test', { 'x-api-key': 'k-nope' });
  assert.equal(r.status, 401);
  assert.ok(performance.now() - t0 >= 380, 'delayed by about 400 ms');
});

test('the access log names the rejection', async () => {
  const marker = `/ka-log-${Date.now()}`;
  await get('ka-main.test', { 'x-api-key': 'nope' }, marker);
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === marker));
  assert.ok(line, 'access log line written');
  assert.ok(JSON.stringify(line).includes('KeyAuthInvalid'));
});

test('a bad configuration is rejected in the status and the route fails closed', async () => {
  const a = await accepted((p) => e.api(p), 'EdgionPlugins', 'ka-bad');
  assert.equal(a?.status, 'False');
  assert.match(a!.message, /spec\.requestPlugins\[0\]\.config\.keySources\[0\]\.type: KeyAuth: KeyAuth reads keys from header, query, cookie, ctx, webhook only/);
  const r = await get('ka-bad.test', { 'x-api-key': 'k-orion-7f3a' });
  assert.equal(r.status, 500);
});
