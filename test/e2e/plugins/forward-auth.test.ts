// ForwardAuth end to end with a real auth service on 127.0.0.1: what the service receives
// (selected headers, X-Forwarded-*, no body), headers copied upstream on success, the service's
// status/body/clientHeaders on failure, success codes, timeout, unreachable service with and
// without degradation, and a rejected configuration.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { accepted, baseConf, docs, entry, plugins, route, up } from './auth-conf.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let e: Edgion;
let echo: EchoServer;
let port: number;
let auth: http.Server;
const seen: Seen[] = [];

before(async () => {
  auth = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const path = (req.url ?? '').split('?')[0];
      if (path === '/slow') return void setTimeout(() => res.writeHead(200).end(), 2000);
      if (path === '/teapot') return void res.writeHead(418, { 'content-type': 'text/plain' }).end("I'm a teapot");
      if (req.headers.authorization === 'Bearer good') {
        res.writeHead(path === '/created' ? 201 : 200, { 'x-user-id': 'user-42', 'x-user-roles': 'admin,ops', 'x-auth-result': 'ok' });
        return void res.end('{"ok":true}');
      }
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="auth"', 'x-auth-result': 'denied', 'x-internal': 'secret' });
      res.end('{"error":"denied"}');
    });
  });
  await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r));
  const a = `http://127.0.0.1:${(auth.address() as AddressInfo).port}`;
  const dead = `http://127.0.0.1:${await freePort()}/check`;
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': baseConf(port, echo.port),
      'auth.yaml': docs(
        plugins('fa-main', [entry('ForwardAuth', { uri: `${a}/check`, requestHeaders: ['authorization', 'cookie'], upstreamHeaders: ['x-user-id', 'x-user-roles'], clientHeaders: ['www-authenticate', 'x-auth-result'], hideCredentials: true })]),
        plugins('fa-all', [entry('ForwardAuth', { uri: `${a}/check`, requestMethod: 'POST' })]),
        plugins('fa-codes', [entry('ForwardAuth', { uri: `${a}/created`, successStatusCodes: [201] })]),
        plugins('fa-codes-strict', [entry('ForwardAuth', { uri: `${a}/check`, successStatusCodes: [201] })]),
        plugins('fa-teapot', [entry('ForwardAuth', { uri: `${a}/teapot`, authFailureDelayMs: 300 })]),
        plugins('fa-slow', [entry('ForwardAuth', { uri: `${a}/slow`, timeoutMs: 300, statusOnError: 504 })]),
        plugins('fa-dead', [entry('ForwardAuth', { uri: dead })]),
        plugins('fa-degrade', [entry('ForwardAuth', { uri: dead, allowDegradation: true })]),
        plugins('fa-bad', [entry('ForwardAuth', { uri: 'not a url' })]),
        ...['main', 'all', 'codes', 'codes-strict', 'teapot', 'slow', 'dead', 'degrade', 'bad'].map((n) => route(`fa-${n}`, `fa-${n}.test`, `fa-${n}`, echo.port)),
      ),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
  auth?.closeAllConnections();
  await new Promise((r) => auth?.close(r));
});

const get = (host: string, headers: Record<string, string> = {}, path = '/api/items?page=2&x=%20y', method = 'GET', body?: string) =>
  request({ port, host, path, headers, method, ...(body !== undefined ? { body } : {}) });

