// JweDecrypt: schema, token checks and statuses, decryption, forwarding and payload headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { inspectJwe, JweDecrypt } from '../../../src/plugins/http/auth/jwe-decrypt.js';
import { fakeDeps, instance, problems, validConfig } from './auth-helpers.js';

const KEY = randomBytes(32);
const K128 = randomBytes(16);
const secrets = { 'default/jwe': { secret: KEY }, 'default/b64': { secret: KEY.toString('base64') }, 'default/k128': { secret: K128 }, 'default/short': { secret: randomBytes(20) } };
const enc = (payload: string, key: Uint8Array = KEY, e = 'A256GCM', extra: Record<string, unknown> = {}) =>
  new CompactEncrypt(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'dir', enc: e, ...extra }).encrypt(key);
const PAYLOAD = JSON.stringify({ sub: 'u-1', tenant: { id: 't-9' }, roles: ['a', 'b'], n: 7 });

test('defaults and rejected configs', () => {
  const c = validConfig('JweDecrypt', { secretRef: { name: 'jwe' } });
  assert.deepEqual(
    [c.base64Secret, c.keyManagementAlgorithm, c.contentEncryptionAlgorithm, c.header, c.forwardHeader, c.strict, c.hideCredentials, c.maxTokenSize, c.maxHeaderValueBytes, c.maxTotalHeaderBytes],
    [false, 'Dir', 'A256GCM', 'authorization', 'authorization', true, false, 8192, 4096, 16384],
  );
  assert.deepEqual(problems('JweDecrypt', {}), ['config: required field "secretRef" is missing']);
  assert.deepEqual(problems('JweDecrypt', { secretRef: { name: 'j' }, keyManagementAlgorithm: 'RSA-OAEP' }), ['config.keyManagementAlgorithm: only direct key agreement (Dir) is supported (got "RSA-OAEP")']);
  assert.deepEqual(problems('JweDecrypt', { secretRef: { name: 'j' }, keyManagementAlgorithm: 'DIR' }), []);
  assert.match(problems('JweDecrypt', { secretRef: { name: 'j' }, contentEncryptionAlgorithm: 'A512GCM' }).join(), /config\.contentEncryptionAlgorithm: must be one of/);
  assert.deepEqual(problems('JweDecrypt', { secretRef: { name: 'j' }, forwardHeader: 'x y' }), ['config.forwardHeader: "x y" is not a valid HTTP header name']);
});

test('structure checks', async () => {
  const t = await enc('x');
  assert.deepEqual(inspectJwe(t), { alg: 'dir', enc: 'A256GCM' });
  assert.equal(inspectJwe('a.b.c.d'), 'a compact JWE has 5 parts');
  const [h, , iv, ct, tag] = t.split('.');
  assert.equal(inspectJwe(`${h}.AAAA.${iv}.${ct}.${tag}`), 'dir needs an empty encrypted key');
  assert.equal(inspectJwe(`${h}..AAAA.${ct}.${tag}`), 'the IV must be 12 bytes');
  assert.equal(inspectJwe(`${h}..${iv}.${ct}.AAAA`), 'the tag must be 16 bytes');
  assert.equal(inspectJwe(`!!..${iv}.${ct}.${tag}`), 'a part is not base64url');
});

test('decrypts: the payload replaces the token, goes to ctx and to headers', async () => {
  const p = instance(JweDecrypt, { secretRef: { name: 'jwe' }, storePayloadInCtx: true, payloadToHeaders: { sub: 'X-User', 'tenant.id': 'X-Tenant', roles: 'X-Roles', n: 'X-N', absent: 'X-Absent' } }, fakeDeps(secrets));
  const { s, reply } = await p.run({ headers: { authorization: `Bearer ${await enc(PAYLOAD)}`, 'x-absent': 'forged' } });
  assert.equal(reply, undefined);
  assert.equal(s.header('authorization'), PAYLOAD);
  assert.equal(s.getVar('jwe_payload'), PAYLOAD);
  assert.deepEqual(['x-user', 'x-tenant', 'x-roles', 'x-n', 'x-absent'].map((h) => s.header(h)), ['u-1', 't-9', 'a,b', '7', undefined]);
});

test('forwardHeader, stripPrefix and hideCredentials', async () => {
  const p = instance(JweDecrypt, { secretRef: { name: 'jwe' }, header: 'X-Enc', stripPrefix: 'Token ', forwardHeader: 'X-Claims', hideCredentials: true }, fakeDeps(secrets));
  const { s, reply } = await p.run({ headers: { 'x-enc': `Token ${await enc('hello')}` } });
  assert.equal(reply, undefined);
  assert.equal(s.header('x-claims'), 'hello');
  assert.equal(s.header('x-enc'), undefined);
});

