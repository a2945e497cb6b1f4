// The plugin runtime end to end: EdgionPlugins attached through ExtensionRef, stages, conditions,
// nesting, failing closed on a missing or invalid plugin set, access-log stage logs and metrics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';

let e: Edgion;
let a: EchoServer;
let port: number;

const plugins = `apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: mock-maint, namespace: default }
spec:
  requestPlugins:
    - type: Mock
      config: { statusCode: 503, contentType: application/json, body: '{"status":"maintenance"}', headers: { Retry-After: "120" } }
      conditions:
        skip:
          - { type: keyExist, key: { type: header, name: x-bypass } }
---
apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: decorate, namespace: default }
spec:
  requestPlugins:
    - type: Mock
      config: { terminate: false, headers: { x-mock-set: "yes" } }
    - type: RequestHeaderModifier
      config: { set: [{ name: x-from-plugin, value: p1 }] }
  upstreamResponseFilterPlugins:
    - type: ResponseHeaderModifier
      config: { set: [{ name: x-resp-plugin, value: r1 }], remove: [x-backend] }
---
apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: outer, namespace: default }
spec:
  requestPlugins:
    - type: ExtensionRef
      config: { name: decorate }
---
apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: broken, namespace: default }
spec:
  requestPlugins:
    - type: Mock
      config: { statusCode: 999 }
`;

const route = (name: string, host: string, filters: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules:
    - filters: ${filters}
      backendRefs: [{ name: svc-a, port: ${a.port} }]
`;
const ext = (n: string) => `[{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: EdgionPlugins, name: ${n} } }]`;

before(async () => {
  a = await startEcho('a');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('svc-a', a.port)].join('---\n'),
      'plugins.yaml': plugins,
      'routes.yaml': [
        route('maint', 'maint.test', ext('mock-maint')),
        route('decorated', 'deco.test', ext('decorate')),
        route('nested', 'nested.test', ext('outer')),
        route('missing', 'missing.test', ext('does-not-exist')),
        route('broken', 'broken.test', ext('broken')),
        route('plain', 'plain.test', '[]'),
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await a?.close();
});

const get = (host: string, path = '/', headers: Record<string, string> = {}, method = 'GET') => request({ port, host, path, headers, method });

test('Mock answers with its status, headers, content type and body; the upstream is not called', async () => {
  const before = a.seen.length;
  const r = await get('maint.test', '/x');
  assert.equal(r.status, 503);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['retry-after'], '120');
  assert.equal(r.body, '{"status":"maintenance"}');
  assert.equal(r.headers.server, 'edgion');
  assert.equal(a.seen.length, before);
});

test('a skip condition bypasses the plugin', async () => {
  const r = await get('maint.test', '/x', { 'x-bypass': '1' });
  assert.equal(r.status, 200);
  assert.equal(r.json.server, 'a');
});

test('request and response stages edit what goes up and what comes back', async () => {
  const r = await get('deco.test', '/d');
  assert.equal(r.status, 200);
  assert.equal(r.json.headers['x-from-plugin'], 'p1');
  assert.equal(r.headers['x-mock-set'], 'yes');
  assert.equal(r.headers['x-resp-plugin'], 'r1');
  assert.equal(r.headers['x-backend'], undefined);
});

test('an ExtensionRef inside EdgionPlugins runs the other set', async () => {
  const r = await get('nested.test', '/n');
  assert.equal(r.json.headers['x-from-plugin'], 'p1');
  assert.equal(r.headers['x-resp-plugin'], 'r1');
});

test('a missing EdgionPlugins fails closed with 500', async () => {
  const r = await get('missing.test', '/m');
  assert.equal(r.status, 500);
  assert.match(r.body, /default\/does-not-exist does not exist/);
});

test('an EdgionPlugins that was never valid fails closed, and its status names the field', async () => {
  const r = await get('broken.test', '/b');
  assert.equal(r.status, 500);
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/broken');
  const accepted = st.json.status.conditions.find((c: any) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.requestPlugins\[0\]\.config\.statusCode/);
});

test('a CORS preflight on a route without a Cors plugin gets 204 from the gateway', async () => {
  const r = await get('plain.test', '/p', { origin: 'https://x.example', 'access-control-request-method': 'PUT' }, 'OPTIONS');
  assert.equal(r.status, 204);
  const plain = await get('plain.test', '/p', {}, 'OPTIONS');
  assert.equal(plain.json?.method, 'OPTIONS', 'a plain OPTIONS is proxied');
});

test('plugin runs appear in the access log and in metrics', async () => {
  const marker = `/stage-${Date.now()}`;
  await get('deco.test', marker);
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === marker));
  assert.ok(line);
  const req = line.stage_logs.find((s: any) => s.stage === 'request_filters');
  assert.equal(req.edgion_plugins[0].name, 'default/decorate');
  assert.deepEqual(req.edgion_plugins[0].logs.map((x: any) => x.name), ['Mock', 'RequestHeaderModifier']);
  const metrics = await e.gatewayApi('/metrics');
  assert.match(metrics.body, /edgion_plugin_runs_total\{plugin="Mock",service="edgion-gateway"\} \d+/);
  assert.match(metrics.body, /edgion_plugin_rejections_total\{plugin="Mock",service="edgion-gateway"\} [1-9]/);
});
