import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { DirectEndpoint, parseAddress } from '../../../src/plugins/http/traffic/direct-endpoint.js';
import type { BackendChoice, PluginReply } from '../../../src/plugins/runtime/define-plugin.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from '../../helpers/traffic.js';

const reg = builtinRegistry();
const validate = (config: unknown) => reg.validateEntry('requestPlugins', { type: 'DirectEndpoint', config });
const make = (config: Record<string, unknown>) => DirectEndpoint.create(validate(config).config as never, fakeDeps());
const backends: BackendChoice[] = [
  { namespace: 'default', name: 'api', port: 80, weight: 1, endpoints: [{ address: '10.0.0.1', port: 8080, ready: true }, { address: '10.0.0.2', port: 8080, ready: true }] },
  { namespace: 'default', name: 'v6', port: 80, weight: 1, endpoints: [{ address: 'fd00::5', port: 9000, ready: true }] },
];
const req = (v?: string, grpc = false) => new FakeSession({ headers: v ? { 'x-pod': v } : {}, backends, grpc });

test('schema defaults and errors', () => {
  const { problems, config } = validate({ from: { type: 'header', name: 'x-pod' } });
  assert.deepEqual(problems, []);
  assert.deepEqual(config, { from: { type: 'header', name: 'x-pod' }, onMissing: 'fallback', onInvalid: 'reject', inheritTls: true, debugHeader: false });
  assert.equal(validate({ from: { type: 'header' } }).problems[0]!.path, 'config.from.name');
  assert.equal(validate({ from: { type: 'path' }, extract: { regex: '(' } }).problems[0]!.path, 'config.extract.regex');
  assert.equal(validate({ from: { type: 'path' }, extract: { regex: 'a(b)', group: 2 } }).problems[0]!.path, 'config.extract.group');
  assert.equal(validate({ from: { type: 'path' }, port: 70000 }).problems[0]!.path, 'config.port');
  assert.equal(validate({ from: { type: 'path' }, onMissing: 'deny' }).problems[0]!.path, 'config.onMissing');
});

test('addresses: v4, v4:port, [v6]:port, v6; garbage refused', () => {
  assert.deepEqual(parseAddress('10.0.0.1'), { address: '10.0.0.1' });
  assert.deepEqual(parseAddress('10.0.0.1:8080'), { address: '10.0.0.1', port: 8080 });
  assert.deepEqual(parseAddress('[FD00::5]:9000'), { address: 'fd00::5', port: 9000 });
  assert.deepEqual(parseAddress('fd00::5'), { address: 'fd00::5' });
  assert.equal(parseAddress('pod-1'), undefined);
  assert.equal(parseAddress('10.0.0.1:99999'), undefined);
  assert.equal(parseAddress('10.0.0.1:x'), undefined);
});

test('an endpoint of a backend is chosen; the port in the value wins; debug header', () => {
  const inst = make({ from: { type: 'header', name: 'x-pod' }, port: 1234, debugHeader: true, inheritTls: false });
  const s = req('10.0.0.2:8080');
  assert.equal(inst.onRequest!(s), undefined);
  assert.deepEqual(s.upstream, { kind: 'endpoint', backend: 0, address: '10.0.0.2', port: 8080, inheritTls: false });
  assert.equal(s.responseHeaders.get('x-direct-endpoint'), '10.0.0.2:8080');
  const v6 = req('[fd00::5]:9000');
  inst.onRequest!(v6);
  assert.deepEqual(v6.upstream, { kind: 'endpoint', backend: 1, address: 'fd00::5', port: 9000, inheritTls: false });
  assert.equal(v6.responseHeaders.get('x-direct-endpoint'), '[fd00::5]:9000');
  // The configured port applies to a bare address: 1234 is no endpoint port → 403.
  assert.equal((inst.onRequest!(req('10.0.0.1')) as PluginReply).status, 403);
});

test('no port anywhere: the backendRef port, i.e. the endpoint port of that address', () => {
  const s = req('10.0.0.1');
  make({ from: { type: 'header', name: 'x-pod' } }).onRequest!(s);
  assert.deepEqual(s.upstream, { kind: 'endpoint', backend: 0, address: '10.0.0.1', port: 8080 });
});

test('failures: 403 not an endpoint, 400 unparsable, 400 missing with reject; fallback; gRPC skipped', () => {
  const strict = make({ from: { type: 'header', name: 'x-pod' }, onMissing: 'reject' });
  assert.equal((strict.onRequest!(req('10.9.9.9:8080')) as PluginReply).status, 403);
  assert.equal((strict.onRequest!(req('10.0.0.1:8081')) as PluginReply).status, 403);
  assert.equal((strict.onRequest!(req('nope')) as PluginReply).status, 400);
  assert.equal((strict.onRequest!(req()) as PluginReply).status, 400);
  const grpc = req('nope', true);
  assert.equal(strict.onRequest!(grpc), undefined);
  const lenient = make({ from: { type: 'header', name: 'x-pod' }, onInvalid: 'fallback', debugHeader: true });
  for (const v of ['10.9.9.9', 'nope', undefined]) {
    const s = req(v);
    assert.equal(lenient.onRequest!(s), undefined);
    assert.equal(s.upstream, undefined);
    assert.equal(s.responseHeaders.get('x-direct-endpoint'), undefined, 'no debug header on fallback');
  }
});

test('extract narrows the value with a group', () => {
  const inst = make({ from: { type: 'header', name: 'x-pod' }, extract: { regex: '^pod@(.+)$' } });
  const s = req('pod@10.0.0.1:8080');
  inst.onRequest!(s);
  assert.deepEqual(s.upstream, { kind: 'endpoint', backend: 0, address: '10.0.0.1', port: 8080 });
  const no = req('10.0.0.1:8080');
  assert.equal(make({ from: { type: 'header', name: 'x-pod' }, extract: { regex: '^pod@(.+)$' }, onMissing: 'reject' }).onRequest!(no) !== undefined, true, 'no match counts as missing');
});
