import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certificateCovers, checkKeyPair, checkCaBundle, cipherListError } from '../../../src/controller/translate/certificates.js';
import { patternMatches, renderSans } from '../../../src/gateway/tls/client-cert.js';
import { TestCa } from '../../helpers/certs.js';

test('certificate names cover hosts: exact, and a wildcard covers exactly one label', () => {
  assert.ok(certificateCovers(['a.example.com'], 'A.example.com'));
  assert.ok(certificateCovers(['*.example.com'], 'a.example.com'));
  assert.ok(!certificateCovers(['*.example.com'], 'a.b.example.com'));
  assert.ok(!certificateCovers(['*.example.com'], 'example.com'));
  assert.ok(certificateCovers(['*.example.com'], '*.example.com'));
  assert.ok(!certificateCovers(['a.example.com'], '*.example.com'));
});

test('key pairs: a matching key passes, a foreign key and garbage are explained', () => {
  const ca = new TestCa('unit-cert-ca');
  const a = ca.issue('a.unit.test', { ec: true });
  const b = ca.issue('b.unit.test');
  const ok = checkKeyPair(a.cert, a.key);
  assert.equal(typeof ok, 'object');
  if (typeof ok === 'object') assert.deepEqual(ok.names, ['a.unit.test']);
  assert.match(String(checkKeyPair(a.cert, b.key)), /not the private key/);
  assert.match(String(checkKeyPair('nope', a.key)), /no PEM certificate/);
  assert.match(String(checkKeyPair(a.cert, 'nope')), /does not parse/);
  const old = ca.issue('old.unit.test', { expired: true });
  const expired = checkKeyPair(old.cert, old.key);
  assert.ok(typeof expired === 'object' && expired.expired, 'an expired certificate parses and is flagged');
  assert.equal(checkCaBundle(ca.cert), undefined);
  assert.match(String(checkCaBundle('x')), /no PEM/);
});

test('cipher lists are checked with OpenSSL', () => {
  assert.equal(cipherListError('ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256'), undefined);
  assert.ok(cipherListError('NOT-A-CIPHER'));
});

test('client SANs are rendered as the reference says and matched by pattern', () => {
  assert.deepEqual(renderSans('DNS:a.example.com, IP Address:10.0.0.1, email:ops@example.com, URI:spiffe://x/y'), ['a.example.com', 'IP:10.0.0.1', 'email:ops@example.com', 'uri:spiffe://x/y']);
  assert.ok(patternMatches('*.partners.example', 'a.partners.example'));
  assert.ok(!patternMatches('*.partners.example', 'a.b.partners.example'));
  assert.ok(patternMatches('DNS:*.partners.example', 'a.partners.example'));
  assert.ok(patternMatches('IP:10.0.0.1', 'IP:10.0.0.1'));
  assert.ok(!patternMatches('*.example', 'email:x@y.example'));
  assert.ok(patternMatches('client-ok', 'Client-OK'));
});
