// OpenidConnect: schema defaults, rejected configs, the cookie crypto, claim rendering, and the
// fail-closed paths that need no provider (missing Secret → 500, discovery down → 503 with backoff).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCipheriv, createHash } from 'node:crypto';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { OpenidConnect } from '../../../src/plugins/http/security/openid-connect.js';
import { claimAt } from '../../../src/shared/json-path.js';
import { renderClaim, seal, sessionKey, unseal } from '../../../src/plugins/http/security/oidc-session.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from './security-deps.js';

const registry = builtinRegistry();
const validate = (config: unknown) => registry.validateEntry('requestPlugins', { type: 'OpenidConnect', config });
const msgs = (config: unknown) => validate(config).problems.map((p) => `${p.path}: ${p.message}`).join('\n');
const base = { discovery: 'https://id.example.test/.well-known/openid-configuration', clientId: 'portal', sessionSecretRef: { name: 's' } };

test('defaults follow the reference', () => {
  const { problems, config } = validate(base);
  assert.deepEqual(problems, []);
  const c = config as Record<string, unknown>;
  for (const [k, v] of Object.entries({
    bearerOnly: false, unauthAction: 'Auth', scope: 'openid', usePkce: false, useNonce: false, logoutPath: '/logout', revokeTokensOnLogout: false,
    sessionCookieName: 'edgion_oidc_session', sessionLifetime: 3600, sessionCookieSameSite: 'Lax', sessionCookieHttpOnly: true, sessionCookieSecure: true,
    maxSessionCookieBytes: 3800, renewAccessTokenOnExpiry: true, accessTokenExpiresLeeway: 0, verificationMode: 'Auto', useJwks: true, sslVerify: true,
    clockSkewSeconds: 120, jwksCacheTtl: 300, jwksMinRefreshInterval: 10, introspectionEndpointAuthMethod: 'client_secret_basic', introspectionCacheTtl: 0,
    tokenEndpointAuthMethod: 'client_secret_basic', setAccessTokenHeader: false, setIdTokenHeader: false, setUserinfoHeader: false,
    accessTokenInAuthorizationHeader: false, storeClaimsInCtx: false, maxHeaderValueBytes: 4096, maxTotalHeaderBytes: 16384, timeout: 3, realm: 'edgion',
    hideCredentials: false, authFailureDelayMs: 0,
  })) assert.deepEqual(c[k], v, k);
});

test('configs that cannot work are rejected with the field', () => {
  assert.match(msgs({ discovery: base.discovery, clientId: 'x' }), /config\.sessionSecretRef: the browser flow/);
  assert.equal(msgs({ discovery: base.discovery, clientId: 'x', bearerOnly: true }), '', 'bearer-only needs no session secret');
  assert.match(msgs({ ...base, discovery: 'not a url' }), /config\.discovery/);
  assert.match(msgs({ ...base, discovery: 'ftp://x/.well-known/openid-configuration' }), /config\.discovery: discovery must be an http\(s\) URL/);
  assert.match(msgs({ ...base, authorizationParams: { state: 'x', prompt: 'login' } }), /config\.authorizationParams\.state: "state" is set by the plugin/);
  assert.doesNotMatch(msgs({ ...base, authorizationParams: { prompt: 'login' } }), /prompt/);
  assert.match(msgs({ ...base, verificationMode: 'JwksOnly', useJwks: false }), /config\.useJwks/);
  assert.match(msgs({ ...base, allowedSigningAlgs: ['HS256'] }), /config\.allowedSigningAlgs: "HS256" is not an accepted/);
  assert.match(msgs({ ...base, tokenSigningAlg: 'none' }), /config\.tokenSigningAlg/);
  assert.match(msgs({ ...base, unauthAction: 'deny' }), /config\.unauthAction/);
  assert.match(msgs({ ...base, logoutPath: 'logout' }), /config\.logoutPath/);
  assert.match(msgs({ ...base, claimsToHeaders: { email: 'bad header' } }), /config\.claimsToHeaders/);
});

test('secret references are declared for the controller', () => {
  const c = validate({ ...base, clientSecretRef: { name: 'c', namespace: 'idp' } }).config;
  assert.deepEqual(registry.secretRefs('OpenidConnect', c), [{ name: 'c', namespace: 'idp' }, { name: 's' }]);
});

