// HmacAuth (plugins.md §4.4): `Authorization: hmac username="..", algorithm="..", headers="..",
// signature=".."` (or Proxy-Authorization, or a `Signature` header with the same parameters).
// The signing string is one `<lowercase name>: <value>` line per signed header, joined by `\n`;
// `@request-target` / `(request-target)` stand for `<lowercase method> <path>[?<query>]`. The
// signature is base64(HMAC(secret, signing string)). `date` or `x-date` must be signed and
// within `clockSkew`. With `validateRequestBody`, a signed body digest header (Digest,
// Content-Digest or X-Body-Digest) must match the SHA-256/SHA-512 of the body.

import { createHash, createHmac } from 'node:crypto';
import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginSession, type RequestResult } from '../../runtime/define-plugin.js';
import { AnonymousField, DelayField, headerNameProblems, headerText, HideField, parseAuthParams, parseYamlList, plainReply, realmField, reject, safeEqual, scalarText, schemeCredentials, secretData, secretId, SecretRefSchema, setAnonymous, setConsumer } from './common.js';

const ALGORITHMS = ['hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const;
const HASH: Record<string, string> = { 'hmac-sha256': 'sha256', 'hmac-sha384': 'sha384', 'hmac-sha512': 'sha512' };
const TARGET = '@request-target';
const DIGEST_HEADERS = ['digest', 'content-digest', 'x-body-digest'];

const Schema = Type.Object({
  secretRefs: Type.Optional(Type.Array(SecretRefSchema, { description: 'Secrets with a credentials.yaml' })),
  usernameField: Type.String({ minLength: 1, default: 'username' }),
  secretField: Type.String({ minLength: 1, default: 'secret' }),
  algorithms: Type.Array(Type.Enum([...ALGORITHMS]), { minItems: 1, default: [...ALGORITHMS] }),
  clockSkew: Type.Integer({ minimum: 0, default: 300, description: 'seconds; 0 turns the Date check off' }),
  enforceHeaders: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  validateRequestBody: Type.Boolean({ default: false }),
  maxBodyBytes: Type.Integer({ minimum: 0, default: 1_048_576, description: 'largest body validateRequestBody reads (bigger → 413)' }),
  minSecretLength: Type.Integer({ minimum: 0, default: 32 }),
  hideCredentials: HideField,
  anonymous: AnonymousField,
  upstreamHeaderFields: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  realm: realmField('edgion'),
  authFailureDelayMs: DelayField,
});

interface Credential {
  username: string;
  secret: Buffer;
  /** Whitelisted request headers: name → value, or undefined to remove the client's. */
  headers: [string, string | undefined][];
}

interface Signed {
  username: string;
  algorithm: string;
  /** Signed header names as the client listed them (lower case): they start the signing-string lines. */
  headers: string[];
  /** The same names with `(request-target)` as `@request-target`, for the checks. */
  canonical: string[];
  signature: string;
}

/** `(request-target)` and `@request-target` are one pseudo-header. */
const canon = (h: string) => {
  const n = h.toLowerCase();
  return n === '(request-target)' ? TARGET : n;
};

/** The hmac credentials of a request, `undefined` when there are none, a string when malformed. */
export function hmacCredentials(s: PluginSession): { signed: Signed; header: string } | string | undefined {
  for (const name of ['proxy-authorization', 'authorization']) {
    const creds = schemeCredentials(s.header(name), 'hmac');
    if (creds !== undefined) return parseSigned(creds, name);
  }
  const sig = s.header('signature');
  if (sig !== undefined) return parseSigned(sig, 'signature');
  return undefined;
}

function parseSigned(text: string, header: string): { signed: Signed; header: string } | string {
  const p = parseAuthParams(text);
  if (!p) return 'the credentials are not a parameter list';
  const username = p.username ?? p.keyid;
  if (!username) return 'no username';
  if (!p.signature) return 'no signature';
  const headers = (p.headers ?? 'date').split(/\s+/).filter(Boolean).map((h) => h.toLowerCase());
  return { signed: { username, algorithm: (p.algorithm ?? '').toLowerCase(), headers, canonical: headers.map(canon), signature: p.signature }, header };
}

/**
 * The string the client signed. `bareTarget`: the request-target line is the value alone, without
 * the `name: ` prefix (a reading of the specification some clients follow; accepted as well).
 */
export function signingString(s: PluginSession, headers: readonly string[], bareTarget = false): string | { missing: string } {
  const lines: string[] = [];
  for (const h of headers) {
    if (h === TARGET || h === '(request-target)') {
      const target = `${s.method.toLowerCase()} ${s.path}${s.queryString ? `?${s.queryString}` : ''}`;
      lines.push(bareTarget ? target : `${h}: ${target}`);
      continue;
    }
    const v = s.header(h);
    if (v === undefined) return { missing: h };
    lines.push(`${h}: ${v}`);
  }
  return lines.join('\n');
}

/** `Digest: SHA-256=..`, `Content-Digest: sha-256=:..:`, `X-Body-Digest: SHA-256=..` (or bare base64 SHA-256). */
export function digestMatches(header: string, value: string, body: Buffer): boolean {
  const parts = value.split(',').map((x) => x.trim()).filter(Boolean);
  let checked = false;
  for (const part of parts) {
    const eq = part.indexOf('=');
    let alg = eq === -1 ? '' : part.slice(0, eq).toLowerCase();
    let b64 = eq === -1 ? part : part.slice(eq + 1);
    if (!['sha-256', 'sha-512'].includes(alg)) {
      if (header === 'x-body-digest' && eq === -1) alg = 'sha-256';
      else if (header === 'x-body-digest' && /^[A-Za-z0-9+/]+=*$/.test(part)) {
        alg = 'sha-256';
        b64 = part;
      } else continue;
    }
    if (b64.startsWith(':') && b64.endsWith(':')) b64 = b64.slice(1, -1);
    const want = createHash(alg === 'sha-256' ? 'sha256' : 'sha512').update(body).digest();
    checked = true;
    if (!safeEqual(Buffer.from(b64, 'base64'), want)) return false;
  }
  return checked;
}

export const HmacAuth = definePlugin({
  type: 'HmacAuth',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    (c.enforceHeaders ?? []).forEach((h, i) => {
      const n = canon(h);
      if (n !== TARGET && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(n)) out.push({ path: `enforceHeaders[${i}]`, message: `"${h}" is not a header name or @request-target` });
    });
    out.push(...headerNameProblems(c.upstreamHeaderFields, 'upstreamHeaderFields'));
    if (!c.secretRefs?.length && c.anonymous === undefined) out.push({ path: 'secretRefs', message: 'no secretRefs: signed requests get 500 (no credentials configured)', severity: 'warning' });
    return out;
  },
  secretRefs: (c) => c.secretRefs ?? [],
  create(c, deps) {
    const whitelist = [...new Set((c.upstreamHeaderFields ?? []).map((h) => h.toLowerCase()))];
    const creds = new Map<string, Credential>();
    for (const ref of c.secretRefs ?? []) {
      const id = secretId(ref, deps);
      const text = secretData(deps, ref)?.['credentials.yaml'];
      if (text === undefined) {
        deps.log.warn({ secret: id }, `HmacAuth: Secret ${id} is missing or has no credentials.yaml`);
        continue;
      }
      const { entries, error } = parseYamlList(text);
      if (error) deps.log.warn({ secret: id }, `HmacAuth: credentials.yaml of ${id} ${error}`);
      for (const e of entries) {
        const username = scalarText(e[c.usernameField]);
        const secret = scalarText(e[c.secretField]);
        if (!username || secret === undefined || creds.has(username)) continue;
        if (Buffer.byteLength(secret) < c.minSecretLength) {
          deps.log.warn({ secret: id, username }, `HmacAuth: the secret of ${username} in ${id} is shorter than minSecretLength (${c.minSecretLength}); ignored`);
          continue;
        }
        const hdrs = new Map<string, string>();
        const raw = e.headers;
        if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
          for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
            const t = scalarText(v);
            const h = t === undefined ? undefined : headerText(t);
            if (h !== undefined) hdrs.set(k.toLowerCase(), h);
          }
        }
        creds.set(username, { username, secret: Buffer.from(secret, 'utf8'), headers: whitelist.map((h) => [h, hdrs.get(h)]) });
      }
    }
    const allowed = new Set<string>(c.algorithms);
    const enforce = (c.enforceHeaders ?? []).map(canon);
    const skewMs = c.clockSkew * 1000;

    const fail = (s: PluginSession, message: string, why = message) => {
      s.log(why.slice(0, 160));
      return reject(c.authFailureDelayMs, 'hmac', c.realm, `Unauthorized - ${message}`, 401, 'HmacAuthFailed');
    };

    const succeed = (s: PluginSession, cred: Credential): RequestResult => {
      setConsumer(s, cred.username);
      for (const [h, v] of cred.headers) {
        if (v === undefined) s.removeHeader(h);
        else s.setHeader(h, v);
      }
      if (c.hideCredentials) {
        s.removeHeader('authorization');
        s.removeHeader('proxy-authorization');
        s.removeHeader('signature');
      }
      return undefined;
    };

    return {
      onRequest(s) {
        const found = hmacCredentials(s);
        if (found === undefined) {
          if (c.anonymous !== undefined) {
            for (const h of whitelist) s.removeHeader(h);
            setAnonymous(s, c.anonymous);
            return undefined;
          }
          return fail(s, 'Missing HMAC credentials');
        }
        if (creds.size === 0) {
          s.log('no usable HMAC credentials configured');
          return plainReply(500, '500 Internal Server Error - no HMAC credentials configured', 'HmacAuthNoCredentials');
        }
        if (typeof found === 'string') return fail(s, 'Malformed HMAC credentials', found);
        const { signed } = found;
        const cred = creds.get(signed.username);
        if (!cred) return fail(s, 'HMAC signature cannot be verified', `unknown username ${signed.username.slice(0, 64)}`);
        if (!allowed.has(signed.algorithm)) return fail(s, 'HMAC algorithm not allowed', `algorithm "${signed.algorithm.slice(0, 32)}" not allowed`);
        const dateHeader = signed.canonical.includes('x-date') ? 'x-date' : signed.canonical.includes('date') ? 'date' : undefined;
        if (!dateHeader) return fail(s, 'Date or X-Date must be signed');
        for (const h of enforce) if (!signed.canonical.includes(h)) return fail(s, `Header ${h} must be signed`);
        const dateValue = s.header(dateHeader);
        if (dateValue === undefined) return fail(s, `Signed header ${dateHeader} is missing`);
        if (skewMs > 0) {
          const t = Date.parse(dateValue);
          if (Number.isNaN(t)) return fail(s, `${dateHeader} is not a valid date`);
          if (Math.abs(deps.now() - t) > skewMs) return fail(s, `${dateHeader} is outside the allowed clock skew`);
        }
        const text = signingString(s, signed.headers);
        if (typeof text !== 'string') return fail(s, `Signed header ${text.missing} is missing`);
        const given = Buffer.from(signed.signature, 'base64');
        const hmac = (t: string) => createHmac(HASH[signed.algorithm]!, cred.secret).update(t).digest();
        let good = safeEqual(given, hmac(text));
        if (!good && signed.canonical.includes(TARGET)) good = safeEqual(given, hmac(signingString(s, signed.headers, true) as string));
        if (!good) return fail(s, 'HMAC signature cannot be verified', `bad signature for ${cred.username}`);
        if (!c.validateRequestBody) return succeed(s, cred);

        const digestHeader = DIGEST_HEADERS.find((h) => s.header(h) !== undefined);
        if (!digestHeader) return fail(s, 'Missing body digest', 'validateRequestBody: no Digest, Content-Digest or X-Body-Digest header');
        if (!signed.canonical.includes(digestHeader)) return fail(s, `Header ${digestHeader} must be signed`);
        const digest = s.header(digestHeader)!;
        return s.readBody(c.maxBodyBytes).then(
          (body) => {
            if (body === undefined) {
              s.log(`body larger than maxBodyBytes (${c.maxBodyBytes})`);
              return plainReply(413, '413 Payload Too Large - the body is too large to validate', 'HmacAuthBodyTooLarge');
            }
            if (!digestMatches(digestHeader, digest, body)) return fail(s, 'Body digest does not match');
            return succeed(s, cred);
          },
          () => plainReply(400, '400 Bad Request - the request body could not be read', 'HmacAuthBody'),
        );
      },
    };
  },
});
