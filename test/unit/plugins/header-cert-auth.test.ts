// HeaderCertAuth: schema, header formats, chain verification (issuer, signature, dates, depth,
// usage), identity rendering (DN, SANs, fingerprint, consumer), anonymous, Connection mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { decodeCertHeader, HeaderCertAuth, renderDn, renderSans } from '../../../src/plugins/http/auth/header-cert-auth.js';
import { makeCert, SERVER_AUTH } from '../../helpers/x509.js';
import { fakeDeps, instance, problems, validConfig } from './auth-helpers.js';

const ca = makeCert({ cn: 'Test CA', org: 'Edgion', isCa: true });
const mid = makeCert({ cn: 'Mid CA', isCa: true, issuer: ca });
const other = makeCert({ cn: 'Other CA', isCa: true });
const leaf = makeCert({ cn: 'client-a', org: 'Acme, Inc', issuer: ca, dns: ['a.acme.test'], ips: ['10.0.0.1'], emails: ['a@acme.test'], uris: ['spiffe://acme/a'] });
const cnOnly = makeCert({ cn: 'svc-b', issuer: ca });
const viaMid = makeCert({ cn: 'client-m', issuer: mid, dns: ['m.acme.test'] });
const foreign = makeCert({ cn: 'intruder', issuer: other });
const expired = makeCert({ cn: 'old', issuer: ca, notBefore: new Date(Date.now() - 10 * 86400e3), notAfter: new Date(Date.now() - 86400e3) });
const future = makeCert({ cn: 'later', issuer: ca, notBefore: new Date(Date.now() + 86400e3) });
const serverOnly = makeCert({ cn: 'server', issuer: ca, eku: [SERVER_AUTH] });
const selfSigned = makeCert({ cn: 'client-a' });

const secrets = { 'default/ca': { 'ca.crt': ca.pem }, 'default/both': { 'ca.crt': ca.pem + mid.pem } };
const b64 = (c: { der: Buffer }) => c.der.toString('base64');
const urlPem = (...certs: { pem: string }[]) => encodeURIComponent(certs.map((c) => c.pem).join(''));

test('defaults and rejected configs', () => {
  const c = validConfig('HeaderCertAuth', { caSecretRefs: [{ name: 'ca' }] });
  assert.deepEqual(
    [c.mode, c.certificateHeaderName, c.certificateHeaderFormat, c.verifyDepth, c.hideCredentials, c.consumerBy, c.allowAnonymous, c.errorStatus, c.errorMessage],
    ['Header', 'X-Client-Cert', 'base64Encoded', 1, true, 'sanOrCn', false, 401, 'TLS certificate failed verification'],
  );
  assert.deepEqual(c.upstreamHeaders, { consumerHeader: 'X-Consumer-Username', dnHeader: 'X-Client-Cert-Dn', sanHeader: 'X-Client-Cert-San', fingerprintHeader: 'X-Client-Cert-Fingerprint' });
  assert.deepEqual(problems('HeaderCertAuth', {}), ['config.caSecretRefs: Header mode needs caSecretRefs (the CA certificates client certificates are verified with)']);
  assert.deepEqual(problems('HeaderCertAuth', { mode: 'Connection' }), []);
  assert.match(problems('HeaderCertAuth', { caSecretRefs: [{ name: 'ca' }], errorStatus: 302 }).join(), /config\.errorStatus/);
  assert.match(problems('HeaderCertAuth', { caSecretRefs: [{ name: 'ca' }], consumerBy: 'email' }).join(), /config\.consumerBy: must be one of: sanOrCn, cn, fingerprint/);
  assert.deepEqual(problems('HeaderCertAuth', { caSecretRefs: [{ name: 'ca' }], upstreamHeaders: { dnHeader: 'X Dn' } }), ['config.upstreamHeaders.dnHeader: "X Dn" is not a valid HTTP header name']);
});

