// DebugAccessLogToHeader end to end (plugins.md §4.21): the response carries X-Debug-Access-Log
// with the access-log JSON as known when the upstream answered.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
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
        plugins('debug', {
          requestPlugins: [{ type: 'CtxSet', config: { vars: [{ name: 'tenant', value: 'acme' }] } }],
          upstreamResponseFilterPlugins: [{ type: 'DebugAccessLogToHeader' }],
        }),
        plugins('bad', { upstreamResponseBodyFilterPlugins: [{ type: 'DebugAccessLogToHeader' }] }),
      ]),
      'routes.yaml': docs([route('debug', 'debug.test', echo.port, ['debug']), route('bad', 'bad.test', echo.port, ['bad'])]),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

test('the header holds the request info, route, upstream attempt, ctx variables and plugin runs', async () => {
  const r = await request({ port, host: 'debug.test', path: '/dbg/%C3%A9t%C3%A9?q=1', headers: { 'x-forwarded-for': '9.9.9.9' } });
  assert.equal(r.status, 200);
  const log = JSON.parse(String(r.headers['x-debug-access-log']));
  assert.equal(log.request_info.host, 'debug.test');
  assert.equal(log.request_info.path, '/dbg/%C3%A9t%C3%A9');
  assert.equal(log.request_info.query, 'q=1');
  assert.equal(log.request_info.method, 'GET');
  assert.equal(log.request_info['x-forwarded-for'], '9.9.9.9');
  assert.equal(log.match_info.rn, 'debug');
  assert.equal(log.backend_context.name, 'echo');
  assert.equal(log.backend_context.upstreams[0].status, 200);
  assert.deepEqual(log.ctx, { tenant: 'acme' });
  assert.deepEqual(log.stage_logs[0].edgion_plugins[0].logs.map((x: { name: string }) => x.name), ['CtxSet']);
});

test('a stage it does not run in is rejected', async () => {
  const acc = condition((await e.api('/api/v1/resources/EdgionPlugins/default/bad')).json, 'Accepted')!;
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /spec\.upstreamResponseBodyFilterPlugins\[0\]\.type: must be one of: BandwidthLimit/);
});
