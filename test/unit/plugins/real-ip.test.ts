// RealIp (plugins.md §4.22, DECISIONS §36): trusted proxies, right-to-left scan, malformed entries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSession, type FakeRequest } from '../../helpers/fake-session.js';
import { make, problems, validate, warnings } from './plugin-test-kit.js';

test('defaults', () => {
  assert.deepEqual(validate('RealIp', {}).config, { trustedIps: [], realIpHeader: 'X-Forwarded-For', recursive: true });
});

const TRUST = { trustedIps: ['10.0.0.0/8', '192.168.1.1', 'fd00::/8'] };
const CASES: [name: string, config: unknown, req: FakeRequest, want: string][] = [
  ['untrusted peer: the peer is the client', TRUST, { peerIp: '203.0.113.9', headers: { 'x-forwarded-for': '1.2.3.4' } }, '203.0.113.9'],
  ['no trusted list: the peer', {}, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': '1.2.3.4' } }, '10.0.0.5'],
  ['trusted peer, one address', TRUST, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': '1.2.3.4' } }, '1.2.3.4'],
  ['right to left: the first untrusted', TRUST, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': '9.9.9.9, 1.2.3.4, 10.1.1.1, 192.168.1.1' } }, '1.2.3.4'],
  ['all trusted: the leftmost', TRUST, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': '10.9.9.9, 10.1.1.1' } }, '10.9.9.9'],
  ['malformed entries are skipped', TRUST, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': '5.6.7.8, unknown, 10.1.1.1, not-an-ip' } }, '5.6.7.8'],
  ['malformed only: the peer', TRUST, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': 'garbage, ,x' } }, '10.0.0.5'],
  ['all trusted with malformed ones: the leftmost valid', TRUST, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': 'junk, 10.2.2.2, 10.1.1.1' } }, '10.2.2.2'],
  ['no header: the peer', TRUST, { peerIp: '10.0.0.5' }, '10.0.0.5'],
  ['ports are stripped', TRUST, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': '1.2.3.4:5678, 10.1.1.1:80' } }, '1.2.3.4'],
  ['IPv6 with brackets and port', TRUST, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': '[2001:db8::1]:443, fd00::1' } }, '2001:db8::1'],
  ['IPv6 trusted peer', TRUST, { peerIp: 'fd00::7', headers: { 'x-forwarded-for': '2001:db8::2' } }, '2001:db8::2'],
  ['IPv4-mapped IPv6 is normalised', TRUST, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': '::ffff:1.2.3.4' } }, '1.2.3.4'],
  ['another header', { ...TRUST, realIpHeader: 'X-Real-IP' }, { peerIp: '10.0.0.5', headers: { 'x-real-ip': '8.8.8.8', 'x-forwarded-for': '1.1.1.1' } }, '8.8.8.8'],
  ['header name is case-insensitive', { ...TRUST, realIpHeader: 'cf-connecting-ip' }, { peerIp: '10.0.0.5', headers: { 'CF-Connecting-IP': '8.8.4.4' } }, '8.8.4.4'],
  ['invalid trustedIps entries are ignored', { trustedIps: ['nope', '10.0.0.0/99', '10.0.0.0/8'] }, { peerIp: '10.0.0.5', headers: { 'x-forwarded-for': '1.2.3.4' } }, '1.2.3.4'],
];
for (const [name, config, req, want] of CASES) {
  test(`RealIp: ${name}`, async () => {
    const s = new FakeSession(req);
    assert.equal(await make('RealIp', config).onRequest!(s), undefined);
    assert.equal(s.clientIp, want);
    assert.equal(s.remoteIp, want, 'set through session.setRemoteIp');
  });
}

test('the new client IP is logged when it differs from the peer', async () => {
  const s = new FakeSession({ peerIp: '10.0.0.5', headers: { 'x-forwarded-for': '1.2.3.4' } });
  await make('RealIp', TRUST).onRequest!(s);
  assert.deepEqual(s.logs, ['real ip 1.2.3.4']);
});

test('invalid trustedIps entries: warnings naming each, not errors', () => {
  assert.deepEqual(problems('RealIp', { trustedIps: ['nope', '10.0.0.0/8'] }), []);
  assert.deepEqual(warnings('RealIp', { trustedIps: ['nope', '10.0.0.0/8', '1.2.3.4/33'] }), ['config.trustedIps[0]: "nope" is not an IP address or CIDR; it is ignored', 'config.trustedIps[2]: "1.2.3.4/33" is not an IP address or CIDR; it is ignored']);
});

const BAD: [config: unknown, message: string][] = [
  [{ trustedIps: '10.0.0.0/8' }, 'config.trustedIps: must be a list (got "10.0.0.0/8")'],
  [{ realIpHeader: 'X Forwarded' }, "config.realIpHeader: must be a header name (letters, digits and !#$%&'*+-.^_`|~) (got \"X Forwarded\")"],
  [{ recursive: 'yes' }, 'config.recursive: must be a boolean (got "yes")'],
];
for (const [config, message] of BAD) test(`rejected: ${message}`, () => assert.deepEqual(problems('RealIp', config), [message]));
