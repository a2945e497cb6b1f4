// JwtAuth (plugins.md §4.3): a signed JWT from a header (`Bearer ` optional), a query parameter
// or a cookie, verified with jose against an HMAC secret or a public key from Secrets (one, or
// several selected by the `keyClaimName` claim), or against a JWKS fetched by URL (cached,
// refreshed when a token names an unknown key). Then issuer, audience, lifetime (with the grace
// period for clock skew) and maximum expiration; claims go to request headers and ctx.

import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { Type, type Static } from 'typebox';
import { definePlugin, type PluginDeps, type PluginProblem, type PluginSession, type RequestResult } from '../../runtime/define-plugin.js';
import { AnonymousField, applyHeaderMappings, DelayField, headerMappings, HideField, mappingProblems, plainReply, realmField, reject, secretBuffer, secretData, secretId, SecretRefSchema, setAnonymous, setConsumer, type SecretRef } from './common.js';

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384'] as const;
const ASYMMETRIC = JWT_ALGORITHMS.filter((a) => !a.startsWith('HS'));

const Schema = Type.Object({
  secretRef: Type.Optional(SecretRefSchema),
  secretRefs: Type.Optional(Type.Array(SecretRefSchema, { minItems: 1 })),
  keyClaimName: Type.String({ minLength: 1, default: 'key' }),
  algorithm: Type.Optional(Type.Enum([...JWT_ALGORITHMS], { description: 'default HS256; with jwksUri, any RS*/ES* unless set' })),
  jwksUri: Type.Optional(Type.String({ pattern: '^https?://', description: 'JWKS URL (instead of Secrets)' })),
  jwksCacheTtl: Type.Integer({ minimum: 1, default: 300, description: 'seconds a fetched JWKS is used before it is fetched again' }),
  jwksMinRefreshInterval: Type.Integer({ minimum: 0, default: 10, description: 'seconds between two fetches caused by unknown key ids' }),
  jwksTimeoutMs: Type.Integer({ minimum: 1, default: 5000 }),
  header: Type.String({ minLength: 1, default: 'authorization' }),
  query: Type.String({ minLength: 1, default: 'jwt' }),
  cookie: Type.String({ minLength: 1, default: 'jwt' }),
  hideCredentials: HideField,
  anonymous: AnonymousField,
  lifetimeGracePeriod: Type.Integer({ minimum: 0, default: 0 }),
  maximumExpiration: Type.Integer({ minimum: 0, default: 0 }),
  issuers: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  audiences: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  base64Secret: Type.Boolean({ default: false }),
  storeClaimsInCtx: Type.Boolean({ default: false }),
  claimsToHeaders: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
  realm: realmField('jwt'),
  authFailureDelayMs: DelayField,
});

type Config = Static<typeof Schema>;

interface Credential {
  id: string;
  key: KeyObject;
}

const MESSAGE = 'Unauthorized - Invalid or missing JWT';

/** The verification key of one Secret for `alg`, or why there is none. */
function credentialKey(deps: PluginDeps, ref: SecretRef, alg: string, base64Secret: boolean): KeyObject | string {
  const data = secretData(deps, ref);
  if (!data) return 'the Secret is missing';
  if (alg.startsWith('HS')) {
    let secret = secretBuffer(deps, ref, 'secret');
    if (secret === undefined || secret.length === 0) return 'the Secret has no "secret" for an HMAC algorithm';
    if (base64Secret) secret = Buffer.from(secret.toString('utf8').trim(), 'base64');
    if (secret.length === 0) return 'the secret is empty after base64 decoding';
    return createSecretKey(secret);
  }
  const pem = data.publicKey ?? data.public_key;
  if (!pem) return `the Secret has no "publicKey" for ${alg}`;
  try {
    const key = createPublicKey(pem);
    const want = alg.startsWith('RS') ? 'rsa' : 'ec';
    if (key.asymmetricKeyType !== want) return `the publicKey is ${key.asymmetricKeyType ?? 'unknown'}, ${alg} needs ${want}`;
    return key;
  } catch (err) {
    return `the publicKey cannot be read: ${(err as Error).message}`;
  }
}

/** A JWKS problem (unreachable, not a key set): the keys are unavailable, not the token wrong. */
function jwksUnavailable(err: unknown): boolean {
  if (!(err instanceof joseErrors.JOSEError)) return true;
  return err.code === 'ERR_JWKS_TIMEOUT' || err.code === 'ERR_JWKS_INVALID' || err.code === 'ERR_JOSE_GENERIC';
}

