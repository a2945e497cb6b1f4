// IpRestriction: schema, rejected lists, decisions on a fake session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { IpRestriction } from '../../../src/plugins/http/security/ip-restriction.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from './security-deps.js';

const registry = builtinRegistry();
const validate = (config: unknown) => registry.validateEntry('requestPlugins', { type: 'IpRestriction', config });
const msgs = (config: unknown) => validate(config).problems.map((p) => `${p.path}: ${p.message}`).join('\n');

test('defaults', () => {
  assert.deepEqual(validate({ deny: ['1.2.3.4'] }).config, { deny: ['1.2.3.4'], defaultAction: 'allow', ipSource: 'clientIp', status: 403, message: 'Your IP address is not allowed to access this resource' });
});

test('rejected: no lists, empty lists, bad entries, bad enum values', () => {
  assert.match(msgs({}), /^config: set allow or deny/m);
  assert.match(msgs({ allow: [] }), /config\.allow: allow is empty/);
  assert.match(msgs({ allow: ['10.0.0.0/33'] }), /config\.allow\[0\]: "10\.0\.0\.0\/33" is not an IP address or CIDR/);
  assert.match(msgs({ deny: ['10.0.0.0/'] }), /config\.deny\[0\]/);
  assert.match(msgs({ deny: ['example.com'] }), /config\.deny\[0\]/);
  assert.match(msgs({ deny: ['1.1.1.1'], defaultAction: 'Deny' }), /config\.defaultAction/);
  assert.match(msgs({ deny: ['1.1.1.1'], status: 99 }), /config\.status/);
});

function decide(config: Record<string, unknown>, clientIp: string, peerIp = '127.0.0.1') {
  const c = validate(config).config as never;
  return IpRestriction.create(c, fakeDeps()).onRequest!(new FakeSession({ clientIp, peerIp })) as { status: number; body: string } | undefined;
}

test('decisions: deny wins over allow, allow list excludes the rest, defaultAction, IPv6 and v4-mapped', () => {
  const cfg = { allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.66.0.0/16'] };
  assert.equal(decide(cfg, '10.1.1.1'), undefined);
  assert.equal(decide(cfg, '::ffff:10.1.1.1'), undefined);
  assert.equal(decide(cfg, '2001:db8::5'), undefined);
  assert.equal(decide(cfg, '10.66.1.1')?.status, 403);
  assert.equal(decide(cfg, '11.0.0.1')?.status, 403);
  assert.equal(decide({ deny: ['1.1.1.1'], defaultAction: 'deny' }, '2.2.2.2')?.status, 403);
  assert.equal(decide({ deny: ['1.1.1.1'] }, '2.2.2.2'), undefined);
  const r = decide({ deny: ['1.1.1.1'], status: 451, message: 'no "way"' }, '1.1.1.1');
  assert.equal(r?.status, 451);
  assert.deepEqual(JSON.parse(r!.body), { message: 'no "way"' });
  assert.equal(decide({ allow: ['127.0.0.1'], ipSource: 'remoteAddr' }, '8.8.8.8', '127.0.0.1'), undefined);
  assert.equal(decide({ allow: ['127.0.0.1'] }, '8.8.8.8', '127.0.0.1')?.status, 403);
});