test('session cookie crypto: AES-256-GCM, key SHA-256(secret), base64url(nonce).base64url(ciphertext+tag)', () => {
  const secret = 'x'.repeat(40);
  const key = sessionKey(secret);
  assert.deepEqual(key, createHash('sha256').update(secret).digest());
  const v = seal(key, { a: 1 });
  assert.match(v, /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(unseal(key, v), { a: 1 });
  assert.equal(unseal(sessionKey('y'.repeat(40)), v), undefined, 'other key');
  assert.equal(unseal(key, `${v.slice(0, -3)}AAA`), undefined, 'altered');
  assert.equal(unseal(key, 'garbage'), undefined);
  // A cookie sealed by another implementation of the documented format opens.
  const nonce = Buffer.alloc(12, 7);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const ct = Buffer.concat([cipher.update('{"b":2}'), cipher.final(), cipher.getAuthTag()]);
  assert.deepEqual(unseal(key, `${nonce.toString('base64url')}.${ct.toString('base64url')}`), { b: 2 });
});

test('claims render as DECISIONS §27 says and dotted paths reach nested values', () => {
  assert.equal(renderClaim('a'), 'a');
  assert.equal(renderClaim(3), '3');
  assert.equal(renderClaim(true), 'true');
  assert.equal(renderClaim(['a', 'b']), 'a,b');
  assert.equal(renderClaim({ x: 1 }), '{"x":1}');
  assert.equal(claimAt({ org: { team: { name: 'p' } } }, 'org.team.name'), 'p');
  assert.equal(claimAt({ 'a.b': 1 }, 'a.b'), 1);
});

test('a missing session Secret fails closed with 500 (no provider call)', async () => {
  const c = validate(base).config as never;
  const inst = OpenidConnect.create(c, fakeDeps());
  const r = (await inst.onRequest!(new FakeSession({ path: '/' }))) as { status: number };
  assert.equal(r.status, 500);
  const short = OpenidConnect.create(c, fakeDeps({ secrets: { 'default/s': { sessionSecret: 'too-short' } } }));
  assert.equal(((await short.onRequest!(new FakeSession({}))) as { status: number }).status, 500);
});

test('discovery failing: 503, then no new attempt during the backoff, then a retry', async () => {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(500);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/openid-configuration`;
    let now = 1_000_000;
    const c = validate({ discovery: url, clientId: 'x', bearerOnly: true }).config as never;
    const inst = OpenidConnect.create(c, fakeDeps({ now: () => now }));
    const call = async () => ((await inst.onRequest!(new FakeSession({ headers: { authorization: 'Bearer t' } }))) as { status: number }).status;
    assert.equal(await call(), 503);
    assert.equal(hits, 1);
    assert.equal(await call(), 503);
    assert.equal(hits, 1, 'within the backoff: no new discovery request');
    now += 1500;
    assert.equal(await call(), 503);
    assert.equal(hits, 2, 'retried after the backoff');
  } finally {
    server.close();
  }
});

test('a token that cannot be checked is never let through: 401 without introspection, 502 when it fails', async () => {
  let base = '';
  const server = http.createServer((req, res) => {
    const withIntro = req.url?.startsWith('/with-intro');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ issuer: base, authorization_endpoint: `${base}/auth`, token_endpoint: `${base}/token`, jwks_uri: `${base}/jwks`, ...(withIntro ? { introspection_endpoint: 'http://127.0.0.1:1/introspect' } : {}) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const jwtLike = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const run = async (path: string, token: string) => {
      const c = validate({ discovery: `${base}${path}/.well-known/openid-configuration`, clientId: 'x', bearerOnly: true, useJwks: false }).config as never;
      const inst = OpenidConnect.create(c, fakeDeps());
      return ((await inst.onRequest!(new FakeSession({ headers: { authorization: `Bearer ${token}` } }))) as { status: number } | undefined)?.status;
    };
    assert.equal(await run('', jwtLike), 401);
    assert.equal(await run('', 'opaque'), 401);
    assert.equal(await run('/with-intro', 'opaque'), 502);
    assert.equal(await run('/with-intro', jwtLike), 502);
  } finally {
    server.close();
  }
});
