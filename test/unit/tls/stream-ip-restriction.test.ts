import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileStreamPlugins, validateStreamPluginEntry } from '../../../src/plugins/stream/ip-restriction.js';

const check = (config: Record<string, unknown>, ip: string) => compileStreamPlugins([{ type: 'IpRestriction', enable: true, config }])[0]!.check(ip);

test('deny wins over allow; an allow list denies the rest; defaultAction decides otherwise', () => {
  const c = { allow: ['10.0.0.0/8'], deny: ['10.66.0.0/16'] };
  assert.equal(check(c, '10.1.2.3'), undefined);
  assert.match(check(c, '10.66.1.1')!, /deny list/);
  assert.match(check(c, '192.168.1.1')!, /not in the allow list/);
  assert.equal(check({ deny: ['127.0.0.1'] }, '127.0.0.2'), undefined);
  assert.match(check({ deny: ['127.0.0.1'] }, '::ffff:127.0.0.1')!, /deny/);
  assert.match(check({ defaultAction: 'deny' }, '1.2.3.4')!, /defaultAction deny/);
  assert.equal(check({ defaultAction: 'allow' }, '1.2.3.4'), undefined);
  assert.match(check({ deny: ['2001:db8::/32'], message: 'go away' }, '2001:db8::5')!, /^go away/);
});

test('disabled entries are skipped', () => {
  assert.equal(compileStreamPlugins([{ type: 'IpRestriction', enable: false, config: { defaultAction: 'deny' } }]).length, 0);
});

test('validation: paths and messages a user sees', () => {
  assert.deepEqual(validateStreamPluginEntry({ type: 'IpRestriction', config: { defaultAction: 'deny' } }), [], 'only defaultAction is valid');
  assert.deepEqual(validateStreamPluginEntry({ type: 'IpRestriction', config: { allow: ['10.0.0.0/8', 'nope'] } }).map((p) => p.path), ['config.allow[1]']);
  assert.match(validateStreamPluginEntry({ type: 'IpRestriction', config: { deny: [] } })[0]!.message, /empty/);
  assert.match(validateStreamPluginEntry({ type: 'IpRestriction', config: { defaultAction: 'maybe' } })[0]!.message, /allow" or "deny/);
  assert.match(validateStreamPluginEntry({ type: 'IpRestriction', config: { allowlist: ['1.2.3.4'] } })[0]!.message, /unknown field/);
  assert.match(validateStreamPluginEntry({ type: 'RateLimit', config: {} })[0]!.message, /unknown stream plugin type/);
  assert.equal(validateStreamPluginEntry({ type: 'IpRestriction', config: { allow: ['10.0.0.0/33'] } }).length, 1);
});
