// OpenidConnect (plugins.md §4.7, DECISIONS.md §33): the browser authorization-code flow with an
// encrypted session cookie (state, nonce, PKCE S256; refresh with the refresh token; logout with
// optional revocation and end-session redirect) and bearer-token validation (JWKS from discovery,
// or introspection). Discovery is fetched at first use, cached, and retried with backoff after a
// failure; requests meanwhile get 503. Never fails open: a token or session that cannot be
// verified is rejected, a missing Secret answers 500.
import { Type, type Static } from 'typebox';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, customFetch as joseFetch, decodeProtectedHeader, jwtVerify } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { definePlugin, type PluginDeps, type PluginProblem, type PluginReply, type PluginSession } from '../../runtime/define-plugin.js';
import { authFailure, delayed } from '../../runtime/auth-reply.js';
import { claimAt } from '../../../shared/json-path.js';
import { cookieString, renderClaim, safeHeaderValue, seal, sessionKey, tokenScopes, unseal, type CookieAttrs } from './oidc-session.js';

const SecretRef = Type.Object({ name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String({ minLength: 1 })) });
const AuthMethod = Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')], { default: 'client_secret_basic' });

const Schema = Type.Object({
  discovery: Type.String({ minLength: 1 }),
  clientId: Type.String({ minLength: 1 }),
  clientSecretRef: Type.Optional(SecretRef),
  bearerOnly: Type.Boolean({ default: false }),
  unauthAction: Type.Union([Type.Literal('Auth'), Type.Literal('Deny'), Type.Literal('Pass')], { default: 'Auth' }),
  scope: Type.String({ default: 'openid' }),
  requiredScopes: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  usePkce: Type.Boolean({ default: false }),
  useNonce: Type.Boolean({ default: false }),
  redirectUri: Type.Optional(Type.String({ minLength: 1 })),
  authorizationParams: Type.Optional(Type.Record(Type.String(), Type.String())),
  logoutPath: Type.String({ default: '/logout', pattern: '^/' }),
  postLogoutRedirectUri: Type.Optional(Type.String({ minLength: 1 })),
  revokeTokensOnLogout: Type.Boolean({ default: false }),
  sessionSecretRef: Type.Optional(SecretRef),
  sessionCookieName: Type.String({ default: 'edgion_oidc_session', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }),
  sessionLifetime: Type.Integer({ minimum: 1, default: 3600 }),
  sessionCookieSameSite: Type.String({ default: 'Lax', description: 'Lax, Strict or None (any case)' }),
  sessionCookieHttpOnly: Type.Boolean({ default: true }),
  sessionCookieSecure: Type.Boolean({ default: true }),
  maxSessionCookieBytes: Type.Integer({ minimum: 256, maximum: 65_536, default: 3800 }),
  renewAccessTokenOnExpiry: Type.Boolean({ default: true }),
  accessTokenExpiresLeeway: Type.Integer({ minimum: 0, default: 0 }),
  verificationMode: Type.Union([Type.Literal('Auto'), Type.Literal('JwksOnly'), Type.Literal('IntrospectionOnly')], { default: 'Auto' }),
  tokenSigningAlg: Type.Optional(Type.String({ minLength: 1 })),
  allowedSigningAlgs: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  useJwks: Type.Boolean({ default: true }),
  sslVerify: Type.Boolean({ default: true }),
  issuers: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  audiences: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  clockSkewSeconds: Type.Integer({ minimum: 0, maximum: 3600, default: 120 }),
  jwksCacheTtl: Type.Integer({ minimum: 0, default: 300 }),
  jwksMinRefreshInterval: Type.Integer({ minimum: 0, default: 10 }),
  introspectionEndpoint: Type.Optional(Type.String({ minLength: 1 })),
  introspectionEndpointAuthMethod: AuthMethod,
  introspectionCacheTtl: Type.Integer({ minimum: 0, default: 0 }),
  tokenEndpointAuthMethod: AuthMethod,
  setAccessTokenHeader: Type.Boolean({ default: false }),
  setIdTokenHeader: Type.Boolean({ default: false }),
  setUserinfoHeader: Type.Boolean({ default: false }),
  accessTokenInAuthorizationHeader: Type.Boolean({ default: false }),
  claimsToHeaders: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }))),
  storeClaimsInCtx: Type.Boolean({ default: false }),
  maxHeaderValueBytes: Type.Integer({ minimum: 1, default: 4096 }),
  maxTotalHeaderBytes: Type.Integer({ minimum: 1, default: 16_384 }),
  timeout: Type.Integer({ minimum: 1, maximum: 60, default: 3 }),
  realm: Type.String({ default: 'edgion' }),
  hideCredentials: Type.Boolean({ default: false }),
  authFailureDelayMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 0 }),
});
type Config = Static<typeof Schema>;

