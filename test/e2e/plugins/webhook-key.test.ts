// The `webhook` key source end to end (plugins.md §3.3): a LinkSys webhook served by a real HTTP
// server on 127.0.0.1, read by CtxSet and by conditions; KeyAuth-like use (a missing key → 401);
// the X-Forwarded-* headers the webhook receives; one call per request; a dead webhook is a
// missing key; a bad LinkSys is rejected in its status.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { base, condition, docs, plugins, route } from './util-kit.js';

let e: Edgion;
let echo: EchoServer;
let port: number;
let hook: http.Server;
const calls: http.IncomingHttpHeaders[] = [];

const linkSys = (name: string, config: Record<string, unknown>) => ({ apiVersion: 'edgion.io/v1', kind: 'LinkSys', metadata: { name, namespace: 'default' }, spec: { type: 'webhook', config } });
const tenantKey = { type: 'webhook', webhookRef: 'default/tenant-resolver', extract: { source: 'body', path: 'data.tenant.id' } };
const toHeader = { type: 'Dsl', config: { name: 'fwd', source: 'if ctx.get("tenant") != nil { req.set_header("x-tenant", ctx.get("tenant")) }' } };

before(async () => {
  hook = http.createServer((req, res) => {
    calls.push(req.headers);
    const auth = req.headers.authorization;
    if (auth === 'Bearer good' || auth === 'Bearer vip') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-tier': auth === 'Bearer vip' ? 'vip' : 'std' });
      res.end(JSON.stringify({ data: { tenant: { id: auth === 'Bearer vip' ? 't-vip' : 't-good' } } }));
    } else {
      res.writeHead(401);
      res.end('no');
    }
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookPort = (hook.address() as AddressInfo).port;
  const deadPort = await freePort();
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': base(port, echo.port),
      'linksys.yaml': docs([
        linkSys('tenant-resolver', { uri: `http://127.0.0.1:${hookPort}/resolve`, requestHeaders: ['Authorization'], timeoutMs: 1000 }),
        linkSys('dead-resolver', { uri: `http://127.0.0.1:${deadPort}/`, timeoutMs: 300, retry: { maxRetries: 0 } }),
        linkSys('bad-webhook', { uri: 'ftp://nowhere', maxResponseBytes: 100000 }),
      ]),
      'plugins.yaml': docs([
        plugins('wh-auth', {
          requestPlugins: [
            { type: 'CtxSet', config: { vars: [{ name: 'tenant', from: tenantKey }] } },
            { type: 'Mock', config: { statusCode: 401, contentType: 'text/plain', body: 'unknown tenant', headers: { 'WWW-Authenticate': 'Bearer realm="tenants"' } }, conditions: { skip: [{ type: 'keyExist', key: { type: 'ctx', name: 'tenant' } }] } },
            toHeader,
          ],
        }),
        plugins('wh-cond', {
          requestPlugins: [
            { type: 'CtxSet', config: { vars: [{ name: 'tenant', from: tenantKey }] } },
            { type: 'Mock', config: { statusCode: 200, body: '{"lounge":"vip"}' }, conditions: { run: [{ type: 'keyMatch', key: { type: 'webhook', webhookRef: 'tenant-resolver', extract: { source: 'header', name: 'x-tier' } }, value: 'vip' }] } },
            toHeader,
          ],
        }),
        plugins('wh-dead', { requestPlugins: [{ type: 'CtxSet', config: { vars: [{ name: 'tenant', from: { ...tenantKey, webhookRef: 'default/dead-resolver' }, default: 'fallback' }] } }, toHeader] }),
        plugins('wh-missing', { requestPlugins: [{ type: 'CtxSet', config: { vars: [{ name: 'tenant', from: { ...tenantKey, webhookRef: 'default/no-such-linksys' }, default: 'none' }] } }, toHeader] }),
      ]),
      'routes.yaml': docs([
        route('wh-auth', 'auth.test', echo.port, ['wh-auth']),
        route('wh-cond', 'cond.test', echo.port, ['wh-cond']),
        route('wh-dead', 'dead.test', echo.port, ['wh-dead']),
        route('wh-missing', 'missing.test', echo.port, ['wh-missing']),
      ]),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
  hook?.closeAllConnections();
  hook?.close();
});

const get = (host: string, path = '/', headers: Record<string, string> = {}) => request({ port, host, path, headers });

test('a key from the webhook body reaches the upstream; the webhook gets the request headers asked for and X-Forwarded-*', async () => {
  calls.length = 0;
  const r = await get('auth.test', '/orders?id=7', { authorization: 'Bearer good', 'x-not-sent': '1' });
  assert.equal(r.status, 200);
  assert.equal(r.json.headers['x-tenant'], 't-good');
  assert.equal(calls.length, 1);
  const h = calls[0]!;
  assert.equal(h.authorization, 'Bearer good');
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  assert.equal(h['x-forwarded-method'], 'GET');
  assert.equal(h['x-forwarded-uri'], '/orders?id=7');
  assert.equal(h['x-forwarded-host'], 'auth.test');
  assert.equal(h['x-not-sent'], undefined);
});

test('the webhook refuses (non-success status): the key is missing and the plugin\'s own policy answers 401', async () => {
  const before = echo.seen.length;
  const r = await get('auth.test', '/', { authorization: 'Bearer bad' });
  assert.equal(r.status, 401);
  assert.equal(r.body, 'unknown tenant');
  assert.equal(r.headers['www-authenticate'], 'Bearer realm="tenants"');
  assert.equal(echo.seen.length, before);
  assert.equal((await get('auth.test')).status, 401, 'no credentials at all');
});

test('a condition on a webhook header; one webhook call per request for every reader', async () => {
  calls.length = 0;
  const vip = await get('cond.test', '/', { authorization: 'Bearer vip' });
  assert.equal(vip.status, 200);
  assert.equal(vip.body, '{"lounge":"vip"}');
  assert.equal(calls.length, 1, 'CtxSet and the condition share one call');
  const std = await get('cond.test', '/', { authorization: 'Bearer good' });
  assert.equal(std.json.headers['x-tenant'], 't-good');
  assert.equal(calls.length, 2);
});

test('an unreachable webhook or a LinkSys that does not exist: the key is missing (the default applies)', async () => {
  const t0 = Date.now();
  let r = await get('dead.test', '/', { authorization: 'Bearer good' });
  assert.equal(r.status, 200);
  assert.equal(r.json.headers['x-tenant'], 'fallback');
  assert.ok(Date.now() - t0 < 2000);
  r = await get('missing.test');
  assert.equal(r.json.headers['x-tenant'], 'none');
});

test('a LinkSys webhook with a bad config is rejected in its status, naming the fields', async () => {
  const st = await e.api('/api/v1/resources/LinkSys/default/bad-webhook');
  const acc = condition(st.json, 'Accepted')!;
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /spec\.config\.uri: webhook: must be an http:\/\/ or https:\/\/ URL/);
  assert.match(acc.message, /spec\.config\.maxResponseBytes: webhook: must be <= 16384/);
});
