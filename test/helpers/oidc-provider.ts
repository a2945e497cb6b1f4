// A real OpenID provider for tests (the `oidc-provider` package) on 127.0.0.1: one confidential
// client, a test user ("alice") logged in and consenting automatically (the interaction endpoint
// finishes the login/consent itself), refresh tokens, introspection, revocation, end session. Its
// signing key is known to the test so it can mint bearer JWTs the provider's JWKS verifies.
// `/flaky/.well-known/openid-configuration` serves discovery too, but answers 503 while `down`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export interface OidcProviderOptions {
  clientId?: string;
  clientSecret?: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  accessTokenTtl?: number;
}

export interface TestOidcProvider {
  port: number;
  issuer: string;
  discovery: string;
  flakyDiscovery: string;
  clientId: string;
  clientSecret: string;
  /** While true, the flaky discovery URL answers 503. */
  down: boolean;
  /** Paths the provider was asked for (in order). */
  seen: string[];
  signJwt(payload: JWTPayload, opts?: { expiresIn?: string | number; audience?: string | string[]; issuer?: string }): Promise<string>;
  /** A JWT signed by a key the provider does not publish. */
  signForeignJwt(payload: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

export async function startOidcProvider(o: OidcProviderOptions): Promise<TestOidcProvider> {
  const clientId = o.clientId ?? 'portal';
  const clientSecret = o.clientSecret ?? 'portal-client-secret-0123456789abcdef';
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const foreign = await generateKeyPair('RS256', { extractable: true });
  const kid = 'test-key-1';
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  void publicKey;

  // oidc-provider ships no types: load it through a non-literal specifier.
  const mod = 'oidc-provider';
  const { default: Provider } = (await import(mod)) as { default: new (issuer: string, conf: object) => any };

  let provider: any;
  const state = { down: false };
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    seen.push(url.split('?')[0]!);
    if (url.startsWith('/flaky/')) {
      if (state.down) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('down');
        return;
      }
      req.url = url.slice('/flaky'.length);
    }
    if (url.startsWith('/interaction/')) {
      void interaction(req, res);
      return;
    }
    provider.callback()(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  async function interaction(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const details = await provider.interactionDetails(req, res);
      const { prompt, params, session } = details;
      if (prompt.name === 'login') {
        await provider.interactionFinished(req, res, { login: { accountId: 'alice' } }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const d = prompt.details ?? {};
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries((d.missingResourceScopes ?? {}) as Record<string, string[]>)) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${(err as Error).message}`);
    }
  }

  provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: o.redirectUris,
        post_logout_redirect_uris: o.postLogoutRedirectUris ?? [],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.test`, name: 'Alice Example', groups: ['dev', 'ops'] }),
    }),
    claims: { openid: ['sub'], email: ['email'], profile: ['name', 'groups'] },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    issueRefreshToken: async () => true,
    rotateRefreshToken: true,
    ttl: { AccessToken: o.accessTokenTtl ?? 300, IdToken: 300, RefreshToken: 3600, Interaction: 300, Session: 3600, Grant: 3600, AuthorizationCode: 60 },
    cookies: { keys: ['test-cookie-signing-key-0123456789'] },
    interactions: { url: (_ctx: unknown, i: { uid: string }) => `/interaction/${i.uid}` },
    pkce: { required: () => false },
  });
  provider.on('server_error', () => undefined);

  return {
    port,
    issuer,
    discovery: `${issuer}/.well-known/openid-configuration`,
    flakyDiscovery: `${issuer}/flaky/.well-known/openid-configuration`,
    clientId,
    clientSecret,
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    seen,
    async signJwt(payload, opts = {}) {
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(opts.issuer ?? issuer)
        .setAudience(opts.audience ?? clientId)
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? '5m')
        .sign(privateKey);
    },
    async signForeignJwt(payload) {
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(issuer).setAudience(clientId).setIssuedAt().setExpirationTime('5m').sign(foreign.privateKey);
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