test('header formats: base64 DER (whitespace ignored), base64 of a PEM, percent-encoded PEM with a chain', () => {
  assert.deepEqual(decodeCertHeader(b64(leaf).replace(/(.{40})/g, '$1 \n'), 'base64Encoded'), [leaf.der]);
  assert.deepEqual(decodeCertHeader(Buffer.from(leaf.pem).toString('base64'), 'base64Encoded'), [leaf.der]);
  assert.deepEqual(decodeCertHeader(urlPem(viaMid, mid), 'urlEncoded'), [viaMid.der, mid.der]);
  assert.equal(decodeCertHeader('%E0%A4%A', 'urlEncoded'), undefined);
  assert.equal(decodeCertHeader('not base64 !', 'base64Encoded'), undefined);
});

test('DN and SAN rendering', () => {
  const x = new X509Certificate(leaf.der);
  assert.equal(renderDn(x.subject), 'CN=client-a,O=Acme\\, Inc');
  assert.deepEqual(renderSans(x.subjectAltName).rendered, ['a.acme.test', 'email:a@acme.test', 'uri:spiffe://acme/a', 'IP:10.0.0.1']);
  assert.deepEqual(renderSans('DNS:"a, b", URI:x').values, ['a, b', 'x']);
});

test('a certificate from a trusted CA: identity headers upstream, the certificate header removed', async () => {
  const p = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'ca' }] }, fakeDeps(secrets));
  const { s, reply } = await p.run({ headers: { 'x-client-cert': b64(leaf), 'x-anonymous-consumer': 'true', 'x-client-cert-dn': 'forged' } });
  assert.equal(reply, undefined);
  assert.equal(s.header('x-consumer-username'), 'a.acme.test', 'sanOrCn: the first SAN');
  assert.equal(s.header('x-client-cert-dn'), 'CN=client-a,O=Acme\\, Inc');
  assert.equal(s.header('x-client-cert-san'), 'a.acme.test,email:a@acme.test,uri:spiffe://acme/a,IP:10.0.0.1');
  assert.equal(s.header('x-client-cert-fingerprint'), leaf.fingerprint);
  assert.equal(s.header('x-client-cert'), undefined);
  assert.equal(s.header('x-anonymous-consumer'), undefined);
});

test('consumerBy cn / fingerprint; sanOrCn falls back to the CN; custom headers; hideCredentials false', async () => {
  const deps = fakeDeps(secrets);
  let p = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'ca' }], consumerBy: 'cn', hideCredentials: false }, deps);
  let r = await p.run({ headers: { 'x-client-cert': b64(leaf) } });
  assert.equal(r.s.header('x-consumer-username'), 'client-a');
  assert.equal(r.s.header('x-client-cert'), b64(leaf));
  p = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'ca' }], consumerBy: 'fingerprint', upstreamHeaders: { consumerHeader: 'X-Client-Id', fingerprintHeader: 'X-Fp' } }, deps);
  r = await p.run({ headers: { 'x-client-cert': b64(cnOnly) } });
  assert.equal(r.s.header('x-client-id'), cnOnly.fingerprint);
  assert.equal(r.s.header('x-fp'), cnOnly.fingerprint);
  assert.equal(r.s.header('x-client-cert-san'), undefined);
  p = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'ca' }], certificateHeaderName: 'X-SSL-Client-Cert', certificateHeaderFormat: 'urlEncoded' }, deps);
  r = await p.run({ headers: { 'x-ssl-client-cert': urlPem(cnOnly), 'x-client-cert-san': 'forged' } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-consumer-username'), 'svc-b');
  assert.equal(r.s.header('x-client-cert-san'), undefined, 'a forged SAN header is removed');
});

