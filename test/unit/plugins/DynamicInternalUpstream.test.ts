import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { DynamicInternalUpstream } from '../../../src/plugins/http/traffic/dynamic-internal-upstream.js';
import type { BackendChoice, PluginReply } from '../../../src/plugins/runtime/define-plugin.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from '../../helpers/traffic.js';

const reg = builtinRegistry();
const validate = (config: unknown) => reg.validateEntry('requestPlugins', { type: 'DynamicInternalUpstream', config });
const make = (config: Record<string, unknown>) => DynamicInternalUpstream.create(validate(config).config as never, fakeDeps());
const backends: BackendChoice[] = [
  { namespace: 'shop', name: 'api', weight: 1, endpoints: [] },
  { namespace: 'shop', name: 'api-canary', weight: 0, endpoints: [] },
];
const req = (v?: string) => new FakeSession({ headers: v ? { 'x-version': v } : {}, backends });
const rules = [
  { value: 'canary', backendRef: { name: 'api-canary' } },
  { value: 'stable', backendRef: { name: 'api', namespace: 'shop' } },
  { value: 'other-ns', backendRef: { name: 'api', namespace: 'prod' } },
];

test('schema: defaults, empty rules list, duplicate values', () => {
  const { problems, config } = validate({ from: { type: 'header', name: 'x-version' } });
  assert.deepEqual(problems, []);
  assert.deepEqual(config, { from: { type: 'header', name: 'x-version' }, onMissing: 'fallback', onNoMatch: 'fallback', onInvalid: 'reject', debugHeader: false });
  assert.equal(validate({ from: { type: 'header', name: 'x' }, rules: [] }).problems[0]!.path, 'config.rules');
  assert.equal(validate({ from: { type: 'header', name: 'x' }, rules: [rules[0], rules[0]] }).problems[0]!.path, 'config.rules[1].value');
  assert.equal(validate({ from: { type: 'header', name: 'x' }, rules: [{ value: 'a' }] }).problems[0]!.path.startsWith('config.rules'), true);
});

test('rules choose the backendRef (weight 0 allowed); debug header on the upstream request', () => {
  const inst = make({ from: { type: 'header', name: 'x-version' }, rules, debugHeader: true });
  const s = req('canary');
  assert.equal(inst.onRequest!(s), undefined);
  assert.deepEqual(s.upstream, { kind: 'backend', index: 1 });
  assert.equal(s.header('x-dynamic-internal-upstream'), 'api-canary');
  const st = req('stable');
  inst.onRequest!(st);
  assert.deepEqual(st.upstream, { kind: 'backend', index: 0 });
  assert.equal(st.header('x-dynamic-internal-upstream'), 'shop/api');
});

test('direct mode: the value is the backendRef name', () => {
  const s = req('api-canary');
  make({ from: { type: 'header', name: 'x-version' } }).onRequest!(s);
  assert.deepEqual(s.upstream, { kind: 'backend', index: 1 });
});

test('failures: missing/no match 400 with reject, not a backendRef 403, fallbacks continue', () => {
  const strict = make({ from: { type: 'header', name: 'x-version' }, rules, onMissing: 'reject', onNoMatch: 'reject' });
  assert.equal((strict.onRequest!(req()) as PluginReply).status, 400);
  assert.equal((strict.onRequest!(req('beta')) as PluginReply).status, 400);
  assert.equal((strict.onRequest!(req('other-ns')) as PluginReply).status, 403);
  const lenient = make({ from: { type: 'header', name: 'x-version' }, rules, onInvalid: 'fallback', debugHeader: true });
  for (const v of [undefined, 'beta', 'other-ns']) {
    const s = req(v);
    assert.equal(lenient.onRequest!(s), undefined);
    assert.equal(s.upstream, undefined);
    assert.equal(s.header('x-dynamic-internal-upstream'), undefined);
  }
  assert.equal((make({ from: { type: 'header', name: 'x-version' } }).onRequest!(req('nope')) as PluginReply).status, 403);
});