test('allowed: upstream headers copied from the auth answer (over forged ones), credentials hidden', async () => {
  const n = seen.length;
  const r = await get('fa-main.test', { authorization: 'Bearer good', cookie: 's=1', 'x-user-id': 'forged', 'x-user-roles': 'forged', 'x-other': 'o' });
  assert.equal(r.status, 200, r.body);
  assert.equal(up(r, 'x-user-id'), 'user-42');
  assert.equal(up(r, 'x-user-roles'), 'admin,ops');
  assert.equal(up(r, 'x-auth-result'), undefined, 'not in upstreamHeaders');
  assert.equal(up(r, 'authorization'), undefined);
  assert.equal(up(r, 'x-other'), 'o');
  const call = seen[n]!;
  assert.equal(call.method, 'GET');
  assert.equal(call.url, '/check');
  assert.equal(call.headers.authorization, 'Bearer good');
  assert.equal(call.headers.cookie, 's=1');
  assert.equal(call.headers['x-other'], undefined, 'only requestHeaders are forwarded');
  assert.equal(call.headers['x-forwarded-host'], 'fa-main.test');
  assert.equal(call.headers['x-forwarded-uri'], '/api/items');
  assert.equal(call.headers['x-forwarded-method'], 'GET');
  assert.equal(call.headers['x-forwarded-query'], 'page=2&x=%20y');
  assert.equal(call.headers['x-forwarded-proto'], 'http');
});

test('denied: the client gets the service status, body, content type and clientHeaders only', async () => {
  const before = echo.seen.length;
  const r = await get('fa-main.test', { authorization: 'Bearer bad', 'x-user-id': 'forged' });
  assert.equal(r.status, 401);
  assert.equal(r.body, '{"error":"denied"}');
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['www-authenticate'], 'Bearer realm="auth"');
  assert.equal(r.headers['x-auth-result'], 'denied');
  assert.equal(r.headers['x-internal'], undefined);
  assert.equal(r.headers.connection, 'close');
  assert.equal(echo.seen.length, before, 'the upstream is not called');
});

test('all headers except hop-by-hop by default; the call has no body; requestMethod', async () => {
  const n = seen.length;
  const r = await get('fa-all.test', { authorization: 'Bearer good', 'x-custom': 'c', te: 'trailers', 'content-type': 'application/json' }, '/p', 'POST', '{"a":1}');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.body, '{"a":1}', 'the request body still reaches the upstream');
  const call = seen[n]!;
  assert.equal(call.method, 'POST');
  assert.equal(call.body, '');
  assert.equal(call.headers['x-custom'], 'c');
  assert.equal(call.headers.te, undefined);
  assert.equal(call.headers['x-forwarded-query'], undefined, 'no query, no X-Forwarded-Query');
  assert.equal(call.headers['x-forwarded-method'], 'POST');
});

test('successStatusCodes replace 2xx', async () => {
  assert.equal((await get('fa-codes.test', { authorization: 'Bearer good' })).status, 200, '201 is a success');
  const r = await get('fa-codes-strict.test', { authorization: 'Bearer good' });
  assert.equal(r.status, 200, 'the auth answer (200) is passed to the client');
  assert.equal(r.body, '{"ok":true}', 'and it is the service body, not the upstream');
  assert.equal(r.headers['content-type'], 'application/json', 'the default content type');
});

test('a failure keeps the service content type and is delayed by authFailureDelayMs', async () => {
  const t0 = performance.now();
  const r = await get('fa-teapot.test');
  assert.equal(r.status, 418);
  assert.equal(r.body, "I'm a teapot");
  assert.equal(r.headers['content-type'], 'text/plain');
  assert.ok(performance.now() - t0 >= 280);
});

test('timeout and unreachable service → statusOnError with a JSON message; allowDegradation lets through', async () => {
  let r = await get('fa-slow.test');
  assert.equal(r.status, 504);
  assert.deepEqual(r.json, { message: 'Auth service unavailable' });
  r = await get('fa-dead.test');
  assert.equal(r.status, 503);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.deepEqual(r.json, { message: 'Auth service unavailable' });
  r = await get('fa-degrade.test');
  assert.equal(r.status, 200);
  assert.equal(r.json.server, 'echo');
});

test('a bad configuration is rejected in the status; the route fails closed', async () => {
  const a = await accepted((p) => e.api(p), 'EdgionPlugins', 'fa-bad');
  assert.equal(a?.status, 'False');
  assert.match(a!.message, /config\.uri: ForwardAuth: "not a url" is not a URL/);
  assert.equal((await get('fa-bad.test')).status, 500);
});
