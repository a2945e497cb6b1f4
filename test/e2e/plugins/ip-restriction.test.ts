// IpRestriction (HTTP) end to end: allow and deny CIDRs (IPv4, IPv6), deny wins, defaultAction,
// ipSource clientIp (X-Forwarded-For from a trusted proxy) versus remoteAddr (the TCP peer).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, waitFor, type Res } from '../../helpers/http.js';

let e: Edgion;
let echo: EchoServer;
let port: number;

const plugin = (name: string, config: Record<string, unknown>) => `apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: ${name}, namespace: default }
spec:
  requestPlugins:
    - type: IpRestriction
      config: ${JSON.stringify(config)}
`;
const route = (name: string, host: string, set: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules:
    - filters: [{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: EdgionPlugins, name: ${set} } }]
      backendRefs: [{ name: echo, port: ${echo.port} }]
`;

// The gateway trusts 127.0.0.0/8 as a proxy, so X-Forwarded-For names the client.
const gatewayClass = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: edgion }
spec:
  controllerName: edgion.io/gateway-controller
  parametersRef: { group: edgion.io, kind: EdgionGatewayConfig, name: trust-local }
---
apiVersion: edgion.io/v1alpha1
kind: EdgionGatewayConfig
metadata: { name: trust-local }
spec:
  realIp: { trustedIps: ["127.0.0.0/8"], realIpHeader: X-Forwarded-For }
`;

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': [gatewayClass, yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('echo', echo.port)].join('---\n'),
      'plugins.yaml': [
        plugin('allow', { allow: ['10.0.0.0/8', '192.168.10.7', '2001:db8::/32'], deny: ['10.66.0.0/16'] }),
        plugin('deny', { deny: ['203.0.113.0/24'], status: 451, message: 'Blocked "here"' }),
        plugin('default-deny', { deny: ['198.51.100.1'], defaultAction: 'deny' }),
        plugin('peer', { allow: ['127.0.0.1'], ipSource: 'remoteAddr' }),
        plugin('bad', { allow: ['10.0.0.0/33', 'not-an-ip'] }),
      ].join('---\n'),
      'routes.yaml': ['allow', 'deny', 'default-deny', 'peer', 'bad'].map((n) => route(n, `${n}.test`, n)).join('---\n'),
    },
  });
  // The gateway config (trusted proxies) arrives with the routes; wait until it is in force.
  await waitFor(async () => (await from('allow.test', '10.1.2.3')).status === 200, 10_000);
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

function from(host: string, ip?: string): Promise<Res> {
  return request({ port, host, path: '/x', headers: ip ? { 'x-forwarded-for': ip } : {} });
}

test('allow list with a deny carve-out: listed addresses pass, deny wins, others get 403 JSON', async () => {
  for (const ip of ['10.1.2.3', '192.168.10.7', '2001:db8::1']) assert.equal((await from('allow.test', ip)).status, 200, ip);
  for (const ip of ['10.66.1.1', '192.168.10.8', '8.8.8.8', '2001:db9::1']) {
    const r = await from('allow.test', ip);
    assert.equal(r.status, 403, ip);
    assert.match(String(r.headers['content-type']), /application\/json/);
    assert.deepEqual(r.json, { message: 'Your IP address is not allowed to access this resource' });
  }
});

test('deny list only: listed addresses get the configured status and message, others pass', async () => {
  const r = await from('deny.test', '203.0.113.9');
  assert.equal(r.status, 451);
  assert.deepEqual(r.json, { message: 'Blocked "here"' });
  assert.equal((await from('deny.test', '203.0.114.9')).status, 200);
});

test('defaultAction deny: an address no list mentions is denied', async () => {
  assert.equal((await from('default-deny.test', '8.8.8.8')).status, 403);
  assert.equal((await from('default-deny.test', '198.51.100.1')).status, 403);
});

test('ipSource remoteAddr checks the TCP peer, not X-Forwarded-For', async () => {
  assert.equal((await from('peer.test', '8.8.8.8')).status, 200, 'peer 127.0.0.1 is allowed whatever the header says');
  assert.equal((await from('allow.test')).status, 403, 'clientIp without a header is the peer 127.0.0.1, not in the allow list');
});

test('invalid CIDRs are rejected with their index; the route fails closed', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /config\.allow\[0\]/);
  assert.match(accepted.message, /config\.allow\[1\]/);
  assert.equal((await from('bad.test', '10.1.1.1')).status, 500);
});
