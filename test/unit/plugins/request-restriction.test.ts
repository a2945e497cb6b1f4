// RequestRestriction: schema, rejected rules, decisions on a fake session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { RequestRestriction } from '../../../src/plugins/http/security/request-restriction.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from './security-deps.js';

const registry = builtinRegistry();
const validate = (config: unknown) => registry.validateEntry('requestPlugins', { type: 'RequestRestriction', config });
const msgs = (config: unknown) => validate(config).problems.map((p) => `${p.path}: ${p.message}`).join('\n');

test('defaults', () => {
  const { config } = validate({ rules: [{ source: 'Method', allow: ['GET'] }] });
  assert.deepEqual(config, { rules: [{ source: 'Method', allow: ['GET'], caseSensitive: true, onMissing: 'Allow' }], matchMode: 'Any', status: 403, message: 'Access denied by restriction policy' });
});

test('rejected rules name their path', () => {
  assert.match(msgs({ rules: [] }), /config\.rules/);
  assert.match(msgs({ rules: [{ source: 'Cookie', deny: ['x'] }] }), /config\.rules\[0\]\.key: key is required for source Cookie/);
  assert.match(msgs({ rules: [{ source: 'Path' }] }), /config\.rules\[0\]: a rule needs at least one of/);
  assert.match(msgs({ rules: [{ source: 'Path', allowRegex: ['('] }] }), /config\.rules\[0\]\.allowRegex\[0\]: invalid regular expression/);
  assert.match(msgs({ rules: [{ source: 'Path', denyRegex: ['(?m)^x'] }] }), /config\.rules\[0\]\.denyRegex\[0\]: .*inline flag/);
  assert.match(msgs({ rules: [{ source: 'Body', deny: ['x'] }] }), /config\.rules\[0\]\.source/);
  assert.match(msgs({ rules: [{ source: 'Path', deny: ['x'] }], matchMode: 'any' }), /config\.matchMode/);
});

function decide(config: Record<string, unknown>, req: ConstructorParameters<typeof FakeSession>[0]) {
  const c = validate(config).config as never;
  return RequestRestriction.create(c, fakeDeps()).onRequest!(new FakeSession(req)) as { status: number } | undefined;
}

test('per-rule logic: deny first, then allow lists, missing values', () => {
  const rule = { source: 'Header', key: 'x-v', allow: ['a'], allowRegex: ['^b\\d$'], deny: ['a-bad'], denyRegex: ['evil'] };
  const cfg = { rules: [rule] };
  assert.equal(decide(cfg, { headers: { 'x-v': 'a' } }), undefined);
  assert.equal(decide(cfg, { headers: { 'x-v': 'b7' } }), undefined);
  assert.equal(decide(cfg, { headers: { 'x-v': 'c' } })?.status, 403);
  assert.equal(decide(cfg, { headers: { 'x-v': 'b7-evil' } })?.status, 403);
  assert.equal(decide(cfg, {}), undefined, 'onMissing Allow');
  assert.equal(decide({ rules: [{ ...rule, onMissing: 'Deny' }] }, {})?.status, 403);
  assert.equal(decide({ rules: [{ ...rule, caseSensitive: false }] }, { headers: { 'x-v': 'A' } }), undefined);
  assert.equal(decide(cfg, { headers: { 'x-v': 'A' } })?.status, 403);
});

test('sources: cookie, query, path, method, referer', () => {
  assert.equal(decide({ rules: [{ source: 'Cookie', key: 'c', deny: ['1'] }] }, { headers: { cookie: 'c=1' } })?.status, 403);
  assert.equal(decide({ rules: [{ source: 'Query', key: 'q', deny: ['1'] }] }, { query: 'q=1' })?.status, 403);
  assert.equal(decide({ rules: [{ source: 'Path', allowRegex: ['^/api/'] }] }, { path: '/admin' })?.status, 403);
  assert.equal(decide({ rules: [{ source: 'Method', allow: ['GET'] }] }, { method: 'POST' })?.status, 403);
  assert.equal(decide({ rules: [{ source: 'Referer', denyRegex: ['spam'] }] }, { headers: { referer: 'https://spam.test' } })?.status, 403);
});

test('matchMode All: deny only when every rule denies; a skipped rule keeps it open', () => {
  const rules = [
    { source: 'Header', key: 'a', deny: ['1'] },
    { source: 'Header', key: 'b', deny: ['1'], onMissing: 'Skip' },
  ];
  assert.equal(decide({ matchMode: 'All', rules }, { headers: { a: '1', b: '1' } })?.status, 403);
  assert.equal(decide({ matchMode: 'All', rules }, { headers: { a: '1' } }), undefined);
  assert.equal(decide({ matchMode: 'All', rules }, { headers: { a: '1', b: '2' } }), undefined);
  assert.equal(decide({ rules }, { headers: { b: '1' } })?.status, 403, 'Any');
});
