// Csrf (plugins.md §4.11, DECISIONS.md §37): double-submit cookie. Safe requests (GET, HEAD) get a
// signed token cookie (kept when they already carry a valid one); other methods must send the same
// token in the header named like the cookie, with a valid signature, not expired. OPTIONS is a safe
// method too (RFC 9110): it is let through without a cookie, so CORS preflights keep working.
//
// Token: base64 of JSON {"random": <64 hex>, "expires": <unix seconds when issued>, "sign": <hex
// SHA-256 of "{expires:<ts>,random:<random>,key:<key>}">}; it is valid for `expires` seconds after
// the time it carries (as in the original).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginReply } from '../../runtime/define-plugin.js';

const Schema = Type.Object({
  key: Type.String({ minLength: 1, description: 'signing secret' }),
  expires: Type.Integer({ minimum: 1, maximum: 31_536_000, default: 7200 }),
  name: Type.String({ default: 'apisix-csrf-token', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }),
});

const sign = (random: string, ts: number, key: string) => createHash('sha256').update(`{expires:${ts},random:${random},key:${key}}`).digest('hex');

export function issueCsrfToken(key: string, nowSec: number): string {
  const random = randomBytes(32).toString('hex');
  return Buffer.from(JSON.stringify({ random, expires: nowSec, sign: sign(random, nowSec, key) })).toString('base64');
}

/** True when the token is well formed, signed with `key` and issued at most `lifetime` s ago. */
export function verifyCsrfToken(token: string, key: string, lifetime: number, nowSec: number): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== 'object') return false;
  const { random, expires, sign: given } = parsed as Record<string, unknown>;
  if ((typeof random !== 'string' && typeof random !== 'number') || typeof expires !== 'number' || !Number.isFinite(expires) || typeof given !== 'string') return false;
  if (nowSec - expires > lifetime) return false;
  const expected = Buffer.from(sign(String(random), expires, key));
  const got = Buffer.from(given.toLowerCase());
  return got.length === expected.length && timingSafeEqual(got, expected);
}

const fail = (msg: string, error: string): PluginReply => ({ status: 401, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error_msg: msg }), error });

export const Csrf = definePlugin({
  type: 'Csrf',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const problems: PluginProblem[] = [];
    if (c.key.length < 16) problems.push({ path: 'key', message: 'key is shorter than 16 characters: use a long random string', severity: 'warning' });
    return problems;
  },
  create(c, deps) {
    const cookieAttrs = `; Path=/; Secure; SameSite=Lax; Max-Age=${c.expires}`;
    const name = c.name;
    return {
      onRequest(s) {
        const nowSec = Math.floor(deps.now() / 1000);
        const method = s.method;
        if (method === 'GET' || method === 'HEAD') {
          const existing = s.cookie(name);
          if (existing !== undefined && verifyCsrfToken(existing, c.key, c.expires, nowSec)) return undefined;
          s.appendResponseHeader('set-cookie', `${name}=${issueCsrfToken(c.key, nowSec)}${cookieAttrs}`);
          s.log('token issued');
          return undefined;
        }
        if (method === 'OPTIONS') return undefined;
        const header = s.header(name);
        if (header === undefined || header === '') return fail('no csrf token in headers', 'CsrfNoHeader');
        const cookie = s.cookie(name);
        if (cookie === undefined || cookie === '') return fail('no csrf cookie', 'CsrfNoCookie');
        if (header !== cookie) return fail('csrf token mismatch', 'CsrfMismatch');
        if (!verifyCsrfToken(cookie, c.key, c.expires, nowSec)) return fail('Failed to verify the csrf token signature', 'CsrfInvalid');
        return undefined;
      },
    };
  },
});
