// OpenidConnect helpers: the encrypted cookies (plugins.md §4.7: `base64url(nonce).base64url(ciphertext)`,
// AES-256-GCM with key = SHA-256(session secret); the GCM tag is appended to the ciphertext),
// cookie strings, and rendering claims as header values (DECISIONS.md §27).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export function sessionKey(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function seal(key: Buffer, value: unknown): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${nonce.toString('base64url')}.${ct.toString('base64url')}`;
}

/** The sealed object, or undefined when the value was not sealed with this key (or was altered). */
export function unseal<T>(key: Buffer, value: string | undefined): T | undefined {
  if (!value) return undefined;
  const dot = value.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const nonce = Buffer.from(value.slice(0, dot), 'base64url');
    const data = Buffer.from(value.slice(dot + 1), 'base64url');
    if (nonce.length !== 12 || data.length < 17) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAuthTag(data.subarray(data.length - 16));
    const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    const parsed = JSON.parse(plain.toString('utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as T) : undefined;
  } catch {
    return undefined;
  }
}

export interface CookieAttrs {
  path: string;
  maxAge: number;
  httpOnly: boolean;
  secure: boolean;
  sameSite: string;
}

export function cookieString(name: string, value: string, a: CookieAttrs): string {
  return `${name}=${value}; Path=${a.path}; Max-Age=${a.maxAge}${a.httpOnly ? '; HttpOnly' : ''}${a.secure ? '; Secure' : ''}${a.sameSite ? `; SameSite=${a.sameSite}` : ''}`;
}

/** Claim value as a header value: strings as they are, scalars as JSON, arrays joined by `,`, objects as JSON. */
export function renderClaim(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',');
  return JSON.stringify(v);
}


/** Header values must not carry control characters (CR, LF, NUL...). */
export function safeHeaderValue(v: string): string {
  // eslint-disable-next-line no-control-regex
  return v.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ');
}

/** Scopes granted by a token: `scope` (space separated) or `scp` (array or string). */
export function tokenScopes(claims: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const v of [claims.scope, claims.scp]) {
    if (typeof v === 'string') for (const s of v.split(/\s+/)) if (s) out.add(s);
    if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') out.add(s);
  }
  return out;
}
