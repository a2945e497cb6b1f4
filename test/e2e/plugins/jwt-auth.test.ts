// JwtAuth end to end: HMAC secret (binary, from Secret data), RS256 public key, credentials
// selected by a claim, a JWKS served over HTTP (cached, refreshed for a new key id, 503 when
// unreachable), claims to headers, anonymous access, and a rejected configuration.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { exportJWK, SignJWT } from 'jose';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { accepted, baseConf, docs, entry, plugins, route, secretData, secretText, up } from './auth-conf.js';

let e: Edgion;
let echo: EchoServer;
let port: number;
let jwksServer: http.Server;
let jwksHits = 0;
const HS_KEY = randomBytes(32); // not valid UTF-8: must survive the Secret pipeline
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const k1 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const k2 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let jwks: object[] = [];

const now = () => Math.floor(Date.now() / 1000);
const sign = (alg: string, key: KeyObject | Uint8Array, claims: Record<string, unknown>, kid?: string) =>
  new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) }).setIssuedAt().setExpirationTime('5m').sign(key);

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  jwks = [{ ...(await exportJWK(k1.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }];
  jwksServer = http.createServer((_req, res) => {
    jwksHits++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: jwks }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksPort = (jwksServer.address() as AddressInfo).port;
  const dead = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': baseConf(port, echo.port),
      'auth.yaml': docs(
        secretData('jwt-hs', { secret: HS_KEY }),
        secretText('jwt-rs', { publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() }),
        secretText('jwt-alice', { key: 'alice', secret: 'alice-secret-alice-secret-alice-secret' }),
        secretText('jwt-bob', { key: 'bob', secret: 'bob-secret-bob-secret-bob-secret-bob!!' }),
        plugins('jwt-hs', [entry('JwtAuth', { secretRef: { name: 'jwt-hs' }, claimsToHeaders: { sub: 'X-User-Id', 'tenant.id': 'X-Tenant', roles: 'X-Roles' }, hideCredentials: true })]),
        plugins('jwt-rs', [entry('JwtAuth', { secretRef: { name: 'jwt-rs' }, algorithm: 'RS256', issuers: ['https://id.test'], audiences: ['api'], realm: 'api' })]),
        plugins('jwt-multi', [entry('JwtAuth', { secretRefs: [{ name: 'jwt-alice' }, { name: 'jwt-bob' }], claimsToHeaders: { key: 'X-Jwt-Key' } })]),
        plugins('jwt-jwks', [entry('JwtAuth', { jwksUri: `http://127.0.0.1:${jwksPort}/jwks`, jwksMinRefreshInterval: 0, claimsToHeaders: { sub: 'X-User-Id' } })]),
        plugins('jwt-jwks-dead', [entry('JwtAuth', { jwksUri: `http://127.0.0.1:${dead}/jwks`, jwksTimeoutMs: 1000 })]),
        plugins('jwt-anon', [entry('JwtAuth', { secretRef: { name: 'jwt-hs' }, anonymous: 'guest' })]),
        plugins('jwt-bad', [entry('JwtAuth', { algorithm: 'HS1024', secretRef: { name: 'jwt-hs' } })]),
        ...['hs', 'rs', 'multi', 'jwks', 'jwks-dead', 'anon', 'bad'].map((n) => route(`jwt-${n}`, `jwt-${n}.test`, `jwt-${n}`, echo.port)),
      ),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
  jwksServer?.closeAllConnections();
  await new Promise((r) => jwksServer?.close(r));
});

const get = (host: string, headers: Record<string, string> = {}, path = '/j') => request({ port, host, path, headers });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

test('HS256 with a binary secret from Secret data; claims to headers; credentials hidden', async () => {
  const t = await sign('HS256', HS_KEY, { sub: 'user-7', tenant: { id: 't-1' }, roles: ['admin', 'ops'] });
  const r = await get('jwt-hs.test', { ...bearer(t), 'x-tenant': 'forged' });
  assert.equal(r.status, 200, r.body);
  assert.equal(up(r, 'x-user-id'), 'user-7');
  assert.equal(up(r, 'x-tenant'), 't-1');
  assert.equal(up(r, 'x-roles'), 'admin,ops');
  assert.equal(up(r, 'authorization'), undefined);
  assert.equal(up(r, 'x-consumer-username'), undefined, 'JwtAuth sets no consumer name');
});

test('missing, tampered and expired tokens get 401 Bearer realm="jwt"', async () => {
  const good = await sign('HS256', HS_KEY, { sub: 'x' });
  const tampered = good.slice(0, -3) + (good.endsWith('AAA') ? 'BBB' : 'AAA');
  const expired = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now() - 60).sign(HS_KEY);
  for (const h of [{}, bearer(tampered), bearer(expired), bearer('abc')]) {
    const r = await get('jwt-hs.test', h);
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="jwt"');
    assert.equal(r.body, '401 Unauthorized - Invalid or missing JWT');
  }
  const q = await get('jwt-hs.test', {}, `/j?jwt=${good}`);
  assert.equal(q.status, 200, 'token from the query parameter');
  const c = await get('jwt-hs.test', { cookie: `jwt=${good}` });
  assert.equal(c.status, 200, 'token from the cookie');
});