const RESERVED_AUTH_PARAMS = new Set(['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'client_secret', 'response_mode', 'request', 'request_uri']);
const SAFE_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const STATE_COOKIE = 'edgion_oidc_state';
const SAME_SITE: Record<string, string> = { lax: 'Lax', strict: 'Strict', none: 'None' };
const DEFAULT_CALLBACK = '/.edgion/oidc/callback';
const INJECTED = ['x-access-token', 'x-id-token', 'x-userinfo'];

const CLIENT_SECRET_KEYS = ['clientSecret', 'client_secret', 'secret'];
const SESSION_SECRET_KEYS = ['sessionSecret', 'session_secret', 'secret'];

function refKey(ref: { name: string; namespace?: string }, ns: string): string {
  return `${ref.namespace ?? ns}/${ref.name}`;
}

function secretValue(deps: PluginDeps, ref: { name: string; namespace?: string } | undefined, keys: string[]): string | undefined {
  if (!ref) return undefined;
  const s = deps.secrets[refKey(ref, deps.namespace)];
  if (!s) return undefined;
  for (const k of keys) if (s[k]) return s[k]!.trim();
  return undefined;
}

function urlProblem(v: string, what: string): string | undefined {
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${what} must be an http(s) URL`;
    return undefined;
  } catch {
    return `${what} "${v}" is not a URL`;
  }
}

/** What the browser session cookie holds. */
interface SessionData {
  v: 1;
  /** created (epoch s) */
  c: number;
  at?: string;
  it?: string;
  rt?: string;
  /** access token expiry (epoch s) */
  ae?: number;
  sc?: string;
  cl: Record<string, unknown>;
  ui?: Record<string, unknown>;
}

interface StateData {
  s: string;
  n?: string;
  v?: string;
  u: string;
  r: string;
  t: number;
}

interface Loaded {
  token: oidc.Configuration;
  introspect: oidc.Configuration | undefined;
  issuer: string;
  jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  endSession: string | undefined;
  revocation: boolean;
}

type Claims = Record<string, unknown>;

class IdpError extends Error {}

/** Discovery at first use; after a failure, requests get 503 until the next try (backoff 1 s … 60 s). */
class Discovery {
  private loaded: Loaded | undefined;
  private pending: Promise<Loaded | undefined> | undefined;
  private nextTry = 0;
  private backoffMs = 0;
  lastError = '';

  constructor(
    private readonly load: () => Promise<Loaded>,
    private readonly now: () => number,
    private readonly log: PluginDeps['log'],
  ) {}

  get(): Loaded | Promise<Loaded | undefined> | undefined {
    if (this.loaded) return this.loaded;
    if (this.pending) return this.pending;
    if (this.now() < this.nextTry) return undefined;
    this.pending = this.load().then(
      (l) => {
        this.loaded = l;
        this.pending = undefined;
        this.backoffMs = 0;
        return l;
      },
      (err: unknown) => {
        this.pending = undefined;
        this.backoffMs = Math.min(this.backoffMs ? this.backoffMs * 2 : 1000, 60_000);
        this.nextTry = this.now() + this.backoffMs;
        this.lastError = (err as Error)?.message ?? String(err);
        this.log.warn({ err: this.lastError, retryInMs: this.backoffMs }, `OpenID discovery failed: ${this.lastError}`);
        return undefined;
      },
    );
    return this.pending;
  }
}

function scopeString(c: Config): string {
  const parts = c.scope.split(/\s+/).filter(Boolean);
  if (!parts.includes('openid')) parts.unshift('openid');
  return parts.join(' ');
}

function clientAuth(method: string, secret: string | undefined): oidc.ClientAuth {
  if (secret === undefined) return oidc.None();
  return method === 'client_secret_post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
}

/** Removes named cookies from a Cookie header; undefined when nothing is left. */
function withoutCookies(header: string | undefined, names: string[]): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p && !names.includes(p.slice(0, Math.max(0, p.indexOf('='))).trim()));
  return kept.length ? kept.join('; ') : undefined;
}

export const OpenidConnect = definePlugin({
  type: 'OpenidConnect',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const p: PluginProblem[] = [];
    const d = urlProblem(c.discovery, 'discovery');
    if (d) p.push({ path: 'discovery', message: d });
    if (!c.bearerOnly && !c.sessionSecretRef) p.push({ path: 'sessionSecretRef', message: 'the browser flow (bearerOnly: false) needs sessionSecretRef: a Secret with sessionSecret of at least 32 bytes' });
    if (c.redirectUri !== undefined && !c.redirectUri.startsWith('/')) {
      const e = urlProblem(c.redirectUri, 'redirectUri');
      if (e) p.push({ path: 'redirectUri', message: e });
    }
    if (c.postLogoutRedirectUri !== undefined && !c.postLogoutRedirectUri.startsWith('/')) {
      const e = urlProblem(c.postLogoutRedirectUri, 'postLogoutRedirectUri');
      if (e) p.push({ path: 'postLogoutRedirectUri', message: e });
    }
    if (c.introspectionEndpoint !== undefined) {
      const e = urlProblem(c.introspectionEndpoint, 'introspectionEndpoint');
      if (e) p.push({ path: 'introspectionEndpoint', message: e });
    }
    for (const k of Object.keys(c.authorizationParams ?? {})) {
      if (RESERVED_AUTH_PARAMS.has(k)) p.push({ path: `authorizationParams.${k}`, message: `"${k}" is set by the plugin and cannot be overridden` });
    }
    if (c.verificationMode === 'JwksOnly' && !c.useJwks) p.push({ path: 'useJwks', message: 'verificationMode JwksOnly needs useJwks: true' });
    const algs = [...(c.allowedSigningAlgs ?? []), ...(c.tokenSigningAlg ? [c.tokenSigningAlg] : [])];
    for (const a of algs) {
      if (!SAFE_ALGS.includes(a)) p.push({ path: c.allowedSigningAlgs?.includes(a) ? 'allowedSigningAlgs' : 'tokenSigningAlg', message: `"${a}" is not an accepted signing algorithm (use one of ${SAFE_ALGS.join(', ')})` });
    }
    const sameSite = SAME_SITE[c.sessionCookieSameSite.toLowerCase()];
    if (!sameSite) p.push({ path: 'sessionCookieSameSite', message: `"${c.sessionCookieSameSite}" is not Lax, Strict or None` });
    else if (sameSite === 'None' && !c.sessionCookieSecure) p.push({ path: 'sessionCookieSameSite', message: 'browsers drop SameSite=None cookies that are not Secure (set sessionCookieSecure: true)', severity: 'warning' });
    if (c.maxHeaderValueBytes > c.maxTotalHeaderBytes) p.push({ path: 'maxHeaderValueBytes', message: 'maxHeaderValueBytes is larger than maxTotalHeaderBytes' });
    return p;
  },
  secretRefs(c) {
    return [...(c.clientSecretRef ? [c.clientSecretRef] : []), ...(c.sessionSecretRef ? [c.sessionSecretRef] : [])];
  },
  create(c, deps) {
    const now = () => deps.now();
    const nowSec = () => Math.floor(deps.now() / 1000);
    const clientSecret = secretValue(deps, c.clientSecretRef, CLIENT_SECRET_KEYS);
    const sessionSecret = secretValue(deps, c.sessionSecretRef, SESSION_SECRET_KEYS);
    /** Why the plugin cannot work (missing Secret): every request gets 500 (fail closed). */
    let broken: string | undefined;
    if (c.clientSecretRef && clientSecret === undefined) broken = `client secret ${refKey(c.clientSecretRef, deps.namespace)} is missing or has no clientSecret key`;
    let key: Buffer | undefined;
    if (!c.bearerOnly) {
      if (sessionSecret === undefined) broken ??= `session secret ${c.sessionSecretRef ? refKey(c.sessionSecretRef, deps.namespace) : ''} is missing or has no sessionSecret key`;
      else if (Buffer.byteLength(sessionSecret) < 32) broken ??= 'the session secret is shorter than 32 bytes';
      else key = sessionKey(sessionSecret);
    }
    if (broken) deps.log.error({ reason: broken }, `OpenidConnect cannot work: ${broken}`);

    const dispatcher = c.sslVerify ? undefined : new Agent({ connect: { rejectUnauthorized: false } });
    const fetchImpl = dispatcher ? ((url: string, init: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher } as never) as unknown as Promise<Response>) : undefined;
    const discoveryUrl = new URL(c.discovery);
    const insecure = discoveryUrl.protocol === 'http:';
    const algorithms = c.allowedSigningAlgs?.length ? c.allowedSigningAlgs : c.tokenSigningAlg ? [c.tokenSigningAlg] : SAFE_ALGS;
    const audiences = c.audiences?.length ? c.audiences : [c.clientId];
    const scope = scopeString(c);
    const callbackPath = c.redirectUri ? (c.redirectUri.startsWith('/') ? c.redirectUri : new URL(c.redirectUri).pathname) : DEFAULT_CALLBACK;
    const sessionAttrs: CookieAttrs = { path: '/', maxAge: c.sessionLifetime, httpOnly: c.sessionCookieHttpOnly, secure: c.sessionCookieSecure, sameSite: SAME_SITE[c.sessionCookieSameSite.toLowerCase()] ?? 'Lax' };
    const stateAttrs: CookieAttrs = { path: callbackPath, maxAge: 300, httpOnly: true, secure: c.sessionCookieSecure, sameSite: 'Lax' };
    const claimHeaders = Object.entries(c.claimsToHeaders ?? {}).map(([claim, header]) => ({ claim, header: header.toLowerCase() }));
    const required = c.requiredScopes ?? [];
    const introCache = new Map<string, { claims: Claims; until: number }>();
    const refreshing = new Map<string, Promise<SessionData | undefined>>();

    const metadata: Partial<oidc.ClientMetadata> = { [oidc.clockTolerance]: c.clockSkewSeconds } as Partial<oidc.ClientMetadata>;
    const execute = insecure ? [oidc.allowInsecureRequests] : [];
    const options = { execute, timeout: c.timeout, ...(fetchImpl ? { [oidc.customFetch]: fetchImpl } : {}) } as oidc.DiscoveryRequestOptions;

    const discovery = new Discovery(
      async () => {
        const token = await oidc.discovery(discoveryUrl, c.clientId, metadata, clientAuth(c.tokenEndpointAuthMethod, clientSecret), options);
        token.timeout = c.timeout;
        const server = token.serverMetadata();
        let introspect: oidc.Configuration | undefined;
        const introspectionEndpoint = c.introspectionEndpoint ?? server.introspection_endpoint;
        if (introspectionEndpoint) {
          const plainMeta = Object.fromEntries(Object.entries(server).filter(([, v]) => typeof v !== 'function')) as oidc.ServerMetadata;
          introspect = new oidc.Configuration({ ...plainMeta, introspection_endpoint: introspectionEndpoint }, c.clientId, metadata, clientAuth(c.introspectionEndpointAuthMethod, clientSecret));
          introspect.timeout = c.timeout;
          if (insecure || introspectionEndpoint.startsWith('http:')) oidc.allowInsecureRequests(introspect);
          if (fetchImpl) introspect[oidc.customFetch] = fetchImpl as never;
        }
        if (insecure) oidc.allowInsecureRequests(token);
        if (fetchImpl) token[oidc.customFetch] = fetchImpl as never;
        const jwks =
          c.useJwks && server.jwks_uri
            ? createRemoteJWKSet(new URL(server.jwks_uri), {
                cacheMaxAge: c.jwksCacheTtl * 1000,
                cooldownDuration: c.jwksMinRefreshInterval * 1000,
                timeoutDuration: c.timeout * 1000,
                ...(fetchImpl ? { [joseFetch]: fetchImpl as never } : {}),
              })
            : undefined;
        return { token, introspect, issuer: server.issuer, jwks, endSession: server.end_session_endpoint, revocation: !!server.revocation_endpoint };
      },
      now,
      deps.log,
    );

    const unavailable = (): PluginReply => ({
      status: 503,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' },
      body: `503 Service Unavailable: the OpenID provider cannot be reached (${discovery.lastError || 'discovery failed'})`,
      error: 'OidcDiscoveryFailed',
    });
    const deny = (message: string, status = 401, error = 'OidcUnauthorized', extra = '') => {
      const r = authFailure('Bearer', c.realm, message, status, error);
      if (extra) r.headers!['www-authenticate'] = `${r.headers!['www-authenticate'] as string}, ${extra}`;
      return delayed(c.authFailureDelayMs, r);
    };
    const redirect = (location: string, cookies: string[] = []): PluginReply => ({
      status: 302,
      headers: { location, 'cache-control': 'no-store', pragma: 'no-cache', ...(cookies.length ? { 'set-cookie': cookies } : {}) },
      body: '',
    });
    const plain = (status: number, text: string, error?: string): PluginReply => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: `${status} ${text}`, ...(error ? { error } : {}) });

    const externalBase = (s: PluginSession) => {
      const proto = (s.header('x-forwarded-proto') ?? 'https').split(',')[0]!.trim().toLowerCase() === 'http' ? 'http' : 'https';
      const host = (s.header('x-forwarded-host') ?? s.header('host') ?? s.host).split(',')[0]!.trim();
      return `${proto}://${host}`;
    };
    const redirectUri = (s: PluginSession) => (c.redirectUri && !c.redirectUri.startsWith('/') ? c.redirectUri : `${externalBase(s)}${callbackPath}`);
    const absolute = (s: PluginSession, v: string) => (v.startsWith('/') ? `${externalBase(s)}${v}` : v);

    /** Injects identity headers upstream within the byte limits (an oversize header is left out and logged). */
    function inject(s: PluginSession, claims: Claims, tokens: { at?: string; it?: string; ui?: Claims }): void {
      for (const h of INJECTED) s.removeHeader(h);
      for (const { header } of claimHeaders) s.removeHeader(header);
      let total = 0;
      const put = (name: string, value: string | undefined) => {
        if (value === undefined || value === '') return;
        const v = safeHeaderValue(value);
        const bytes = Buffer.byteLength(v);
        if (bytes > c.maxHeaderValueBytes) return s.log(`${name} left out: ${bytes} bytes > maxHeaderValueBytes`);
        if (total + bytes > c.maxTotalHeaderBytes) return s.log(`${name} left out: maxTotalHeaderBytes reached`);
        total += bytes;
        s.setHeader(name, v);
      };
      if (c.setAccessTokenHeader) put('x-access-token', tokens.at);
      if (c.setIdTokenHeader) put('x-id-token', tokens.it);
      if (c.setUserinfoHeader) put('x-userinfo', JSON.stringify(tokens.ui ?? claims));
      for (const { claim, header } of claimHeaders) put(header, renderClaim(claimAt(claims, claim)));
      if (c.accessTokenInAuthorizationHeader && tokens.at) s.setHeader('authorization', `Bearer ${tokens.at}`);
      if (c.storeClaimsInCtx) s.setVar('oidc_claims', JSON.stringify(claims));
      if (typeof claims.sub === 'string') s.setVar('oidc_sub', claims.sub);
    }

    function missingScopes(claims: Claims): string[] {
      if (!required.length) return [];
      const have = tokenScopes(claims);
      return required.filter((x) => !have.has(x));
    }

    // ---- bearer tokens ----------------------------------------------------------------------

    async function verifyJwt(l: Loaded, token: string): Promise<Claims | undefined> {
      if (!l.jwks) return undefined;
      try {
        const { payload } = await jwtVerify(token, l.jwks, {
          issuer: [l.issuer, ...(c.issuers ?? [])],
          audience: audiences,
          algorithms,
          clockTolerance: c.clockSkewSeconds,
          requiredClaims: ['exp'],
        });
        return payload as Claims;
      } catch {
        return undefined;
      }
    }

    async function introspect(l: Loaded, token: string): Promise<Claims | undefined | 'error'> {
      if (!l.introspect) return 'error';
      const cached = introCache.get(token);
      if (cached && cached.until > now()) return cached.claims;
      let r: oidc.IntrospectionResponse;
      try {
        r = await oidc.tokenIntrospection(l.introspect, token);
      } catch (err) {
        deps.log.warn({ err: (err as Error).message }, 'token introspection failed');
        return 'error';
      }
      if (r.active !== true) return undefined;
      if (typeof r.exp === 'number' && r.exp + c.clockSkewSeconds < nowSec()) return undefined;
      if (c.audiences?.length && r.aud !== undefined) {
        const aud = Array.isArray(r.aud) ? r.aud : [r.aud];
        if (!aud.some((a) => audiences.includes(String(a)))) return undefined;
      }
      const claims = r as unknown as Claims;
      if (c.introspectionCacheTtl > 0) {
        if (introCache.size > 10_000) introCache.clear();
        const until = Math.min(now() + c.introspectionCacheTtl * 1000, typeof r.exp === 'number' ? r.exp * 1000 : Infinity);
        introCache.set(token, { claims, until });
      }
      return claims;
    }

    async function bearer(s: PluginSession, l: Loaded, token: string): Promise<PluginReply | undefined> {
      let looksJwt = false;
      try {
        decodeProtectedHeader(token);
        looksJwt = token.split('.').length === 3;
      } catch {
        looksJwt = false;
      }
      let claims: Claims | undefined | 'error';
      const mode = c.verificationMode;
      if (mode === 'JwksOnly' || (mode === 'Auto' && looksJwt && l.jwks)) claims = await verifyJwt(l, token);
      else claims = await introspect(l, token);
      if (claims === 'error') {
        // No way to check the token (no introspection endpoint), or the provider failed: never let it through.
        s.log(l.introspect ? 'token introspection failed' : 'no introspection endpoint for a non-JWT token');
        return l.introspect ? plain(502, 'Bad Gateway: token introspection failed', 'OidcIdpError') : deny('Unauthorized - Invalid token', 401, 'OidcInvalidToken', 'error="invalid_token"');
      }
      if (!claims) {
        s.log('invalid bearer token');
        return deny('Unauthorized - Invalid token', 401, 'OidcInvalidToken', 'error="invalid_token"');
      }
      const missing = missingScopes(claims);
      if (missing.length) {
        s.log(`missing scopes: ${missing.join(' ')}`);
        return deny('Insufficient scope', 403, 'OidcInsufficientScope', `error="insufficient_scope", scope="${required.join(' ')}"`);
      }
      if (c.hideCredentials) s.removeHeader('authorization');
      inject(s, claims, { at: token });
      return undefined;
    }

    // ---- browser sessions -------------------------------------------------------------------

    function sessionCookie(data: SessionData): string | undefined {
      const value = seal(key!, data);
      const cookie = cookieString(c.sessionCookieName, value, sessionAttrs);
      return Buffer.byteLength(`${c.sessionCookieName}=${value}`) > c.maxSessionCookieBytes ? undefined : cookie;
    }
    const clearCookie = (name: string, path: string) => cookieString(name, '', { ...sessionAttrs, path, maxAge: 0 });

    function startLogin(s: PluginSession, l: Loaded): Promise<PluginReply> {
      return (async () => {
        const state = oidc.randomState();
        const nonce = c.useNonce ? oidc.randomNonce() : undefined;
        const verifier = c.usePkce ? oidc.randomPKCECodeVerifier() : undefined;
        const ru = redirectUri(s);
        const params: Record<string, string> = { ...c.authorizationParams, redirect_uri: ru, scope, state, response_type: 'code' };
        if (nonce) params.nonce = nonce;
        if (verifier) {
          params.code_challenge = await oidc.calculatePKCECodeChallenge(verifier);
          params.code_challenge_method = 'S256';
        }
        const url = oidc.buildAuthorizationUrl(l.token, params);
        const original = s.path + (s.queryString ? `?${s.queryString}` : '');
        const st: StateData = { s: state, u: original, r: ru, t: nowSec(), ...(nonce ? { n: nonce } : {}), ...(verifier ? { v: verifier } : {}) };
        s.log('login started');
        return redirect(url.href, [cookieString(STATE_COOKIE, seal(key!, st), stateAttrs)]);
      })();
    }

    async function callback(s: PluginSession, l: Loaded): Promise<PluginReply> {
      const st = unseal<StateData>(key!, s.cookie(STATE_COOKIE));
      const q = new URLSearchParams(s.queryString);
      const clear = clearCookie(STATE_COOKIE, callbackPath);
      if (!st || typeof st.s !== 'string' || st.t + 300 < nowSec()) return { ...plain(400, 'Bad Request: missing or expired login state'), headers: { 'content-type': 'text/plain; charset=utf-8', 'set-cookie': clear }, error: 'OidcBadState' };
      if (q.get('state') !== st.s) return { ...plain(400, 'Bad Request: state does not match'), error: 'OidcBadState' };
      if (q.get('error')) return delayed(c.authFailureDelayMs, { ...plain(401, `Unauthorized: the OpenID provider answered ${q.get('error')}`), error: 'OidcLoginFailed' }) as Promise<PluginReply>;
      if (!q.get('code')) return { ...plain(400, 'Bad Request: missing code'), error: 'OidcBadState' };
      const current = new URL(`${st.r}?${s.queryString}`);
      let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
      try {
        tokens = await oidc.authorizationCodeGrant(
          l.token,
          current,
          { expectedState: st.s, ...(st.n ? { expectedNonce: st.n } : {}), ...(st.v ? { pkceCodeVerifier: st.v } : {}), idTokenExpected: true },
          undefined,
          { redirectUri: st.r } as never,
        );
      } catch (err) {
        const e = err as Error & { status?: number; code?: string };
        s.log(`code exchange failed: ${e.message}`);
        if (err instanceof oidc.ResponseBodyError && (e.status ?? 500) < 500) return delayed(c.authFailureDelayMs, { ...plain(401, 'Unauthorized: the authorization code was refused'), error: 'OidcLoginFailed' }) as Promise<PluginReply>;
        if (isIdpFailure(err)) return { ...plain(502, 'Bad Gateway: the OpenID provider failed'), error: 'OidcIdpError' };
        return delayed(c.authFailureDelayMs, { ...plain(401, 'Unauthorized: the ID token is not valid'), error: 'OidcInvalidIdToken' }) as Promise<PluginReply>;
      }
      const claims = (tokens.claims() ?? {}) as Claims;
      let ui: Claims | undefined;
      if (c.setUserinfoHeader && l.token.serverMetadata().userinfo_endpoint && typeof claims.sub === 'string') {
        try {
          ui = (await oidc.fetchUserInfo(l.token, tokens.access_token, claims.sub)) as Claims;
        } catch (err) {
          s.log(`userinfo failed: ${(err as Error).message}`);
        }
      }
      const data = newSession(tokens, pickClaims(claims), ui, nowSec());
      const cookie = sessionCookie(data);
      if (!cookie) return { ...plain(500, 'Internal Server Error: the session does not fit in maxSessionCookieBytes'), error: 'OidcSessionTooLarge' };
      s.log(`login completed for ${String(claims.sub)}`);
      const target = st.u.startsWith('/') && !st.u.startsWith('//') ? st.u : '/';
      return redirect(target, [cookie, clear]);
    }

    function newSession(tokens: oidc.TokenEndpointResponse, claims: Claims, ui: Claims | undefined, t: number, prev?: SessionData): SessionData {
      return {
        v: 1,
        c: prev?.c ?? t,
        at: tokens.access_token,
        ...(tokens.id_token ?? prev?.it ? { it: tokens.id_token ?? prev!.it! } : {}),
        ...(tokens.refresh_token ?? prev?.rt ? { rt: tokens.refresh_token ?? prev!.rt! } : {}),
        ...(typeof tokens.expires_in === 'number' ? { ae: t + tokens.expires_in } : {}),
        ...(tokens.scope ?? prev?.sc ? { sc: tokens.scope ?? prev!.sc! } : { sc: scope }),
        cl: claims,
        ...(ui ?? prev?.ui ? { ui: ui ?? prev!.ui! } : {}),
      };
    }

    function refresh(l: Loaded, data: SessionData): Promise<SessionData | undefined> {
      const rt = data.rt!;
      let p = refreshing.get(rt);
      if (p) return p;
      p = (async () => {
        try {
          const tokens = await oidc.refreshTokenGrant(l.token, rt);
          const fresh = tokens.claims();
          return newSession(tokens, fresh ? pickClaims(fresh as Claims) : data.cl, undefined, nowSec(), data);
        } catch (err) {
          deps.log.info({ err: (err as Error).message }, 'token refresh failed; the user logs in again');
          return undefined;
        } finally {
          setTimeout(() => refreshing.delete(rt), 5000).unref?.();
        }
      })();
      refreshing.set(rt, p);
      return p;
    }

    async function logout(s: PluginSession, l: Loaded | undefined): Promise<PluginReply> {
      const data = key ? unseal<SessionData>(key, s.cookie(c.sessionCookieName)) : undefined;
      if (data && c.revokeTokensOnLogout && l?.revocation) {
        for (const [tok, hint] of [
          [data.rt, 'refresh_token'],
          [data.at, 'access_token'],
        ] as const) {
          if (!tok) continue;
          try {
            await oidc.tokenRevocation(l.token, tok, { token_type_hint: hint });
          } catch (err) {
            s.log(`revocation failed: ${(err as Error).message}`);
          }
        }
      }
      const cookies = [clearCookie(c.sessionCookieName, '/')];
      const post = c.postLogoutRedirectUri ? absolute(s, c.postLogoutRedirectUri) : undefined;
      s.log('logged out');
      if (l?.endSession) {
        const params: Record<string, string> = { client_id: c.clientId };
        if (data?.it) params.id_token_hint = data.it;
        if (post) params.post_logout_redirect_uri = post;
        return redirect(oidc.buildEndSessionUrl(l.token, params).href, cookies);
      }
      if (post) return redirect(post, cookies);
      return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'set-cookie': cookies }, body: 'Logged out' };
    }

    async function withDiscovery(s: PluginSession, l: Loaded): Promise<PluginReply | undefined> {
      const auth = s.header('authorization');
      const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
      if (m) return bearer(s, l, m[1]!);
      if (c.bearerOnly) return unauthenticated(s, l);
      if (s.path === callbackPath) return callback(s, l);
      if (s.path === c.logoutPath) return logout(s, l);
      let data = unseal<SessionData>(key!, s.cookie(c.sessionCookieName));
      if (data && (data.v !== 1 || data.c + c.sessionLifetime < nowSec())) data = undefined;
      if (data && data.ae !== undefined && data.ae - c.accessTokenExpiresLeeway <= nowSec()) {
        const fresh = c.renewAccessTokenOnExpiry && data.rt ? await refresh(l, data) : undefined;
        if (fresh) {
          const cookie = sessionCookie(fresh);
          if (!cookie) return { ...plain(500, 'Internal Server Error: the session does not fit in maxSessionCookieBytes'), error: 'OidcSessionTooLarge' };
          s.appendResponseHeader('set-cookie', cookie);
          s.log('access token refreshed');
          data = fresh;
        } else {
          data = undefined;
        }
      }
      if (!data) return unauthenticated(s, l);
      const missing = missingScopes({ scope: data.sc ?? '' });
      if (missing.length) return deny('Insufficient scope', 403, 'OidcInsufficientScope');
      if (c.hideCredentials) {
        const rest = withoutCookies(s.header('cookie'), [c.sessionCookieName, STATE_COOKIE]);
        if (rest === undefined) s.removeHeader('cookie');
        else s.setHeader('cookie', rest);
      }
      inject(s, { ...data.cl, ...data.ui }, { ...(data.at ? { at: data.at } : {}), ...(data.it ? { it: data.it } : {}), ...(data.ui ? { ui: data.ui } : {}) });
      return undefined;
    }

    function unauthenticated(s: PluginSession, l: Loaded): PluginReply | Promise<PluginReply> | undefined {
      if (c.unauthAction === 'Pass') {
        for (const h of INJECTED) s.removeHeader(h);
        for (const { header } of claimHeaders) s.removeHeader(header);
        return undefined;
      }
      if (c.unauthAction === 'Deny' || c.bearerOnly) return deny('Unauthorized');
      return startLogin(s, l);
    }

    return {
      onRequest(s) {
        if (broken) return { ...plain(500, 'Internal Server Error: OpenidConnect is misconfigured'), error: 'OidcMisconfigured' };
        // Logout needs no IdP when there is nothing to tell it; everything else needs discovery.
        const l = discovery.get();
        if (l === undefined) return unavailable();
        if (l instanceof Promise) return l.then((x) => (x ? withDiscovery(s, x) : unavailable()));
        return withDiscovery(s, l);
      },
      close() {
        void dispatcher?.close();
      },
    };
  },
});

/** Network errors, timeouts and 5xx answers of the IdP (as opposed to a refusal). */
function isIdpFailure(err: unknown): boolean {
  const e = err as { name?: string; code?: string; status?: number; cause?: unknown };
  if (e instanceof IdpError) return true;
  if (typeof e.status === 'number') return e.status >= 500;
  if (e.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || e.code === 'OAUTH_RESPONSE_IS_NOT_JSON') return true;
  if (e.name === 'TypeError' || e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  const cause = e.cause as { code?: string } | undefined;
  return !!cause?.code && /^(ECONN|ETIMEDOUT|ENOTFOUND|EAI_|UND_ERR)/.test(cause.code);
}

/** Claims worth keeping in the cookie (the raw token holds the rest). */
function pickClaims(claims: Claims): Claims {
  const out: Claims = {};
  for (const [k, v] of Object.entries(claims)) {
    if (k === 'nonce' || k === 'at_hash' || k === 'c_hash' || k === 's_hash') continue;
    out[k] = v;
  }
  return out;
}
