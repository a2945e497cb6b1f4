// The gateway's L4/TLS tables from a snapshot: certificate choice by SNI, TLS listeners by name,
// stream-plugin gates (including fail closed), ACME challenges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptySnapshot, defaultGatewayConfig, type GatewayIR, type Snapshot, type TlsBundleIR } from '../../../src/ir/index.js';
import { compileSnapshot } from '../../../src/gateway/compile/compile-snapshot.js';
import { compileL4, gateDecision, selectPolicy } from '../../../src/gateway/stream/compile-l4.js';

const bundle = (key: string, names: string[]): TlsBundleIR => ({ key, certPem: `cert-${key}`, keyPem: `key-${key}`, names });

function snapshot(): Snapshot {
  const s = emptySnapshot('c', 1);
  const gw: GatewayIR = {
    key: 'default/gw',
    namespace: 'default',
    name: 'gw',
    className: 'edgion',
    order: 1,
    annotations: { 'edgion.io/edgion-stream-plugins': 'gw-plugins' },
    bindAddresses: [],
    config: defaultGatewayConfig(),
    listeners: [
      { name: 'a', port: 443, protocol: 'HTTPS', hostname: 'a.test', programmed: true, tls: { mode: 'Terminate', certificates: ['default/a', 'default/a-ec'], fromEdgionTls: false, options: {} } },
      { name: 'any', port: 443, protocol: 'HTTPS', programmed: true, tls: { mode: 'Terminate', certificates: ['default/any'], fromEdgionTls: false, options: {} } },
      { name: 'pass', port: 443, protocol: 'TLS', hostname: '*.pass.test', programmed: true, tls: { mode: 'Passthrough', certificates: [], fromEdgionTls: false, options: {} } },
      { name: 'tcp', port: 9000, protocol: 'TCP', programmed: true },
      { name: 'broken', port: 9001, protocol: 'TCP', programmed: false },
    ],
  };
  s.gateways = [gw];
  s.tlsBundles = { 'default/a': bundle('default/a', ['a.test']), 'default/a-ec': bundle('default/a-ec', ['a.test']), 'default/any': bundle('default/any', ['any.test']), 'default/et': bundle('default/et', ['*.et.test', 'x.a.test']) };
  s.edgionTls = [{ key: 'default/et', namespace: 'default', name: 'et', generation: 1, hosts: ['*.et.test', 'x.a.test'], bundle: 'default/et', exposeClientCert: false, parents: [], ports: [443] }];
  s.streamPluginSets = { 'default/gw-plugins': { key: 'default/gw-plugins', namespace: 'default', name: 'gw-plugins', valid: true, plugins: [{ type: 'IpRestriction', enable: true, config: { deny: ['10.0.0.0/8'] } }], tlsRoutePlugins: [] } };
  s.tcpRoutes = [{ kind: 'TCPRoute', key: 'default/t', namespace: 'default', name: 't', order: 1, generation: 1, annotations: {}, attachments: [{ gateway: 'default/gw', listener: 'tcp', port: 9000, hostnames: ['*'] }], rules: [{ index: 0, backends: [] }], hostnames: [], streamPlugins: 'default/missing', maxConnectRetries: 1 }];
  s.tlsRoutes = [{ kind: 'TLSRoute', key: 'default/p', namespace: 'default', name: 'p', order: 2, generation: 1, annotations: {}, attachments: [{ gateway: 'default/gw', listener: 'pass', port: 443, hostnames: ['*.pass.test'] }], rules: [{ index: 0, backends: [] }], hostnames: ['*.pass.test'], maxConnectRetries: 1 }];
  s.acmeChallenges = [{ acme: 'default/x', domain: 'a.test', token: 'tok', keyAuthorization: 'tok.thumb', expireAt: 4102444800 }];
  return s;
}

test('TLS port: EdgionTls first (exact, then wildcard), then the listener that owns the name', () => {
  const l4 = compileL4(compileSnapshot(snapshot()));
  const port = l4.tlsPorts.get(443)!;
  assert.equal(port.http, true);
  const pick = (name: string) => selectPolicy(port, name, port.listeners.lookup(name));
  assert.equal(pick('x.a.test')?.matched.kind, 'EdgionTls');
  assert.equal(pick('shop.et.test')?.bundle.key, 'default/et');
  assert.equal(pick('a.test')?.bundle.key, 'default/a');
  assert.equal(pick('a.test')?.matched.section, 'a');
  assert.equal(pick('whatever.test')?.bundle.key, 'default/any', 'a hostname-less listener serves any SNI');
  assert.equal(port.listeners.lookup('db.pass.test')?.kind, 'passthrough');
  assert.equal(port.listeners.lookup('db.pass.test')?.routes.lookup('db.pass.test')?.name, 'p');
});

test('gates: Gateway plugins by peer address, a missing set refuses everything', () => {
  const l4 = compileL4(compileSnapshot(snapshot()));
  const tcp = l4.tcpPorts.get(9000)!;
  assert.equal(gateDecision(tcp.gates, '127.0.0.1'), undefined);
  assert.match(gateDecision(tcp.gates, '10.1.1.1')!, /gw-plugins IpRestriction/);
  assert.match(gateDecision(tcp.route!.gates, '127.0.0.1')!, /default\/missing does not exist/);
  assert.equal(l4.tcpPorts.has(9001), false, 'unprogrammed listeners are not bound');
  assert.equal(l4.challenges.get('tok')?.[0]?.keyAuthorization, 'tok.thumb');
});
