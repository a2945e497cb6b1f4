// Hot reload end to end: files added, changed, deleted and broken while traffic flows; a
// keep-alive connection survives every reload; Gateways added and removed open and close ports.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';

let e: Edgion;
let a: EchoServer;
let b: EchoServer;
let port: number;

const route = (name: string, path: string, svc: string, svcPort: number, extra = '') => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["reload.test"]
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${path} } }]${extra}
      backendRefs: [{ name: ${svc}, port: ${svcPort} }]
`;

before(async () => {
  [a, b] = await Promise.all([startEcho('a'), startEcho('b')]);
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('svc-a', a.port), yaml.service('svc-b', b.port)].join('---\n'),
      'stable.yaml': route('stable', '/stable', 'svc-a', a.port),
    },
  });
});

after(async () => {
  await e?.stop();
  await Promise.all([a?.close(), b?.close()]);
});

const get = (path: string, agent?: http.Agent) => request({ port, host: 'reload.test', path, ...(agent ? { agent } : {}) });

async function within(ms: number, fn: () => Promise<boolean>): Promise<number | undefined> {
  const t0 = Date.now();
  const ok = await waitFor(async () => (await fn()) || undefined, ms, 50);
  return ok ? Date.now() - t0 : undefined;
}

test('changes reach the gateway within 2 s; keep-alive survives; broken input keeps the last good version', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let sockets = 0;
  const create = agent.createConnection.bind(agent);
  (agent as unknown as { createConnection: typeof create }).createConnection = ((...args: Parameters<typeof create>) => {
    sockets++;
    return create(...args);
  }) as typeof create;

  assert.equal((await get('/stable/1', agent)).status, 200);
  assert.equal((await get('/added')).status, 404);

  // add
  e.writeConf('routes/added.yaml', route('added', '/added', 'svc-a', a.port));
  const tAdd = await within(2000, async () => (await get('/added/x')).json?.server === 'a');
  assert.ok(tAdd !== undefined, 'a new route is served within 2 s');

  // change the backend
  e.writeConf('routes/added.yaml', route('added', '/added', 'svc-b', b.port));
  assert.ok((await within(2000, async () => (await get('/added/y')).json?.server === 'b')) !== undefined, 'a changed backend is served within 2 s');

  // add a filter
  e.writeConf('routes/added.yaml', route('added', '/added', 'svc-b', b.port, `\n      filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { add: [{ name: x-reloaded, value: v3 }] } }]`));
  assert.ok((await within(2000, async () => (await get('/added/z')).headers['x-reloaded'] === 'v3')) !== undefined, 'a new filter applies within 2 s');

  const mid = await get('/stable/2', agent);
  assert.equal(mid.status, 200);
  assert.equal(mid.reusedSocket, true, 'the keep-alive connection is reused across reloads');

  // broken YAML and a resource that fails validation
  e.writeConf('zz-broken.yaml', 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: broken\nspec: [unclosed\n  rules: {\n');
  e.writeConf('zz-invalid.yaml', route('invalid', '/invalid', 'svc-a', a.port).replace('type: PathPrefix', 'type: NotAPathType'));
  // and a broken edit of a file that was good: its last good version keeps serving
  e.writeConf('routes/added.yaml', 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: added\n');
  const status = await waitFor(async () => {
    const s = await e.api('/api/v1/status');
    return s.json?.resources?.rejected?.some((r: any) => r.name === 'invalid') && s.json.diagnostics.some((d: any) => d.location?.file === 'zz-broken.yaml') ? s.json : undefined;
  }, 3000);
  assert.ok(status, 'the controller reports the invalid resource and the broken file');
  const invalid = status.resources.rejected.find((r: any) => r.name === 'invalid');
  assert.match(invalid.reasons.join(' '), /spec\.rules\[0\]\.matches\[0\]\.path\.type/);
  assert.equal(invalid.file, 'zz-invalid.yaml');
  const broken = status.diagnostics.find((d: any) => d.location?.file === 'zz-broken.yaml');
  assert.match(broken.message, /YAML/);
  assert.ok(broken.location.line >= 1);
  assert.equal((await get('/invalid')).status, 404, 'the invalid route is not served');
  assert.equal((await get('/added/after-broken')).json?.server, 'b', 'the last good version of a broken file keeps serving');
  assert.equal((await get('/stable/3')).status, 200);
  const route404 = await e.api('/api/v1/resources/HTTPRoute/default/invalid');
  assert.equal(route404.json.status.parents[0].conditions[0].status, 'False');
  assert.match(e.processLog('controller'), /zz-invalid\.yaml:\d+: HTTPRoute default\/invalid: spec\.rules\[0\]\.matches\[0\]\.path\.type/);

  // updates still apply while broken files are present
  e.writeConf('routes/second.yaml', route('second', '/second', 'svc-a', a.port));
  assert.ok((await within(2000, async () => (await get('/second')).status === 200)) !== undefined);

  // delete
  e.removeConf('routes/added.yaml');
  assert.ok((await within(2000, async () => (await get('/added/gone')).status === 404)) !== undefined, 'a deleted route is gone within 2 s');

  const end = await get('/stable/4', agent);
  assert.equal(end.status, 200);
  assert.equal(end.reusedSocket, true);
  assert.equal(sockets, 1, 'one client connection for the whole test');
  agent.destroy();
});

test('a Gateway added at runtime binds its port; deleting it closes the port', async () => {
  const p2 = await freePort();
  e.writeConf('gw2.yaml', [yaml.gateway('gw2', [{ name: 'http', port: p2 }]), route('gw2-route', '/', 'svc-a', a.port).replace('name: gw }', 'name: gw2 }')].join('---\n'));
  assert.ok((await within(3000, async () => (await request({ port: p2, host: 'reload.test', path: '/x' })).status === 200)) !== undefined, 'new listener serves');
  e.removeConf('gw2.yaml');
  assert.ok((await within(3000, async () => (await request({ port: p2, host: 'reload.test', path: '/x', timeout: 500 })).status === 0)) !== undefined, 'port closed');
});
