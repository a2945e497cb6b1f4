// Stopping the gateway with a request in flight: the request completes, the process exits 0.
// Stopping the controller: the gateway keeps serving its last configuration and catches up when
// the controller is back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';

const route = (svcPort: number, path = '/') => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: ${path} } }]
      backendRefs: [{ name: svc, port: ${svcPort} }]
`;

test('SIGTERM lets an in-flight request finish and exits 0', async () => {
  const backend = await startEcho('slow');
  const port = await freePort();
  const e = await Edgion.start({ conf: { 'all.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('svc', backend.port), route(backend.port)].join('---\n') } });
  try {
    const inflight = request({ port, host: 'x.test', path: '/delay/800' });
    await new Promise((r) => setTimeout(r, 400));
    const code = e.stopGateway('SIGTERM');
    const r = await inflight;
    assert.equal(r.status, 200, 'the in-flight request completed');
    assert.equal(r.json.server, 'slow');
    assert.equal(await code, 0);
    const refused = await request({ port, host: 'x.test', path: '/after', timeout: 1000 });
    assert.equal(refused.status, 0, 'no longer accepting connections');
  } finally {
    await e.stop();
    await backend.close();
  }
});

test('the gateway keeps serving while the controller is down, and reconnects', async () => {
  const backend = await startEcho('b');
  const port = await freePort();
  const e = await Edgion.start({ conf: { 'all.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('svc', backend.port), route(backend.port)].join('---\n') } });
  try {
    assert.equal(await e.stopController(), 0);
    for (let i = 0; i < 5; i++) assert.equal((await request({ port, host: 'x.test', path: `/while-down/${i}` })).status, 200);
    const status = await waitFor(async () => {
      const s = await e.gatewayApi('/api/v1/status');
      return s.json?.controller?.connected === false ? s.json : undefined;
    });
    assert.ok(status, 'the gateway reports the controller as disconnected');
    assert.equal((await e.gatewayApi('/ready')).status, 200, 'still ready with its last configuration');
    // Change the configuration while the controller is down, then bring it back.
    e.writeConf(
      'extra.yaml',
      route(backend.port, '/new')
        .replace('name: r,', 'name: r2,')
        .replace('backendRefs:', 'filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: x-new, value: "yes" }] } }]\n      backendRefs:'),
    );
    assert.equal((await request({ port, host: 'x.test', path: '/new/x' })).headers['x-new'], undefined);
    await e.startController();
    const served = await waitFor(async () => (await request({ port, host: 'x.test', path: '/new/x' })).headers['x-new'] === 'yes', 10_000, 100);
    assert.ok(served, 'the gateway picked up the configuration from the restarted controller');
  } finally {
    await e.stop();
    await backend.close();
  }
});
