// RequestMirror (filter and plugin): copies reach the mirror backend, bodies included; a slow or
// dead mirror never slows or fails the main request; `mirrorLog: false` writes no mirror.log line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';

let e: Edgion;
let main: EchoServer;
let shadow: EchoServer;
let shadow2: EchoServer;
let port: number;
let dead: number;

before(async () => {
  [main, shadow, shadow2] = await Promise.all([startEcho('main'), startEcho('shadow'), startEcho('shadow2')]);
  port = await freePort();
  dead = await freePort();
  const mirror = (svc: string, p: number, extra = '') => `{ type: RequestMirror, requestMirror: { backendRef: { name: ${svc}, port: ${p} }${extra} } }`;
  const route = (name: string, host: string, filters: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules:
    - filters: [${filters}]
      backendRefs: [{ name: main, port: ${main.port} }]
`;
  e = await Edgion.start({
    conf: {
      'all.yaml': [
        yaml.gatewayClass(),
        yaml.gateway('gw', [{ name: 'http', port }]),
        yaml.service('main', main.port),
        yaml.service('shadow', shadow.port),
        yaml.service('shadow2', shadow2.port),
        yaml.service('dead', dead),
        route('mirrored', 'mirror.test', mirror('shadow', shadow.port)),
        route('two', 'two.test', `${mirror('shadow', shadow.port)}, ${mirror('shadow2', shadow2.port)}`),
        route('half', 'half.test', mirror('shadow', shadow.port, ', percent: 0')),
        route('to-dead', 'dead.test', mirror('dead', dead)),
        route('quiet', 'quiet.test', mirror('shadow', shadow.port, ', mirrorLog: false')),
        route('plugin', 'plugin.test', '{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: EdgionPlugins, name: mirror-plugin } }'),
        `apiVersion: edgion.io/v1\nkind: EdgionPlugins\nmetadata: { name: mirror-plugin, namespace: default }\nspec:\n  requestPlugins:\n    - type: RequestMirror\n      config: { backendRef: { name: shadow, port: ${shadow.port} } }\n`,
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await Promise.all([main?.close(), shadow?.close(), shadow2?.close()]);
});

const seenBy = (srv: EchoServer, path: string) => srv.seen.filter((s) => s.path === path);

test('the mirror gets a copy marked x-mirror, body included; the client gets the main answer', async () => {
  const r = await request({ port, host: 'mirror.test', path: '/m1', method: 'POST', body: 'payload-1' });
  assert.equal(r.json.server, 'main');
  const copy = await waitFor(async () => seenBy(shadow, '/m1')[0]);
  assert.ok(copy, 'the mirror received the request');
  assert.equal(copy!.headers['x-mirror'], 'true');
  assert.equal(copy!.body, 'payload-1');
  assert.equal(copy!.method, 'POST');
  assert.equal(seenBy(main, '/m1')[0]?.body, 'payload-1', 'the main upstream got the body too');
});

test('several RequestMirror filters on one rule each get a copy', async () => {
  const r = await request({ port, host: 'two.test', path: '/two', method: 'POST', body: 'twice' });
  assert.equal(r.json.server, 'main');
  assert.equal((await waitFor(async () => seenBy(shadow, '/two')[0]))?.body, 'twice');
  assert.equal((await waitFor(async () => seenBy(shadow2, '/two')[0]))?.body, 'twice');
});

test('percent 0 mirrors nothing', async () => {
  for (let i = 0; i < 5; i++) await request({ port, host: 'half.test', path: '/none' });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(seenBy(shadow, '/none').length, 0);
});

test('a dead mirror does not fail or slow the main request', async () => {
  const t0 = Date.now();
  const r = await request({ port, host: 'dead.test', path: '/d' });
  assert.equal(r.status, 200);
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
});

test('the RequestMirror plugin mirrors the same way', async () => {
  await request({ port, host: 'plugin.test', path: '/p1' });
  const copy = await waitFor(async () => seenBy(shadow, '/p1')[0]);
  assert.equal(copy?.headers['x-mirror'], 'true');
});

test('mirror outcomes are counted in metrics', async () => {
  const m = await waitFor(async () => {
    const body = (await e.gatewayApi('/metrics')).body;
    return /edgion_mirror_requests_total\{status="connect_err"/.test(body) && /edgion_mirror_requests_total\{status="ok"/.test(body) ? body : undefined;
  });
  assert.ok(m);
});

test('mirrorLog: false mirrors without a mirror.log line', async () => {
  const mirrorLog = () => {
    const file = path.join(e.workDir, 'logs', 'mirror.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  };
  // The client's x-trace-id is the request's trace id, which the mirror log line carries.
  await request({ port, host: 'quiet.test', path: '/quiet', headers: { 'x-trace-id': 'trace-quiet-mirror' } });
  await request({ port, host: 'mirror.test', path: '/loud', headers: { 'x-trace-id': 'trace-loud-mirror' } });
  assert.ok(await waitFor(async () => seenBy(shadow, '/quiet')[0]), 'the copy is still sent');
  assert.ok(await waitFor(async () => mirrorLog().includes('trace-loud-mirror'), 10_000), 'the other route logs its mirror');
  assert.ok(!mirrorLog().includes('trace-quiet-mirror'), 'no line for the mirrorLog: false route');
});