export const JwtAuth = definePlugin({
  type: 'JwtAuth',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    if (c.jwksUri !== undefined) {
      if (c.secretRef || c.secretRefs) out.push({ path: 'jwksUri', message: 'use jwksUri or secretRef/secretRefs, not both' });
      if (c.algorithm?.startsWith('HS')) out.push({ path: 'algorithm', message: `${c.algorithm} is an HMAC algorithm: a JWKS holds public keys (use RS*/ES*)` });
      try {
        new URL(c.jwksUri);
      } catch {
        out.push({ path: 'jwksUri', message: `"${c.jwksUri}" is not a URL` });
      }
    } else if (!c.secretRef && !c.secretRefs && c.anonymous === undefined) {
      out.push({ path: 'secretRef', message: 'JwtAuth needs secretRef, secretRefs or jwksUri (the keys tokens are verified with)' });
    }
    out.push(...mappingProblems(c.claimsToHeaders, 'claimsToHeaders'));
    return out;
  },
  secretRefs: (c) => [...(c.secretRef ? [c.secretRef] : []), ...(c.secretRefs ?? [])],
  create(c: Config, deps) {
    const alg = c.algorithm ?? (c.jwksUri ? undefined : 'HS256');
    const algorithms = alg ? [alg] : [...ASYMMETRIC];
    let single: Credential | undefined;
    const multi = new Map<string, Credential>();
    if (alg && !c.jwksUri) {
      if (c.secretRef) {
        const k = credentialKey(deps, c.secretRef, alg, c.base64Secret);
        const id = secretId(c.secretRef, deps);
        if (typeof k === 'string') deps.log.warn({ secret: id }, `JwtAuth: ${id}: ${k}`);
        else single = { id, key: k };
      }
      for (const ref of c.secretRefs ?? []) {
        const id = secretId(ref, deps);
        const data = secretData(deps, ref);
        if (!data) {
          deps.log.warn({ secret: id }, `JwtAuth: Secret ${id} is missing`);
          continue;
        }
        const name = data.key;
        if (!name) {
          deps.log.warn({ secret: id }, `JwtAuth: ${id} has no "key" (the value of the ${c.keyClaimName} claim that selects it)`);
          continue;
        }
        if (multi.has(name)) continue; // first wins
        const k = credentialKey(deps, ref, alg, c.base64Secret);
        if (typeof k === 'string') deps.log.warn({ secret: id }, `JwtAuth: ${id}: ${k}`);
        else multi.set(name, { id, key: k });
      }
    }
    const jwks = c.jwksUri
      ? createRemoteJWKSet(new URL(c.jwksUri), { cacheMaxAge: c.jwksCacheTtl * 1000, cooldownDuration: c.jwksMinRefreshInterval * 1000, timeoutDuration: c.jwksTimeoutMs })
      : undefined;
    const maps = headerMappings(c.claimsToHeaders);
    const headerName = c.header.toLowerCase();

    const fail = (s: PluginSession, why: string) => {
      s.log(why.slice(0, 160));
      return reject(c.authFailureDelayMs, 'Bearer', c.realm, MESSAGE, 401, 'JwtAuthFailed');
    };

    /** The token and whether it came from the header. */
    const token = (s: PluginSession): { jwt: string; fromHeader: boolean } | undefined => {
      const h = s.header(headerName)?.trim();
      if (h) {
        const sp = h.indexOf(' ');
        if (sp === -1) return { jwt: h, fromHeader: true };
        if (h.slice(0, sp).toLowerCase() === 'bearer') {
          const t = h.slice(sp + 1).trim();
          if (t) return { jwt: t, fromHeader: true };
        }
        // another scheme (Basic...) is not a JWT
      }
      const q = s.query(c.query);
      if (q) return { jwt: q, fromHeader: false };
      const k = s.cookie(c.cookie);
      if (k) return { jwt: k, fromHeader: false };
      return undefined;
    };

    const pick = (jwt: string): Credential | string => {
      if (multi.size > 0) {
        let claim: unknown;
        try {
          claim = decodeJwt(jwt)[c.keyClaimName] ?? (decodeProtectedHeader(jwt) as Record<string, unknown>)[c.keyClaimName];
        } catch {
          return 'malformed token';
        }
        const cred = typeof claim === 'string' || typeof claim === 'number' ? multi.get(String(claim)) : undefined;
        if (cred) return cred;
        if (single) return single;
        return claim === undefined ? `no ${c.keyClaimName} claim` : `no credential for ${c.keyClaimName}=${String(claim).slice(0, 64)}`;
      }
      return single ?? 'no usable key configured';
    };

    const accept = (s: PluginSession, payload: JWTPayload, fromHeader: boolean): RequestResult => {
      setConsumer(s, undefined);
      const skipped = applyHeaderMappings(s, payload, maps);
      if (skipped.length) s.log(`claims not forwarded (CR/LF): ${skipped.join(',')}`);
      if (c.storeClaimsInCtx) s.setVar('jwt_claims', JSON.stringify(payload));
      if (c.hideCredentials && fromHeader) s.removeHeader(headerName);
      return undefined;
    };

    return {
      async onRequest(s) {
        const t = token(s);
        if (!t) {
          if (c.anonymous !== undefined) {
            for (const m of maps) s.removeHeader(m.header);
            setAnonymous(s, c.anonymous);
            return undefined;
          }
          return fail(s, 'no token');
        }
        const opts: JWTVerifyOptions = {
          algorithms,
          clockTolerance: c.lifetimeGracePeriod,
          currentDate: new Date(deps.now()),
          ...(c.issuers?.length ? { issuer: c.issuers } : {}),
          ...(c.audiences?.length ? { audience: c.audiences } : {}),
        };
        let payload: JWTPayload;
        try {
          if (jwks) {
            payload = (await jwtVerify(t.jwt, jwks, opts)).payload;
          } else {
            const cred = pick(t.jwt);
            if (typeof cred === 'string') return fail(s, cred);
            payload = (await jwtVerify(t.jwt, cred.key, opts)).payload;
          }
        } catch (err) {
          if (jwks && jwksUnavailable(err)) {
            s.log(`JWKS unavailable: ${(err as Error).message}`);
            return plainReply(503, '503 Service Unavailable - signing keys unavailable', 'JwtAuthJwksUnavailable');
          }
          return fail(s, (err as Error).message);
        }
        if (c.maximumExpiration > 0) {
          const now = Math.floor(deps.now() / 1000);
          if (typeof payload.exp !== 'number') return fail(s, 'no exp claim (maximumExpiration is set)');
          if (payload.exp - now > c.maximumExpiration) return fail(s, 'exp is further away than maximumExpiration');
        }
        return accept(s, payload, t.fromHeader);
      },
    };
  },
});
