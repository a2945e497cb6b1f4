// Code the auth plugins share: common schema fields, Secret access (text and binary), consumer
// headers (DECISIONS.md §28), credential parsing (Basic, auth-params), claim rendering
// (DECISIONS.md §27), a small TTL cache, constant-time comparison, failure replies.

import { createHash, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { parse as parseYaml } from 'yaml';
import type { PluginDeps, PluginReply, PluginSession } from '../../runtime/define-plugin.js';
import { authFailure, CONSUMER, delayed } from '../../runtime/auth-reply.js';
import { claimAt } from '../../../shared/json-path.js';

// ---------------------------------------------------------------------------------------------
// Schema pieces
// ---------------------------------------------------------------------------------------------

export const SecretRefSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Secret name' }),
    namespace: Type.Optional(Type.String({ minLength: 1, description: 'default: the namespace of the EdgionPlugins' })),
  },
);
export type SecretRef = Static<typeof SecretRefSchema>;

export const realmField = (def: string) => Type.String({ minLength: 1, default: def, description: 'realm in WWW-Authenticate' });
export const DelayField = Type.Integer({ minimum: 0, maximum: 60_000, default: 0, description: 'milliseconds to wait before a failure reply' });
export const AnonymousField = Type.Optional(Type.String({ description: 'consumer name for requests without credentials' }));
export const HideField = Type.Boolean({ default: false });

/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function headerNameProblems(names: readonly string[] | undefined, path: string): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  (names ?? []).forEach((n, i) => {
    if (!HEADER_NAME.test(n)) out.push({ path: `${path}[${i}]`, message: `"${n}" is not a valid HTTP header name` });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

/** `ns/name` of a reference, the plugin's namespace by default. */
export function secretId(ref: SecretRef, deps: Pick<PluginDeps, 'namespace'>): string {
  return `${ref.namespace ?? deps.namespace}/${ref.name}`;
}

/** The Secret's data, or undefined when the controller could not resolve it. */
export function secretData(deps: PluginDeps, ref: SecretRef): Record<string, string> | undefined {
  return deps.secrets[secretId(ref, deps)];
}

/** One value as bytes, binary-safe (random keys in `data`). */
export function secretBuffer(deps: PluginDeps, ref: SecretRef, key: string): Buffer | undefined {
  const id = secretId(ref, deps);
  const bin = deps.secretsBinary?.[id]?.[key];
  if (bin !== undefined) return Buffer.from(bin, 'base64');
  const text = deps.secrets[id]?.[key];
  return text === undefined ? undefined : Buffer.from(text, 'utf8');
}

/** A YAML list of maps (keys.yaml, credentials.yaml); scalar values become strings. */
export function parseYamlList(text: string): { entries: Record<string, unknown>[]; error?: string } {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { entries: [], error: `not valid YAML: ${(err as Error).message.split('\n')[0]}` };
  }
  if (doc === null || doc === undefined) return { entries: [] };
  if (!Array.isArray(doc)) return { entries: [], error: 'must be a YAML list of maps' };
  const entries: Record<string, unknown>[] = [];
  for (const e of doc) if (e !== null && typeof e === 'object' && !Array.isArray(e)) entries.push(e as Record<string, unknown>);
  return { entries };
}

/** A scalar as a string (numbers and booleans in YAML files), anything else undefined. */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Consumer headers (DECISIONS.md §28). They belong to the gateway: whatever a client sends under
// these names never reaches the upstream through an auth plugin.
// ---------------------------------------------------------------------------------------------

/** An identified consumer: `X-Consumer-Username` (or none), no `X-Anonymous-Consumer`. */
export function setConsumer(s: PluginSession, username: string | undefined): void {
  const v = username ? headerText(username) : undefined;
  if (v !== undefined) s.setHeader(CONSUMER.username, v);
  else s.removeHeader(CONSUMER.username);
  s.removeHeader(CONSUMER.anonymous);
}

/** Anonymous access: `X-Anonymous-Consumer: true`, and `X-Consumer-Username` when it has a name. */
export function setAnonymous(s: PluginSession, name: string | undefined): void {
  s.setHeader(CONSUMER.anonymous, 'true');
  const v = name ? headerText(name) : undefined;
  if (v !== undefined) s.setHeader(CONSUMER.username, v);
  else s.removeHeader(CONSUMER.username);
}

/** No control characters (tab allowed): the value can go into a header. */
export function isSafeHeaderValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 9) || c === 0x7f) return false;
  }
  return true;
}

/**
 * A value for a request header, or undefined when it cannot be one (control characters). Text
 * beyond ASCII travels as its UTF-8 bytes (HTTP header values are bytes; Node writes them latin1).
 */
