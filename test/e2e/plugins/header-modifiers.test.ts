// RequestHeaderModifier / ResponseHeaderModifier as plugins end to end (plugins.md §4.18).
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
        plugins('mods', {
          requestPlugins: [
            { type: 'RequestHeaderModifier', config: { set: [{ name: 'X-Set', value: 'new' }], add: [{ name: 'X-Add', value: 'b' }, { name: 'X-Fresh', value: 'f' }], remove: ['X-Remove'] } },
            { type: 'ResponseHeaderModifier', config: { set: [{ name: 'X-From-Request-Stage', value: '1' }] } },
          ],
          upstreamResponseFilterPlugins: [{ type: 'ResponseHeaderModifier', config: { set: [{ name: 'X-Served-By', value: 'edge' }], add: [{ name: 'X-Backend', value: 'extra' }], remove: ['Content-Type'] } }],
        }),
        plugins('bad-req', { requestPlugins: [{ type: 'RequestHeaderModifier', config: { set: [{ name: 'X-A', value: 'a\r\nInjected: yes' }] } }] }),
        plugins('bad-resp', { upstreamResponseFilterPlugins: [{ type: 'ResponseHeaderModifier', config: { add: [{ name: 'bad name', value: 'x' }] } }] }),
      ]),
      'routes.yaml': docs([route('mods', 'mods.test', echo.port, ['mods']), route('bad-req', 'bad-req.test', echo.port, ['bad-req']), route('bad-resp', 'bad-resp.test', echo.port, ['bad-resp'])]),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

test('request headers: set overwrites, add appends with a comma or adds, remove deletes', async () => {
  const r = await request({ port, host: 'mods.test', headers: { 'x-set': 'old', 'x-add': 'a', 'x-remove': 'bye' } });
  assert.equal(r.status, 200);
  const up = r.json.headers;
  assert.equal(up['x-set'], 'new');
  assert.equal(up['x-add'], 'a,b');
  assert.equal(up['x-fresh'], 'f');
  assert.equal(up['x-remove'], undefined);
});

test('response headers: set overwrites an upstream header, add adds lines, remove deletes; a request-stage ResponseHeaderModifier also applies', async () => {
  const r = await request({ port, host: 'mods.test' });
  assert.equal(r.headers['x-served-by'], 'edge');
  assert.equal(r.headers['x-backend'], 'echo, extra', 'a second line after the upstream\'s own');
  assert.equal(r.headers['content-type'], undefined);
  assert.equal(r.headers['x-from-request-stage'], '1');
});

test('header injection and bad names are rejected in the status', async () => {
  for (const [name, re] of [
    ['bad-req', /spec\.requestPlugins\[0\]\.config\.set\[0\]\.value: RequestHeaderModifier: must not contain control characters/],
    ['bad-resp', /spec\.upstreamResponseFilterPlugins\[0\]\.config\.add\[0\]\.name: ResponseHeaderModifier: must be a header name/],
  ] as const) {
    assert.equal((await request({ port, host: `${name}.test` })).status, 500);
    const acc = condition((await e.api(`/api/v1/resources/EdgionPlugins/default/${name}`)).json, 'Accepted')!;
    assert.equal(acc.status, 'False');
    assert.match(acc.message, re);
  }
});