test('RS256 with issuer and audience checks', async () => {
  const ok = await sign('RS256', rsa.privateKey, { iss: 'https://id.test', aud: 'api' });
  assert.equal((await get('jwt-rs.test', bearer(ok))).status, 200);
  const wrongIss = await sign('RS256', rsa.privateKey, { iss: 'https://evil.test', aud: 'api' });
  const r = await get('jwt-rs.test', bearer(wrongIss));
  assert.equal(r.status, 401);
  assert.equal(r.headers['www-authenticate'], 'Bearer realm="api"');
  const hsToken = await sign('HS256', HS_KEY, { iss: 'https://id.test', aud: 'api' });
  assert.equal((await get('jwt-rs.test', bearer(hsToken))).status, 401, 'an HS256 token on an RS256 route');
});

test('secretRefs: the key claim picks the credential', async () => {
  let r = await get('jwt-multi.test', bearer(await sign('HS256', Buffer.from('bob-secret-bob-secret-bob-secret-bob!!'), { key: 'bob' })));
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-jwt-key'), 'bob');
  r = await get('jwt-multi.test', bearer(await sign('HS256', Buffer.from('alice-secret-alice-secret-alice-secret'), { key: 'bob' })));
  assert.equal(r.status, 401);
});

test('JWKS: fetched once, cached, refreshed when a token names a new key id', async () => {
  let r = await get('jwt-jwks.test', bearer(await sign('ES256', k1.privateKey, { sub: 'j1' }, 'k1')));
  assert.equal(r.status, 200, r.body);
  assert.equal(up(r, 'x-user-id'), 'j1');
  const hits = jwksHits;
  r = await get('jwt-jwks.test', bearer(await sign('ES256', k1.privateKey, { sub: 'j1' }, 'k1')));
  assert.equal(r.status, 200);
  assert.equal(jwksHits, hits, 'the second token uses the cached key set');
  // rotation: k2 appears in the JWKS; a token signed with it triggers one refetch
  jwks = [...jwks, { ...(await exportJWK(k2.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' }];
  r = await get('jwt-jwks.test', bearer(await sign('ES256', k2.privateKey, { sub: 'j2' }, 'k2')));
  assert.equal(r.status, 200, r.body);
  assert.equal(up(r, 'x-user-id'), 'j2');
  assert.equal(jwksHits, hits + 1);
  r = await get('jwt-jwks.test', bearer(await sign('ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, {}, 'k1')));
  assert.equal(r.status, 401, 'signed by a key that is not in the set');
});

test('JWKS unreachable → 503', async () => {
  const r = await get('jwt-jwks-dead.test', bearer(await sign('ES256', k1.privateKey, {}, 'k1')));
  assert.equal(r.status, 503);
  assert.match(r.body, /^503 /);
});

test('anonymous without a token; a bad token is still refused', async () => {
  let r = await get('jwt-anon.test', { 'x-consumer-username': 'root' });
  assert.equal(r.status, 200);
  assert.equal(up(r, 'x-anonymous-consumer'), 'true');
  assert.equal(up(r, 'x-consumer-username'), 'guest');
  r = await get('jwt-anon.test', bearer('x.y.z'));
  assert.equal(r.status, 401);
});

test('a bad configuration is rejected in the status; the route fails closed', async () => {
  const a = await accepted((p) => e.api(p), 'EdgionPlugins', 'jwt-bad');
  assert.equal(a?.status, 'False');
  assert.match(a!.message, /spec\.requestPlugins\[0\]\.config\.algorithm: JwtAuth: must be one of: HS256/);
  assert.equal((await get('jwt-bad.test')).status, 500);
});
