// OpenidConnect end to end: the real controller and gateway against a real OpenID provider
// (oidc-provider) on 127.0.0.1. The browser is played by hand: every redirect is followed and
// cookies are carried explicitly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, waitFor, type Res } from '../../helpers/http.js';
import { startOidcProvider, type TestOidcProvider } from '../../helpers/oidc-provider.js';

let e: Edgion;
let echo: EchoServer;
let idp: TestOidcProvider;
let port: number;

const HOSTS = ['app', 'refresh', 'deny', 'pass', 'down'];
const SESSION_SECRET = 'a-session-secret-that-is-at-least-32-bytes-long!';

function plugin(name: string, config: Record<string, unknown>): string {
  return `apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: ${name}, namespace: default }
spec:
  requestPlugins:
    - type: OpenidConnect
      config: ${JSON.stringify(config)}
`;
}

const route = (name: string, host: string, set: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules:
    - filters: [{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: EdgionPlugins, name: ${set} } }]
      backendRefs: [{ name: echo, port: ${echo.port} }]
`;

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  idp = await startOidcProvider({
    redirectUris: HOSTS.map((h) => `http://${h}.oidc.test:${port}/.edgion/oidc/callback`),
    postLogoutRedirectUris: [`http://app.oidc.test:${port}/bye`],
  });
  const browser = {
    discovery: idp.discovery,
    clientId: idp.clientId,
    clientSecretRef: { name: 'oidc-client' },
    sessionSecretRef: { name: 'oidc-session' },
    scope: 'openid profile email offline_access',
    usePkce: true,
    useNonce: true,
    sessionCookieSecure: false,
  };
  const secrets = `apiVersion: v1
kind: Secret
metadata: { name: oidc-client, namespace: default }
stringData: { clientSecret: ${idp.clientSecret} }
---
apiVersion: v1
kind: Secret
metadata: { name: oidc-session, namespace: default }
stringData: { sessionSecret: "${SESSION_SECRET}" }
`;
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('echo', echo.port), secrets].join('---\n'),
      'plugins.yaml': [
        plugin('oidc-app', {
          ...browser,
          setAccessTokenHeader: true,
          setIdTokenHeader: true,
          setUserinfoHeader: true,
          claimsToHeaders: { email: 'X-User-Email', sub: 'X-User-Sub', groups: 'X-User-Groups' },
          postLogoutRedirectUri: '/bye',
          revokeTokensOnLogout: true,
          hideCredentials: true,
        }),
        plugin('oidc-refresh', { ...browser, setAccessTokenHeader: true, accessTokenExpiresLeeway: 100000 }),
        plugin('oidc-deny', { ...browser, unauthAction: 'Deny' }),
        plugin('oidc-pass', { ...browser, unauthAction: 'Pass', claimsToHeaders: { email: 'X-User-Email' } }),
        plugin('oidc-down', { ...browser, discovery: idp.flakyDiscovery }),
        plugin('oidc-api', { discovery: idp.discovery, clientId: idp.clientId, bearerOnly: true, claimsToHeaders: { sub: 'X-User-Sub', 'org.team': 'X-Team' }, verificationMode: 'JwksOnly' }),
        plugin('oidc-scoped', { discovery: idp.discovery, clientId: idp.clientId, bearerOnly: true, requiredScopes: ['api:read'] }),
        plugin('oidc-intro', { discovery: idp.discovery, clientId: idp.clientId, clientSecretRef: { name: 'oidc-client' }, bearerOnly: true, verificationMode: 'IntrospectionOnly', claimsToHeaders: { sub: 'X-User-Sub' } }),
        plugin('oidc-aud', { discovery: idp.discovery, clientId: idp.clientId, bearerOnly: true, audiences: ['orders-api'] }),
        plugin('oidc-bad', { discovery: idp.discovery, clientId: idp.clientId }),
      ].join('---\n'),
      'routes.yaml': [
        ...HOSTS.map((h) => route(`r-${h}`, `${h}.oidc.test`, `oidc-${h}`)),
        route('r-api', 'api.oidc.test', 'oidc-api'),
        route('r-scoped', 'scoped.oidc.test', 'oidc-scoped'),
        route('r-intro', 'intro.oidc.test', 'oidc-intro'),
        route('r-aud', 'aud.oidc.test', 'oidc-aud'),
        route('r-bad', 'bad.oidc.test', 'oidc-bad'),
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
  await idp?.close();
});

// ---- a hand-driven browser ------------------------------------------------------------------

type Jar = Map<string, string>;