test('verification failures answer errorStatus with errorMessage (TLSCert realm edgion)', async () => {
  const p = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'ca' }] }, fakeDeps(secrets));
  for (const [value, why] of [
    [b64(foreign), 'other CA'],
    [b64(selfSigned), 'self-signed with the same name'],
    [b64(expired), 'expired'],
    [b64(future), 'not valid yet'],
    [b64(serverOnly), 'not for client authentication'],
    [b64(viaMid), 'intermediate not sent and not trusted'],
    ['bm90IGEgY2VydA==', 'not a certificate'],
    [undefined, 'no certificate'],
  ] as const) {
    const { reply } = await p.run({ headers: value ? { 'x-client-cert': value } : {} });
    assert.equal(reply?.status, 401, why);
    assert.equal(reply?.body, '401 TLS certificate failed verification');
    assert.equal(reply?.headers?.['www-authenticate'], 'TLSCert realm="edgion"');
  }
  const custom = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'ca' }], errorStatus: 495, errorMessage: 'SSL Certificate Error' }, fakeDeps(secrets));
  const { reply } = await custom.run({ headers: { 'x-client-cert': b64(foreign) } });
  assert.equal(reply?.status, 495);
  assert.equal(reply?.body, '495 SSL Certificate Error');
});

test('verifyDepth: an intermediate sent with the leaf is accepted when the depth allows it; a trusted intermediate at depth 1', async () => {
  const d1 = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'ca' }], certificateHeaderFormat: 'urlEncoded' }, fakeDeps(secrets));
  assert.equal((await d1.run({ headers: { 'x-client-cert': urlPem(viaMid, mid) } })).reply?.status, 401, 'depth 1: leaf → intermediate → root is too long');
  const d2 = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'ca' }], certificateHeaderFormat: 'urlEncoded', verifyDepth: 2 }, fakeDeps(secrets));
  const r = await d2.run({ headers: { 'x-client-cert': urlPem(viaMid, mid) } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-consumer-username'), 'm.acme.test');
  assert.equal((await d2.run({ headers: { 'x-client-cert': urlPem(viaMid, foreign) } })).reply?.status, 401, 'a wrong intermediate');
  const pinned = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'pin' }], verifyDepth: 0 }, fakeDeps({ 'default/pin': { 'ca.crt': selfSigned.pem } }));
  assert.equal((await pinned.run({ headers: { 'x-client-cert': b64(selfSigned) } })).reply, undefined, 'a certificate listed in ca.crt is pinned');
  assert.equal((await pinned.run({ headers: { 'x-client-cert': b64(leaf) } })).reply?.status, 401);
  const both = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'both' }] }, fakeDeps(secrets));
  assert.equal((await both.run({ headers: { 'x-client-cert': b64(viaMid) } })).reply, undefined, 'the intermediate is in ca.crt');
});

test('allowAnonymous: no certificate → consumer "anonymous"; a bad one is still refused', async () => {
  const p = instance(HeaderCertAuth, { caSecretRefs: [{ name: 'ca' }], allowAnonymous: true }, fakeDeps(secrets));
  let r = await p.run({ headers: { 'x-client-cert-dn': 'forged' } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-consumer-username'), 'anonymous');
  assert.equal(r.s.header('x-anonymous-consumer'), 'true');
  assert.equal(r.s.header('x-client-cert-dn'), undefined);
  r = await p.run({ headers: { 'x-client-cert': b64(foreign) } });
  assert.equal(r.reply?.status, 401);
});

test('Connection mode uses the TLS client certificate; optional CA check', async () => {
  const conn = (c: { der: Buffer }) => {
    const x = new X509Certificate(c.der);
    return { subject: x.subject, issuer: x.issuer, sans: [], fingerprint256: x.fingerprint256, raw: c.der };
  };
  const p = instance(HeaderCertAuth, { mode: 'Connection' }, fakeDeps(secrets));
  let r = await p.run({ clientCert: conn(cnOnly), headers: { 'x-client-cert': 'kept' } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-consumer-username'), 'svc-b');
  assert.equal(r.s.header('x-client-cert'), 'kept', 'Connection mode does not touch the header');
  assert.equal((await p.run({})).reply?.status, 401);
  const pinned = instance(HeaderCertAuth, { mode: 'Connection', caSecretRefs: [{ name: 'ca' }] }, fakeDeps(secrets));
  assert.equal((await pinned.run({ clientCert: conn(foreign) })).reply?.status, 401);
  assert.equal((await pinned.run({ clientCert: conn(leaf) })).reply, undefined);
});
