// Mock end to end (plugins.md §4.20, §1.6, DECISIONS §24): the reply with its status, headers,
// Content-Type and body; response headers queued by earlier plugins reach it; terminate: false;
// delay; a rejected configuration.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, waitFor } from '../../helpers/http.js';
import { base, condition, docs, plugins, route } from './util-kit.js';

let e: Edgion;
let echo: EchoServer;
let port: number;

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': base(port, echo.port),
      'plugins.yaml': docs([
        plugins('maint', {
          requestPlugins: [
            { type: 'ResponseHeaderModifier', config: { set: [{ name: 'X-Queued', value: 'from-request-stage' }] } },
            { type: 'Mock', config: { statusCode: 503, contentType: 'application/json', body: '{"status":"maintenance"}', headers: { 'Retry-After': 120 } } },
          ],
        }),
        plugins('defaults', { requestPlugins: [{ type: 'Mock', config: { body: '{"ok":true}' } }] }),
        plugins('passthrough', { requestPlugins: [{ type: 'Mock', config: { terminate: false, headers: { 'X-Mocked': 'yes' }, delay: 150 } }] }),
        plugins('slow', { requestPlugins: [{ type: 'Mock', config: { statusCode: 202, delay: 300, contentType: 'text/plain', body: 'later' } }] }),
        plugins('bad', { requestPlugins: [{ type: 'Mock', config: { statusCode: 999, headers: { 'X-A': 'line\nbreak' } } }] }),
      ]),
      'routes.yaml': docs([
        route('maint', 'maint.test', echo.port, ['maint']),
        route('defaults', 'defaults.test', echo.port, ['defaults']),
        route('passthrough', 'pass.test', echo.port, ['passthrough']),
        route('slow', 'slow.test', echo.port, ['slow']),
        route('bad', 'bad.test', echo.port, ['bad']),
      ]),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string, path = '/') => request({ port, host, path });

test('terminate: the configured status, headers, Content-Type and body; the upstream is not called', async () => {
  const before = echo.seen.length;
  const path = `/m-${Date.now()}`;
  const r = await get('maint.test', path);
  assert.equal(r.status, 503);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['retry-after'], '120');
  assert.equal(r.headers['content-length'], String(r.body.length));
  assert.equal(r.body, '{"status":"maintenance"}');
  assert.equal(r.headers['x-queued'], 'from-request-stage', 'response headers set before the Mock reach its reply');
  assert.equal(r.headers.server, 'edgion');
  assert.equal(echo.seen.length, before);
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === path));
  assert.equal(line.request_info.status, 503);
  assert.equal(line.backend_context, null);
});

test('defaults: 200 application/json', async () => {
  const r = await get('defaults.test');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.deepEqual(r.json, { ok: true });
});

test('terminate false: the request reaches the upstream and the headers are added to its response', async () => {
  const t0 = Date.now();
  const r = await get('pass.test', '/through');
  assert.equal(r.status, 200);
  assert.equal(r.json.path, '/through');
  assert.equal(r.headers['x-mocked'], 'yes');
  assert.ok(Date.now() - t0 >= 140, 'delay applies before continuing');
});

test('delay: the answer comes after the delay', async () => {
  const t0 = Date.now();
  const r = await get('slow.test');
  assert.ok(Date.now() - t0 >= 290);
  assert.equal(r.status, 202);
  assert.equal(r.body, 'later');
});

test('a bad configuration is rejected with every problem named; the route fails closed', async () => {
  assert.equal((await get('bad.test')).status, 500);
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const acc = condition(st.json, 'Accepted')!;
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /spec\.requestPlugins\[0\]\.config\.statusCode: Mock: must be <= 599/);
});