function store(jar: Jar, res: Res): void {
  const set = res.headers['set-cookie'] ?? [];
  for (const line of set) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    const maxAge = attrs.map((a) => a.trim()).find((a) => /^max-age=/i.test(a));
    if (value === '' || maxAge === 'Max-Age=0') jar.delete(name);
    else jar.set(name, value);
  }
}
const cookieHeader = (jar: Jar) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

function gw(host: string, path: string, jar?: Jar, headers: Record<string, string> = {}): Promise<Res> {
  return request({ port, host: `${host}.oidc.test:${port}`, path, headers: { ...(jar && jar.size ? { cookie: cookieHeader(jar) } : {}), ...headers } }).then((r) => {
    if (jar) store(jar, r);
    return r;
  });
}

/** Follows the provider's redirects until it sends the browser back to the gateway; returns that URL. */
async function throughProvider(start: string): Promise<URL> {
  const jar: Jar = new Map();
  let url = new URL(start);
  for (let i = 0; i < 10; i++) {
    assert.equal(url.port, String(idp.port), `expected a provider URL, got ${url.href}`);
    const r = await request({ port: idp.port, path: url.pathname + url.search, headers: jar.size ? { cookie: cookieHeader(jar) } : {} });
    store(jar, r);
    assert.ok(r.status >= 300 && r.status < 400, `provider answered ${r.status} on ${url.pathname}: ${r.body.slice(0, 300)}`);
    url = new URL(r.headers.location!, url);
    if (url.port === String(port)) return url;
  }
  throw new Error('too many provider redirects');
}

/** Logs in through the browser flow on `host`; returns the gateway cookie jar with the session. */
async function login(host: string, path = '/private?x=1'): Promise<{ jar: Jar; first: Res; back: Res }> {
  const jar: Jar = new Map();
  const first = await gw(host, path, jar);
  assert.equal(first.status, 302, `expected a login redirect, got ${first.status} ${first.body}`);
  const cb = await throughProvider(first.headers.location!);
  assert.equal(cb.pathname, '/.edgion/oidc/callback');
  const back = await gw(host, cb.pathname + cb.search, jar);
  return { jar, first, back };
}

// ---- browser flow ---------------------------------------------------------------------------