export function headerText(v: string): string | undefined {
  if (!isSafeHeaderValue(v)) return undefined;
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(v) ? v : Buffer.from(v, 'utf8').toString('latin1');
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

/**
 * `<scheme> <credentials>` with the scheme compared case-insensitively. Returns the credentials
 * (trimmed), or undefined when the value is absent or uses another scheme.
 */
export function schemeCredentials(value: string | undefined, scheme: string): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const sp = v.indexOf(' ');
  const name = sp === -1 ? v : v.slice(0, sp);
  if (name.toLowerCase() !== scheme.toLowerCase()) return undefined;
  return sp === -1 ? '' : v.slice(sp + 1).trim();
}

export interface UserPass {
  user: string;
  pass: string;
}

/** `base64(user:pass)`; null when it cannot be decoded (malformed credentials). */
export function decodeUserPass(b64: string): UserPass | null {
  if (b64 === '' || !/^[A-Za-z0-9+/=_-]+$/.test(b64)) return null;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  return { user: text.slice(0, colon), pass: text.slice(colon + 1) };
}

/**
 * RFC 9110 auth-params: `k1="v 1", k2=v2`. Keys lower-cased; quoted values unescaped. Returns
 * undefined for text that is not a parameter list.
 */
export function parseAuthParams(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let i = 0;
  const n = text.length;
  const skipWs = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  while (i < n) {
    skipWs();
    if (text[i] === ',') {
      i++;
      continue;
    }
    const eq = text.indexOf('=', i);
    if (eq === -1) return undefined;
    const key = text.slice(i, eq).trim().toLowerCase();
    if (!key || !HEADER_NAME.test(key)) return undefined;
    i = eq + 1;
    skipWs();
    let value = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i]!;
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) return undefined;
    } else {
      const end = text.indexOf(',', i);
      value = (end === -1 ? text.slice(i) : text.slice(i, end)).trim();
      i = end === -1 ? n : end;
    }
    out[key] = value;
    skipWs();
    if (i < n && text[i] !== ',') return undefined;
  }
  return out;
}

/** Equal, in time that does not depend on where the inputs differ. */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** A cache key for credentials that never keeps them in clear. */
export function credentialKey(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('base64');
}

// ---------------------------------------------------------------------------------------------
// Claims and payload values in headers (DECISIONS.md §27)
// ---------------------------------------------------------------------------------------------

/** Strings as they are; numbers and booleans as JSON; arrays joined by `,`; objects as JSON. */
export function renderValue(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',');
  return JSON.stringify(v);
}


export interface HeaderMapping {
  path: string;
  header: string;
}

/** `{claimPath: Header}` from a config map, header names lower-cased. */
export function headerMappings(map: Record<string, string> | undefined): HeaderMapping[] {
  return Object.entries(map ?? {}).map(([path, header]) => ({ path, header: header.toLowerCase() }));
}

export function mappingProblems(map: Record<string, string> | undefined, path: string): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const [k, h] of Object.entries(map ?? {})) {
    if (k === '') out.push({ path, message: 'a claim path cannot be empty' });
    if (!HEADER_NAME.test(h)) out.push({ path: `${path}.${k}`, message: `"${h}" is not a valid HTTP header name` });
  }
  return out;
}

/**
 * Copies values of `doc` into request headers. A mapped value that is missing, unsafe or over the
 * size limits removes the header instead, so a client cannot supply it. Returns what it skipped.
 */
export function applyHeaderMappings(s: PluginSession, doc: unknown, maps: readonly HeaderMapping[], maxValue = Infinity, maxTotal = Infinity): string[] {
  const skipped: string[] = [];
  let total = 0;
  for (const m of maps) {
    const rendered = renderValue(claimAt(doc, m.path));
    if (rendered === undefined) {
      s.removeHeader(m.header);
      continue;
    }
    const v = headerText(rendered);
    const size = v === undefined ? 0 : v.length;
    if (v === undefined || size > maxValue || total + size > maxTotal) {
      s.removeHeader(m.header);
      skipped.push(m.header);
      continue;
    }
    total += size;
    s.setHeader(m.header, v);
  }
  return skipped;
}

// ---------------------------------------------------------------------------------------------
// Replies and caches
// ---------------------------------------------------------------------------------------------

/** An auth failure (plugins.md §3.1) after `delayMs`. */
export function reject(delayMs: number, scheme: string, realm: string, message: string, status = 401, error = 'AuthFailed'): PluginReply | Promise<PluginReply> {
  return delayed(delayMs, authFailure(scheme, realm, message, status, error));
}

/** A text/plain reply without WWW-Authenticate (503 and the like). */
export function plainReply(status: number, body: string, error: string): PluginReply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body, error };
}

/** Entries that expire; at most `max` of them (the oldest go first). */
export class TtlCache<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();

  constructor(private readonly max = 10_000) {}

  get(key: string, now: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expires <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlMs: number, now: number): void {
    if (ttlMs <= 0) return;
    this.map.delete(key);
    this.map.set(key, { value, expires: now + ttlMs });
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }

  get size(): number {
    return this.map.size;
  }
}
