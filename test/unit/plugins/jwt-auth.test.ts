// JwtAuth: schema, algorithms, key selection, claims checks, header rendering, anonymous.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { JwtAuth } from '../../../src/plugins/http/auth/jwt-auth.js';
import type { FakeRequest } from '../../helpers/fake-session.js';
import { fakeDeps, instance, problems, validConfig } from './auth-helpers.js';

const HS = 'a-very-secret-hmac-key-of-32-bytes!!';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const pem = (k: { publicKey: import('node:crypto').KeyObject }) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const now = () => Math.floor(Date.now() / 1000);

async function sign(alg: string, key: unknown, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...header }).sign(key as Uint8Array);
}
const hs = (claims: Record<string, unknown> = {}, secret: string | Buffer = HS, alg = 'HS256') => sign(alg, typeof secret === 'string' ? Buffer.from(secret) : secret, claims);

const secrets = {
  'default/hs': { secret: HS },
  'default/rs': { publicKey: pem(rsa) },
  'default/es': { publicKey: pem(ec) },
  'default/es384': { publicKey: pem(ec384) },
  'default/b64': { secret: Buffer.from(HS).toString('base64') },
  'default/alice': { key: 'alice', secret: 'alice-secret-alice-secret-alice-secret' },
  'default/bob': { key: 'bob', secret: 'bob-secret-bob-secret-bob-secret-bob!!' },
};

test('defaults and rejected configs', () => {
  const c = validConfig('JwtAuth', { secretRef: { name: 'hs' } });
  assert.equal(c.algorithm, undefined, 'HS256 applies when no jwksUri is set');
  assert.deepEqual([c.keyClaimName, c.header, c.query, c.cookie, c.realm, c.lifetimeGracePeriod, c.maximumExpiration, c.base64Secret], ['key', 'authorization', 'jwt', 'jwt', 'jwt', 0, 0, false]);
  assert.match(problems('JwtAuth', { secretRef: { name: 'hs' }, algorithm: 'none' }).join(), /config\.algorithm: must be one of: HS256/);
  assert.deepEqual(problems('JwtAuth', {}), ['config.secretRef: JwtAuth needs secretRef, secretRefs or jwksUri (the keys tokens are verified with)']);
  assert.deepEqual(problems('JwtAuth', { jwksUri: 'https://id.test/jwks', algorithm: 'HS256' }), ['config.algorithm: HS256 is an HMAC algorithm: a JWKS holds public keys (use RS*/ES*)']);
  assert.deepEqual(problems('JwtAuth', { jwksUri: 'https://id.test/jwks', secretRef: { name: 'x' } }), ['config.jwksUri: use jwksUri or secretRef/secretRefs, not both']);
  assert.match(problems('JwtAuth', { jwksUri: 'ftp://x' }).join(), /config\.jwksUri/);
  assert.deepEqual(problems('JwtAuth', { secretRef: { name: 'hs' }, claimsToHeaders: { sub: 'X User' } }), ['config.claimsToHeaders.sub: "X User" is not a valid HTTP header name']);
});

test('HS256 token from the header (Bearer optional), the query or the cookie', async () => {
  const p = instance(JwtAuth, { secretRef: { name: 'hs' } }, fakeDeps(secrets));
  const t = await hs({ sub: 'u1' });
  const reqs: FakeRequest[] = [{ headers: { authorization: `Bearer ${t}` } }, { headers: { authorization: t } }, { headers: { authorization: `bearer  ${t}` } }, { query: `jwt=${t}` }, { headers: { cookie: `jwt=${t}` } }];
  for (const req of reqs) {
    const { reply } = await p.run(req);
    assert.equal(reply, undefined, JSON.stringify(req).slice(0, 60));
  }
});

test('missing, malformed, wrongly signed, expired tokens → 401 with the Bearer realm', async () => {
  const p = instance(JwtAuth, { secretRef: { name: 'hs' } }, fakeDeps(secrets));
  const bad = [undefined, 'Bearer not.a.jwt', `Bearer ${await hs({}, 'another-secret-another-secret-another')}`, `Bearer ${await hs({ exp: now() - 10 })}`, `Bearer ${await hs({ nbf: now() + 60 })}`, `Basic ${Buffer.from('a:b').toString('base64')}`];
  for (const auth of bad) {
    const { reply } = await p.run({ headers: auth ? { authorization: auth } : {} });
    assert.equal(reply?.status, 401, String(auth));
    assert.equal(reply?.headers?.['www-authenticate'], 'Bearer realm="jwt"');
    assert.equal(reply?.body, '401 Unauthorized - Invalid or missing JWT');
  }
});

