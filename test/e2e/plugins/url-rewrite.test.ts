// UrlRewrite as a plugin end to end (DECISIONS §41): the Gateway API URLRewrite semantics; the
// EdgionPlugins CRD accepts the type (a correction to the reference CRD enum).
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

const rewrite = (config: Record<string, unknown>) => ({ requestPlugins: [{ type: 'UrlRewrite', config }] });

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': base(port, echo.port),
      'plugins.yaml': docs([
        plugins('prefix', rewrite({ hostname: 'backend.internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/internal' } })),
        plugins('strip', rewrite({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } })),
        plugins('full', rewrite({ path: { type: 'ReplaceFullPath', replaceFullPath: '/status' } })),
        plugins('bad', rewrite({ hostname: 'Not_A_Host', path: { type: 'ReplacePrefixMatch' } })),
      ]),
      'routes.yaml': docs([
        route('prefix', 'u1.test', echo.port, ['prefix'], { path: '/api' }),
        route('strip', 'u2.test', echo.port, ['strip'], { path: '/strip' }),
        route('full', 'u3.test', echo.port, ['full']),
        route('bad', 'u4.test', echo.port, ['bad']),
      ]),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string, path = '/') => request({ port, host, path });

test('the EdgionPlugins with UrlRewrite is accepted', async () => {
  const acc = condition((await e.api('/api/v1/resources/EdgionPlugins/default/prefix')).json, 'Accepted')!;
  assert.equal(acc.status, 'True');
});

test('hostname and ReplacePrefixMatch: the upstream sees the new Host and path; the query is kept', async () => {
  const r = await get('u1.test', '/api/v1/users?page=2');
  assert.equal(r.status, 200);
  assert.equal(r.json.url, '/internal/v1/users?page=2');
  assert.equal(r.json.headers.host, 'backend.internal');
  assert.equal(r.json.headers['x-forwarded-host'], 'u1.test');
});

test('ReplacePrefixMatch "/" strips the prefix without a double slash', async () => {
  assert.equal((await get('u2.test', '/strip/one/two')).json.url, '/one/two');
  assert.equal((await get('u2.test', '/strip')).json.url, '/');
});

test('ReplaceFullPath', async () => {
  assert.equal((await get('u3.test', '/any/thing?x=1')).json.url, '/status?x=1');
});

test('a bad configuration is rejected in the status, naming each field', async () => {
  assert.equal((await get('u4.test')).status, 500);
  const acc = condition((await e.api('/api/v1/resources/EdgionPlugins/default/bad')).json, 'Accepted')!;
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /config\.hostname: UrlRewrite: must be a lower-case DNS host name/);
});
