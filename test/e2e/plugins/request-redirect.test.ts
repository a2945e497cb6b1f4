// RequestRedirect as a plugin end to end (plugins.md §4.18; resources.md §7.4, DECISIONS §5, §13).
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

const redirect = (config: Record<string, unknown>) => ({ requestPlugins: [{ type: 'RequestRedirect', config }] });

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': base(port, echo.port),
      'plugins.yaml': docs([
        plugins('to-https', redirect({ scheme: 'https', statusCode: 301 })),
        plugins('same', redirect({})),
        plugins('prefix', redirect({ hostname: 'new.example', port: 8443, scheme: 'https', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' }, statusCode: 308 })),
        plugins('full', redirect({ path: { type: 'ReplaceFullPath', replaceFullPath: '/maintenance' }, statusCode: 307 })),
        plugins('bad', redirect({ statusCode: 304, path: { type: 'ReplaceFullPath' } })),
      ]),
      'routes.yaml': docs([
        route('to-https', 'r1.test', echo.port, ['to-https']),
        route('same', 'r2.test', echo.port, ['same']),
        route('prefix', 'r3.test', echo.port, ['prefix'], { path: '/v1' }),
        route('full', 'r4.test', echo.port, ['full']),
        route('bad', 'r5.test', echo.port, ['bad']),
      ]),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string, path = '/') => request({ port, host, path });

test('scheme https with 301: default port omitted, path and query kept, no body, upstream not called', async () => {
  const before = echo.seen.length;
  const r = await get('r1.test', '/a/b?x=1&y=2');
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, 'https://r1.test/a/b?x=1&y=2');
  assert.equal(r.headers['content-length'], '0');
  assert.equal(r.body, '');
  assert.equal(echo.seen.length, before);
});

test('no scheme, no port: 302 to the same scheme on the listener port', async () => {
  const r = await get('r2.test', '/p');
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, `http://r2.test:${port}/p`);
});

test('hostname, port and ReplacePrefixMatch on the route\'s prefix, 308', async () => {
  let r = await get('r3.test', '/v1/users/7?full=1');
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, 'https://new.example:8443/v2/users/7?full=1');
  r = await get('r3.test', '/v1');
  assert.equal(r.headers.location, 'https://new.example:8443/v2');
});

test('ReplaceFullPath, 307; a redirect is not an error in the access log', async () => {
  const path = `/anything-${Date.now()}`;
  const r = await get('r4.test', path);
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, `http://r4.test:${port}/maintenance`);
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === path));
  assert.equal(line.request_info.status, 307);
  assert.equal(line.errors, undefined);
});

test('a bad configuration is rejected in the status with the Gateway API messages', async () => {
  assert.equal((await get('r5.test')).status, 500);
  const acc = condition((await e.api('/api/v1/resources/EdgionPlugins/default/bad')).json, 'Accepted')!;
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /config\.statusCode: RequestRedirect: must be one of: 301, 302, 303, 307, 308/);
});