test('the algorithm is enforced: alg none, another HMAC size or an RSA token are refused', async () => {
  const p = instance(JwtAuth, { secretRef: { name: 'hs' } }, fakeDeps(secrets));
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;
  assert.equal((await p.run({ headers: { authorization: `Bearer ${none}` } })).reply?.status, 401);
  assert.equal((await p.run({ headers: { authorization: `Bearer ${await hs({}, HS, 'HS512')}` } })).reply?.status, 401);
  const rsTok = await sign('RS256', rsa.privateKey, {});
  assert.equal((await p.run({ headers: { authorization: `Bearer ${rsTok}` } })).reply?.status, 401);
  // an HS256 token signed with the RSA public key PEM as the secret (key confusion) fails on an RS256 config
  const rs = instance(JwtAuth, { secretRef: { name: 'rs' }, algorithm: 'RS256' }, fakeDeps(secrets));
  const input = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}`;
  const confused = `${input}.${createHmac('sha256', pem(rsa)).update(input).digest('base64url')}`;
  assert.equal((await rs.run({ headers: { authorization: `Bearer ${confused}` } })).reply?.status, 401);
});

test('RS256/384/512, ES256 and ES384 with public keys from Secrets', async () => {
  for (const [alg, key, ref] of [['RS256', rsa, 'rs'], ['RS384', rsa, 'rs'], ['RS512', rsa, 'rs'], ['ES256', ec, 'es'], ['ES384', ec384, 'es384']] as const) {
    const p = instance(JwtAuth, { secretRef: { name: ref }, algorithm: alg }, fakeDeps(secrets));
    assert.equal((await p.run({ headers: { authorization: `Bearer ${await sign(alg, key.privateKey, { sub: 'x' })}` } })).reply, undefined, alg);
    const other = alg.startsWith('RS') ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: alg === 'ES384' ? 'P-384' : 'P-256' });
    assert.equal((await p.run({ headers: { authorization: `Bearer ${await sign(alg, other.privateKey, {})}` } })).reply?.status, 401, `${alg} other key`);
  }
  const deps = fakeDeps(secrets);
  instance(JwtAuth, { secretRef: { name: 'es' }, algorithm: 'RS256' }, deps);
  assert.match(deps.logged.join('\n'), /the publicKey is ec, RS256 needs rsa/);
});

test('base64Secret decodes the secret; binary secrets survive', async () => {
  const p = instance(JwtAuth, { secretRef: { name: 'b64' }, base64Secret: true }, fakeDeps(secrets));
  assert.equal((await p.run({ headers: { authorization: `Bearer ${await hs({})}` } })).reply, undefined);
  const raw = randomBytes(32);
  const bin = instance(JwtAuth, { secretRef: { name: 'bin' } }, fakeDeps({ 'default/bin': { secret: raw } }));
  assert.equal((await bin.run({ headers: { authorization: `Bearer ${await hs({}, raw)}` } })).reply, undefined);
});

test('secretRefs: the key claim selects the credential', async () => {
  const p = instance(JwtAuth, { secretRefs: [{ name: 'alice' }, { name: 'bob' }], keyClaimName: 'iss' }, fakeDeps(secrets));
  assert.equal((await p.run({ headers: { authorization: `Bearer ${await hs({ iss: 'alice' }, 'alice-secret-alice-secret-alice-secret')}` } })).reply, undefined);
  assert.equal((await p.run({ headers: { authorization: `Bearer ${await hs({ iss: 'bob' }, 'bob-secret-bob-secret-bob-secret-bob!!')}` } })).reply, undefined);
  assert.equal((await p.run({ headers: { authorization: `Bearer ${await hs({ iss: 'bob' }, 'alice-secret-alice-secret-alice-secret')}` } })).reply?.status, 401, "alice's secret cannot sign for bob");
  assert.equal((await p.run({ headers: { authorization: `Bearer ${await hs({ iss: 'carol' }, 'alice-secret-alice-secret-alice-secret')}` } })).reply?.status, 401);
  assert.equal((await p.run({ headers: { authorization: `Bearer ${await hs({}, 'alice-secret-alice-secret-alice-secret')}` } })).reply?.status, 401);
});

test('issuers, audiences, grace period and maximumExpiration', async () => {
  const deps = fakeDeps(secrets);
  const p = instance(JwtAuth, { secretRef: { name: 'hs' }, issuers: ['https://id.test'], audiences: ['api', 'web'], lifetimeGracePeriod: 30, maximumExpiration: 3600 }, deps);
  const ok = { iss: 'https://id.test', aud: ['web', 'other'], exp: now() + 60 };
  const run = async (claims: Record<string, unknown>) => (await p.run({ headers: { authorization: `Bearer ${await hs(claims)}` } })).reply?.status ?? 200;
  assert.equal(await run(ok), 200);
  assert.equal(await run({ ...ok, iss: 'https://evil.test' }), 401);
  assert.equal(await run({ ...ok, iss: undefined }), 401);
  assert.equal(await run({ ...ok, aud: 'other' }), 401);
  assert.equal(await run({ ...ok, exp: now() - 20 }), 200, 'expired within the grace period');
  assert.equal(await run({ ...ok, exp: now() - 40 }), 401);
  assert.equal(await run({ ...ok, nbf: now() + 20 }), 200, 'not yet valid within the grace period');
  assert.equal(await run({ ...ok, exp: now() + 7200 }), 401, 'beyond maximumExpiration');
  assert.equal(await run({ iss: 'https://id.test', aud: 'api' }), 401, 'maximumExpiration needs exp');
});

test('claimsToHeaders renders values (DECISIONS §27) and removes forged copies; storeClaimsInCtx; consumer headers cleared', async () => {
  const p = instance(JwtAuth, { secretRef: { name: 'hs' }, storeClaimsInCtx: true, claimsToHeaders: { sub: 'X-User-Id', 'tenant.id': 'X-Tenant', roles: 'X-Roles', n: 'X-N', ok: 'X-Ok', obj: 'X-Obj', missing: 'X-Missing', 'https://x.test/grp': 'X-Grp', name: 'X-Name' } }, fakeDeps(secrets));
  const claims = { sub: 'u-1', tenant: { id: 't-9' }, roles: ['a', 'b', 3], n: 42, ok: true, obj: { a: 1 }, 'https://x.test/grp': 'g', name: 'José' };
  const { s, reply } = await p.run({ headers: { authorization: `Bearer ${await hs(claims)}`, 'x-missing': 'forged', 'x-consumer-username': 'root', 'x-anonymous-consumer': 'true' } });
  assert.equal(reply, undefined);
  assert.deepEqual(
    ['x-user-id', 'x-tenant', 'x-roles', 'x-n', 'x-ok', 'x-obj', 'x-missing', 'x-grp'].map((h) => s.header(h)),
    ['u-1', 't-9', 'a,b,3', '42', 'true', '{"a":1}', undefined, 'g'],
  );
  assert.equal(Buffer.from(s.header('x-name')!, 'latin1').toString('utf8'), 'José', 'non-ASCII travels as UTF-8 bytes');
  assert.deepEqual(JSON.parse(s.getVar('jwt_claims')!).tenant, { id: 't-9' });
  assert.equal(s.header('x-consumer-username'), undefined);
  assert.equal(s.header('x-anonymous-consumer'), undefined);
});

test('hideCredentials removes the header source only', async () => {
  const p = instance(JwtAuth, { secretRef: { name: 'hs' }, hideCredentials: true, header: 'X-Token' }, fakeDeps(secrets));
  const t = await hs({});
  let r = await p.run({ headers: { 'x-token': t } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-token'), undefined);
  r = await p.run({ query: `jwt=${t}` });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.uri, `/?jwt=${t}`);
});

test('anonymous: no token passes; an invalid token does not', async () => {
  const p = instance(JwtAuth, { secretRef: { name: 'hs' }, anonymous: 'guest', claimsToHeaders: { sub: 'X-User' } }, fakeDeps(secrets));
  let r = await p.run({ headers: { 'x-user': 'forged' } });
  assert.equal(r.reply, undefined);
  assert.equal(r.s.header('x-anonymous-consumer'), 'true');
  assert.equal(r.s.header('x-consumer-username'), 'guest');
  assert.equal(r.s.header('x-user'), undefined);
  r = await p.run({ headers: { authorization: 'Bearer x.y.z' } });
  assert.equal(r.reply?.status, 401);
});

test('a missing Secret means every token is refused', async () => {
  const deps = fakeDeps({});
  const p = instance(JwtAuth, { secretRef: { name: 'gone' } }, deps);
  assert.match(deps.logged.join('\n'), /default\/gone: the Secret is missing/);
  assert.equal((await p.run({ headers: { authorization: `Bearer ${await hs({})}` } })).reply?.status, 401);
});
