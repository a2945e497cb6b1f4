// DirectEndpoint end to end: the request reaches the named endpoint of the rule's backends; a
// value that is not an endpoint is refused (403), an unparsable one 400, a missing one falls back
// or 400; the debug header; a rejected bad config.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, multiPortService, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, waitFor } from '../../helpers/http.js';
import { pluginsYaml, routeYaml } from '../../helpers/traffic.js';

let e: Edgion;
let a1: EchoServer;
let a2: EchoServer;
let b: EchoServer;
let port: number;
const de = (config: Record<string, unknown>) => [{ type: 'DirectEndpoint', config }];

before(async () => {
  a1 = await startEcho('a1');
  a2 = await startEcho('a2');
  b = await startEcho('b');
  port = await freePort();
  const backends = [{ name: 'svc-multi', port: 8080 }, { name: 'svc-b', port: b.port }];
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), multiPortService('svc-multi', [a1.port, a2.port]), yaml.service('svc-b', b.port)].join('---\n'),
      'plugins.yaml': [
        pluginsYaml('strict', { request: de({ from: { type: 'header', name: 'x-target-pod' }, onMissing: 'reject', debugHeader: true }) }),
        pluginsYaml('lenient', { request: de({ from: { type: 'query', name: 'pod' }, onInvalid: 'fallback', extract: { regex: '^pod-(.+)$', group: 1 } }) }),
        pluginsYaml('fixed-port', { request: de({ from: { type: 'header', name: 'x-ip' }, port: b.port, debugHeader: true }) }),
        pluginsYaml('bad', { request: de({ from: { type: 'header' } }) }),
      ].join('---\n'),
      'routes.yaml': [
        routeYaml('strict', 'strict.test', 'strict', backends),
        routeYaml('lenient', 'lenient.test', 'lenient', backends),
        routeYaml('fixed', 'fixed.test', 'fixed-port', backends),
        routeYaml('bad', 'bad.test', 'bad', backends),
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  for (const s of [a1, a2, b]) await s?.close();
});

test('the request goes to the endpoint named in the header, with the debug header', async () => {
  for (const [srv, name] of [
    [a2, 'a2'],
    [a1, 'a1'],
    [a2, 'a2'],
    [b, 'b'],
  ] as const) {
    const r = await request({ port, host: 'strict.test', path: '/x', headers: { 'x-target-pod': `127.0.0.1:${srv.port}` } });
    assert.equal(r.status, 200);
    assert.equal(r.json.server, name);
    assert.equal(r.headers['x-direct-endpoint'], `127.0.0.1:${srv.port}`);
  }
});

test('not an endpoint → 403, unparsable → 400, missing with onMissing reject → 400', async () => {
  const notEp = await request({ port, host: 'strict.test', path: '/', headers: { 'x-target-pod': '127.0.0.1:1' } });
  assert.equal(notEp.status, 403);
  assert.equal(notEp.headers['x-direct-endpoint'], undefined);
  const other = await request({ port, host: 'strict.test', path: '/', headers: { 'x-target-pod': '10.9.9.9' } });
  assert.equal(other.status, 403);
  assert.equal((await request({ port, host: 'strict.test', path: '/', headers: { 'x-target-pod': 'not-an-ip' } })).status, 400);
  assert.equal((await request({ port, host: 'strict.test', path: '/' })).status, 400);
  // The access log is written in batches: wait for both lines.
  const log = await waitFor(async () => {
    const lines = e.accessLog().filter((l) => l.request_info?.host === 'strict.test' && l.request_info?.status === 403);
    return lines.length >= 2 && lines;
  });
  assert.ok(log, 'both 403s are in the access log');
});

test('extract narrows the value; fallback sends invalid or missing values to normal load balancing', async () => {
  const r = await request({ port, host: 'lenient.test', path: `/?pod=pod-127.0.0.1:${a1.port}` });
  assert.equal(r.json.server, 'a1');
  assert.equal(r.headers['x-direct-endpoint'], undefined, 'debugHeader is off');
  const fb = await request({ port, host: 'lenient.test', path: '/?pod=pod-127.0.0.1:1' });
  assert.equal(fb.status, 200);
  const missing = await request({ port, host: 'lenient.test', path: '/' });
  assert.equal(missing.status, 200);
});

test('a bare address uses the configured port; without one, the backendRef port', async () => {
  const r = await request({ port, host: 'fixed.test', path: '/', headers: { 'x-ip': '127.0.0.1' } });
  assert.equal(r.json.server, 'b');
  assert.equal(r.headers['x-direct-endpoint'], `127.0.0.1:${b.port}`);
});

test('a key without its name is rejected with the path', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.requestPlugins\[0\]\.config\.from\.name/);
});