test('no session: 302 to the provider with state, nonce, PKCE S256, the state cookie and no-store', async () => {
  const jar: Jar = new Map();
  const r = await gw('app', '/private', jar);
  assert.equal(r.status, 302);
  const loc = new URL(r.headers.location!);
  assert.equal(loc.origin, idp.issuer);
  assert.equal(loc.searchParams.get('client_id'), idp.clientId);
  assert.equal(loc.searchParams.get('response_type'), 'code');
  assert.equal(loc.searchParams.get('redirect_uri'), `http://app.oidc.test:${port}/.edgion/oidc/callback`);
  assert.equal(loc.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(loc.searchParams.get('code_challenge'));
  assert.ok(loc.searchParams.get('state'));
  assert.ok(loc.searchParams.get('nonce'));
  assert.match(loc.searchParams.get('scope')!, /openid/);
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(r.headers.pragma, 'no-cache');
  const state = (r.headers['set-cookie'] ?? []).find((c) => c.startsWith('edgion_oidc_state='));
  assert.ok(state, 'state cookie set');
  assert.match(state, /Max-Age=300/);
  assert.match(state, /Path=\/\.edgion\/oidc\/callback/);
  assert.equal(echo.seen.filter((s) => s.path === '/private').length, 0, 'nothing reached the backend');
});

let appJar: Jar;

test('full login: callback sets the session cookie and sends the browser back; identity headers go upstream', async () => {
  const { jar, back } = await login('app', '/private?x=1');
  assert.equal(back.status, 302, back.body);
  assert.equal(back.headers.location, '/private?x=1');
  const session = (back.headers['set-cookie'] ?? []).find((c) => c.startsWith('edgion_oidc_session='));
  assert.ok(session);
  assert.match(session, /HttpOnly/);
  assert.match(session, /SameSite=Lax/);
  assert.match(session, /Max-Age=3600/);
  assert.match(session, /^edgion_oidc_session=[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+;/, 'base64url(nonce).base64url(ciphertext)');
  assert.ok(!jar.has('edgion_oidc_state'), 'the state cookie is cleared');

  const r = await gw('app', '/private?x=1', jar, { 'x-user-email': 'forged@evil.test' });
  assert.equal(r.status, 200, r.body);
  const h = r.json.headers;
  assert.equal(h['x-user-sub'], 'alice');
  assert.equal(h['x-user-email'], 'alice@example.test', 'a client-sent copy is replaced');
  assert.equal(h['x-user-groups'], 'dev,ops');
  assert.ok(h['x-access-token']);
  assert.equal(h['x-id-token'].split('.').length, 3);
  assert.equal(JSON.parse(h['x-userinfo']).email, 'alice@example.test');
  assert.equal(h.cookie, undefined, 'hideCredentials keeps the session cookie from the backend');
  appJar = jar;
});

test('the session is reused: no new login, no provider round trip', async () => {
  const before = idp.seen.length;
  for (let i = 0; i < 3; i++) {
    const r = await gw('app', `/again/${i}`, appJar);
    assert.equal(r.status, 200);
    assert.equal(r.json.headers['x-user-sub'], 'alice');
  }
  assert.equal(idp.seen.length, before, 'the provider was not called');
});

test('a tampered or foreign session cookie is not accepted', async () => {
  const value = appJar.get('edgion_oidc_session')!;
  const tampered = new Map([['edgion_oidc_session', value.slice(0, -2) + (value.endsWith('AA') ? 'BB' : 'AA')]]);
  const r = await gw('app', '/private', tampered);
  assert.equal(r.status, 302, 'back to login');
  const garbage = await gw('app', '/private', new Map([['edgion_oidc_session', 'not.a-session']]));
  assert.equal(garbage.status, 302);
});

test('callback errors: missing state cookie 400, wrong state 400, replayed code 401', async () => {
  const none = await gw('app', '/.edgion/oidc/callback?code=abc&state=xyz');
  assert.equal(none.status, 400);
  const jar: Jar = new Map();
  const first = await gw('app', '/p', jar);
  const cb = await throughProvider(first.headers.location!);
  const wrong = await gw('app', `${cb.pathname}?code=${cb.searchParams.get('code')}&state=other`, new Map(jar));
  assert.equal(wrong.status, 400);
  const ok = await gw('app', cb.pathname + cb.search, new Map(jar));
  assert.equal(ok.status, 302);
  const replay = await gw('app', cb.pathname + cb.search, new Map(jar));
  assert.equal(replay.status, 401, replay.body);
});

test('refresh: an expired access token is renewed with the refresh token and the cookie is replaced', async () => {
  const { jar, back } = await login('refresh', '/r');
  assert.equal(back.status, 302);
  const firstCookie = jar.get('edgion_oidc_session');
  const r1 = await gw('refresh', '/r', jar);
  assert.equal(r1.status, 200, r1.body);
  const renewed = (r1.headers['set-cookie'] ?? []).find((c) => c.startsWith('edgion_oidc_session='));
  assert.ok(renewed, 'a renewed session cookie');
  assert.notEqual(jar.get('edgion_oidc_session'), firstCookie);
  const t1 = r1.json.headers['x-access-token'];
  const r2 = await gw('refresh', '/r', jar);
  assert.equal(r2.status, 200, r2.body);
  assert.ok(r2.json.headers['x-access-token']);
  assert.notEqual(r2.json.headers['x-access-token'], t1, 'a new access token each time');
});

test('unauthAction Deny answers 401, Pass lets the request through without identity', async () => {
  const d = await gw('deny', '/x');
  assert.equal(d.status, 401);
  assert.match(String(d.headers['www-authenticate']), /^Bearer realm="edgion"/);
  const p = await gw('pass', '/x', undefined, { 'x-user-email': 'forged@evil.test' });
  assert.equal(p.status, 200);
  assert.equal(p.json.headers['x-user-email'], undefined, 'forged identity header removed');
});

test('logout clears the session, revokes tokens and redirects to the end-session endpoint', async () => {
  const { jar } = await login('app', '/before-logout');
  const accessToken = (await gw('app', '/who', jar)).json.headers['x-access-token'];
  const r = await gw('app', '/logout', jar);
  assert.equal(r.status, 302);
  const loc = new URL(r.headers.location!);
  assert.equal(loc.origin, idp.issuer);
  assert.ok(loc.searchParams.get('id_token_hint'));
  assert.equal(loc.searchParams.get('post_logout_redirect_uri'), `http://app.oidc.test:${port}/bye`);
  assert.ok(!jar.has('edgion_oidc_session'), 'session cookie cleared');
  assert.ok(idp.seen.includes('/token/revocation'), 'tokens revoked');
  const after = await gw('app', '/who', jar);
  assert.equal(after.status, 302, 'logged out');
  const intro = await gw('intro', '/i', undefined, { authorization: `Bearer ${accessToken}` });
  assert.equal(intro.status, 401, 'the revoked access token is no longer active');
});

// ---- bearer tokens --------------------------------------------------------------------------

test('bearer JWT signed by the provider key is accepted (JWKS from discovery); claims go upstream', async () => {
  const token = await idp.signJwt({ sub: 'svc-1', scope: 'api:read', org: { team: 'payments' } });
  const r = await gw('api', '/v1/orders', undefined, { authorization: `Bearer ${token}` });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.headers['x-user-sub'], 'svc-1');
  assert.equal(r.json.headers['x-team'], 'payments');
  assert.equal(r.json.headers.authorization, `Bearer ${token}`, 'without hideCredentials the token goes upstream');
});

test('bearer tokens rejected: none, garbage, foreign key, expired, wrong issuer, wrong audience', async () => {
  const none = await gw('api', '/v1/orders');
  assert.equal(none.status, 401);
  assert.match(String(none.headers['www-authenticate']), /^Bearer realm="edgion"/);
  assert.equal((await gw('api', '/v1', undefined, { authorization: 'Bearer nonsense' })).status, 401);
  assert.equal((await gw('api', '/v1', undefined, { authorization: `Bearer ${await idp.signForeignJwt({ sub: 'x' })}` })).status, 401);
  assert.equal((await gw('api', '/v1', undefined, { authorization: `Bearer ${await idp.signJwt({ sub: 'x' }, { expiresIn: Math.floor(Date.now() / 1000) - 600 })}` })).status, 401);
  assert.equal((await gw('api', '/v1', undefined, { authorization: `Bearer ${await idp.signJwt({ sub: 'x' }, { issuer: 'https://evil.test' })}` })).status, 401);
  assert.equal((await gw('api', '/v1', undefined, { authorization: `Bearer ${await idp.signJwt({ sub: 'x' }, { audience: 'someone-else' })}` })).status, 401);
  const r = await gw('api', '/v1', undefined, { authorization: 'Bearer nonsense' });
  assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
});

test('audiences replace the client id as accepted audience', async () => {
  assert.equal((await gw('aud', '/a', undefined, { authorization: `Bearer ${await idp.signJwt({ sub: 'x' }, { audience: 'orders-api' })}` })).status, 200);
  assert.equal((await gw('aud', '/a', undefined, { authorization: `Bearer ${await idp.signJwt({ sub: 'x' })}` })).status, 401);
});

test('requiredScopes: a token without the scope gets 403 Insufficient scope', async () => {
  const ok = await gw('scoped', '/s', undefined, { authorization: `Bearer ${await idp.signJwt({ sub: 'x', scope: 'openid api:read' })}` });
  assert.equal(ok.status, 200);
  const no = await gw('scoped', '/s', undefined, { authorization: `Bearer ${await idp.signJwt({ sub: 'x', scope: 'openid' })}` });
  assert.equal(no.status, 403);
  assert.match(no.body, /Insufficient scope/);
  assert.match(String(no.headers['www-authenticate']), /insufficient_scope/);
});

test('introspection mode: an opaque access token from a login is active; an unknown one is not', async () => {
  const { jar } = await login('app', '/for-token');
  const token = (await gw('app', '/t', jar)).json.headers['x-access-token'];
  const r = await gw('intro', '/i', undefined, { authorization: `Bearer ${token}` });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.json.headers['x-user-sub'], 'alice');
  assert.equal((await gw('intro', '/i', undefined, { authorization: 'Bearer unknown-token-value' })).status, 401);
});

// ---- discovery and configuration ------------------------------------------------------------

test('discovery down: 503 without proxying, then recovery after the backoff', async () => {
  idp.down = true;
  const r1 = await gw('down', '/d');
  assert.equal(r1.status, 503, r1.body);
  const r2 = await gw('down', '/d');
  assert.equal(r2.status, 503, 'still failing within the backoff');
  idp.down = false;
  const ok = await waitFor(async () => {
    const r = await gw('down', '/d');
    return r.status === 302 ? r : undefined;
  }, 10_000, 250);
  assert.ok(ok, 'the plugin recovered and starts a login');
  assert.equal(new URL(ok.headers.location!).origin, idp.issuer);
});

test('a browser-flow config without sessionSecretRef is rejected and its route fails closed', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/oidc-bad');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.requestPlugins\[0\]\.config\.sessionSecretRef/);
  assert.equal((await gw('bad', '/b')).status, 500);
});