test('pretty-printed JSON is forwarded compact; control characters in other payloads are refused', async () => {
  const p = instance(JweDecrypt, { secretRef: { name: 'jwe' } }, fakeDeps(secrets));
  let r = await p.run({ headers: { authorization: await enc('{\n  "a": 1\n}') } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('authorization'), '{"a":1}');
  r = await p.run({ headers: { authorization: await enc('line1\nline2') } });
  assert.equal(r.reply?.status, 400);
});

test('statuses: 403 missing (strict), 400 malformed / unsupported / too large, 403 wrong key or no key, 500 wrong key length', async () => {
  const d = fakeDeps(secrets);
  const p = instance(JweDecrypt, { secretRef: { name: 'jwe' }, maxTokenSize: 400 }, d);
  const check = async (headers: Record<string, string>, status: number, body: string) => {
    const { reply } = await p.run({ headers });
    assert.equal(reply?.status, status, body);
    assert.equal(reply?.body, `${status} ${body}`);
    assert.equal(reply?.headers?.['www-authenticate'], 'Bearer realm="edgion"');
  };
  await check({}, 403, 'JWE token required');
  await check({ authorization: 'Bearer ' }, 403, 'JWE token required');
  await check({ authorization: 'a.b.c' }, 400, 'Malformed JWE token');
  await check({ authorization: await enc('x'.repeat(400)) }, 400, 'JWE token too large');
  const rsaHeader = Buffer.from(JSON.stringify({ alg: 'RSA-OAEP', enc: 'A256GCM' })).toString('base64url');
  await check({ authorization: `${rsaHeader}.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA` }, 400, 'Unsupported JWE algorithm');
  await check({ authorization: await enc('x', K128, 'A128GCM') }, 400, 'JWE algorithm not allowed');
  await check({ authorization: await enc('x', KEY, 'A256GCM', { zip: 'DEF' }) }, 400, 'Unsupported JWE algorithm');
  await check({ authorization: await enc('x', randomBytes(32)) }, 403, 'JWE decryption failed');
  const t = await enc('x');
  await check({ authorization: t.slice(0, -5) + (t.endsWith('AAAAA') ? 'BBBBB' : 'AAAAA') }, 403, 'JWE decryption failed');

  const none = instance(JweDecrypt, { secretRef: { name: 'gone' } }, d);
  assert.equal((await none.run({ headers: { authorization: await enc('x') } })).reply?.status, 403);
  const short = instance(JweDecrypt, { secretRef: { name: 'short' } }, d);
  const r = await short.run({ headers: { authorization: await enc('x') } });
  assert.equal(r.reply?.status, 500);
  assert.match(d.logged.join('\n'), /the key of default\/short is 20 bytes; A256GCM needs 32/);
});

test('strict: false lets requests without a token through untouched', async () => {
  const p = instance(JweDecrypt, { secretRef: { name: 'jwe' }, strict: false }, fakeDeps(secrets));
  const { s, reply } = await p.run({ headers: { other: '1' } });
  assert.equal(reply, undefined);
  assert.equal(s.header('authorization'), undefined);
  assert.equal((await p.run({ headers: { authorization: 'garbage' } })).reply?.status, 400, 'a token that is present is still checked');
});

test('base64Secret, allowedAlgorithms and other encryption algorithms', async () => {
  const b = instance(JweDecrypt, { secretRef: { name: 'b64' }, base64Secret: true }, fakeDeps(secrets));
  assert.equal((await b.run({ headers: { authorization: await enc('ok') } })).reply, undefined);
  const a = instance(JweDecrypt, { secretRef: { name: 'k128' }, contentEncryptionAlgorithm: 'A128GCM' }, fakeDeps(secrets));
  assert.equal((await a.run({ headers: { authorization: await enc('ok', K128, 'A128GCM') } })).reply, undefined);
  const cbc = instance(JweDecrypt, { secretRef: { name: 'jwe' }, allowedAlgorithms: ['A256GCM', 'A128CBC-HS256'] }, fakeDeps(secrets));
  assert.equal((await cbc.run({ headers: { authorization: await enc('ok', KEY, 'A128CBC-HS256') } })).reply, undefined);
  assert.equal((await cbc.run({ headers: { authorization: await enc('ok', K128, 'A128GCM') } })).reply?.status, 400);
});

test('header size limits: oversized values are not forwarded', async () => {
  const p = instance(JweDecrypt, { secretRef: { name: 'jwe' }, maxHeaderValueBytes: 5, maxTotalHeaderBytes: 7, payloadToHeaders: { a: 'X-A', b: 'X-B', c: 'X-C' } }, fakeDeps(secrets));
  const { s, reply } = await p.run({ headers: { authorization: await enc(JSON.stringify({ a: 'abcd', b: 'toolong', c: 'efgh' })) } });
  assert.equal(reply, undefined);
  assert.equal(s.header('x-a'), 'abcd');
  assert.equal(s.header('x-b'), undefined, 'over maxHeaderValueBytes');
  assert.equal(s.header('x-c'), undefined, 'over maxTotalHeaderBytes');
});
