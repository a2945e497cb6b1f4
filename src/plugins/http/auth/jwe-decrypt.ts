// JweDecrypt (plugins.md §4.8): a compact JWE with direct key agreement (`alg: dir`) read from
// a header, decrypted with jose and the key of a Secret; the plaintext replaces the token in
// `forwardHeader`, optionally goes to ctx (`jwe_payload`) and, when it is JSON, field by field to
// request headers (DECISIONS.md §27). Errors use the auth format (scheme Bearer, realm edgion):
// missing token 403 (strict), malformed/unsupported/too large 400, no key or undecryptable 403,
// a key of the wrong length 500.

import { createSecretKey, type KeyObject } from 'node:crypto';
import { compactDecrypt } from 'jose';
import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginSession, type RequestResult } from '../../runtime/define-plugin.js';
import { applyHeaderMappings, DelayField, headerMappings, headerText, HEADER_NAME, HideField, mappingProblems, reject, secretBuffer, secretData, secretId, SecretRefSchema } from './common.js';

/** Content encryption algorithms: key and IV lengths in bytes. */
export const ENCS: Record<string, { key: number; iv: number; tag: number }> = {
  A128GCM: { key: 16, iv: 12, tag: 16 },
  A192GCM: { key: 24, iv: 12, tag: 16 },
  A256GCM: { key: 32, iv: 12, tag: 16 },
  'A128CBC-HS256': { key: 32, iv: 16, tag: 16 },
  'A192CBC-HS384': { key: 48, iv: 16, tag: 24 },
  'A256CBC-HS512': { key: 64, iv: 16, tag: 32 },
};
const ENC_NAMES = Object.keys(ENCS);

const Schema = Type.Object({
  secretRef: SecretRefSchema,
  base64Secret: Type.Boolean({ default: false }),
  keyManagementAlgorithm: Type.String({ default: 'Dir', description: 'only direct key agreement (Dir, any case)' }),
  contentEncryptionAlgorithm: Type.Enum(ENC_NAMES, { default: 'A256GCM' }),
  allowedAlgorithms: Type.Optional(Type.Array(Type.Enum(ENC_NAMES), { minItems: 1, description: 'accepted `enc` values (default: contentEncryptionAlgorithm only)' })),
  header: Type.String({ minLength: 1, default: 'authorization' }),
  forwardHeader: Type.String({ minLength: 1, default: 'authorization' }),
  stripPrefix: Type.Optional(Type.String()),
  strict: Type.Boolean({ default: true }),
  hideCredentials: HideField,
  maxTokenSize: Type.Integer({ minimum: 1, default: 8192 }),
  storePayloadInCtx: Type.Optional(Type.Boolean()),
  payloadToHeaders: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
  maxHeaderValueBytes: Type.Integer({ minimum: 1, default: 4096 }),
  maxTotalHeaderBytes: Type.Integer({ minimum: 1, default: 16384 }),
  authFailureDelayMs: DelayField,
});

const B64URL = /^[A-Za-z0-9_-]*$/;

/** The protected header of a compact JWE after the structural checks, or the 400 reason. */
export function inspectJwe(token: string): { enc: string; alg: string; zip?: unknown } | string {
  const parts = token.split('.');
  if (parts.length !== 5) return 'a compact JWE has 5 parts';
  if (!parts.every((p) => B64URL.test(p))) return 'a part is not base64url';
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return 'the protected header is not JSON';
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return 'the protected header is not a JSON object';
  if (typeof header.alg !== 'string') return 'no alg';
  if (typeof header.enc !== 'string') return 'no enc';
  const spec = ENCS[header.enc];
  if (spec && header.alg === 'dir') {
    if (parts[1] !== '') return 'dir needs an empty encrypted key';
    if (Buffer.from(parts[2]!, 'base64url').length !== spec.iv) return `the IV must be ${spec.iv} bytes`;
    if (Buffer.from(parts[4]!, 'base64url').length !== spec.tag) return `the tag must be ${spec.tag} bytes`;
    if (parts[3] === '') return 'no ciphertext';
  }
  return { alg: header.alg, enc: header.enc, ...(header.zip !== undefined ? { zip: header.zip } : {}) };
}

export const JweDecrypt = definePlugin({
  type: 'JweDecrypt',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    if (c.keyManagementAlgorithm.toLowerCase() !== 'dir') out.push({ path: 'keyManagementAlgorithm', message: `only direct key agreement (Dir) is supported (got "${c.keyManagementAlgorithm}")` });
    for (const f of ['header', 'forwardHeader'] as const) if (!HEADER_NAME.test(c[f])) out.push({ path: f, message: `"${c[f]}" is not a valid HTTP header name` });
    out.push(...mappingProblems(c.payloadToHeaders, 'payloadToHeaders'));
    return out;
  },
  secretRefs: (c) => [c.secretRef],
  create(c, deps) {
    const allowed = new Set(c.allowedAlgorithms ?? [c.contentEncryptionAlgorithm]);
    const id = secretId(c.secretRef, deps);
    let key: Buffer | undefined;
    if (!secretData(deps, c.secretRef)) deps.log.warn({ secret: id }, `JweDecrypt: Secret ${id} is missing; every token is refused`);
    else {
      key = secretBuffer(deps, c.secretRef, 'secret');
      if (key === undefined || key.length === 0) deps.log.warn({ secret: id }, `JweDecrypt: Secret ${id} has no "secret"; every token is refused`);
      else if (c.base64Secret) key = Buffer.from(key.toString('utf8').trim(), 'base64');
    }
    const keys = new Map<number, KeyObject>();
    if (key?.length) {
      keys.set(key.length, createSecretKey(key));
      if (key.length !== ENCS[c.contentEncryptionAlgorithm]!.key) {
        deps.log.warn({ secret: id }, `JweDecrypt: the key of ${id} is ${key.length} bytes; ${c.contentEncryptionAlgorithm} needs ${ENCS[c.contentEncryptionAlgorithm]!.key}`);
      }
    }
    const source = c.header.toLowerCase();
    const forward = c.forwardHeader.toLowerCase();
    const maps = headerMappings(c.payloadToHeaders);
    const prefix = c.stripPrefix;

    const fail = (s: PluginSession, status: number, message: string, why = message) => {
      s.log(why.slice(0, 160));
      return reject(c.authFailureDelayMs, 'Bearer', 'edgion', message, status, `JweDecrypt${status}`);
    };

    const token = (raw: string): string => {
      let t = raw.trim();
      if (prefix) {
        if (t.startsWith(prefix)) t = t.slice(prefix.length);
        else if (t.toLowerCase().startsWith(prefix.toLowerCase())) t = t.slice(prefix.length);
      } else if (/^bearer(\s|$)/i.test(t)) {
        t = t.slice(6);
      }
      return t.trim();
    };

    return {
      async onRequest(s): Promise<RequestResult> {
        const raw = s.header(source);
        const jwe = raw === undefined ? '' : token(raw);
        if (jwe === '') {
          if (c.strict) return fail(s, 403, 'JWE token required');
          return undefined;
        }
        if (jwe.length > c.maxTokenSize) return fail(s, 400, 'JWE token too large', `token of ${jwe.length} bytes > maxTokenSize ${c.maxTokenSize}`);
        const h = inspectJwe(jwe);
        if (typeof h === 'string') return fail(s, 400, 'Malformed JWE token', h);
        if (h.alg !== 'dir') return fail(s, 400, 'Unsupported JWE algorithm', `alg ${h.alg.slice(0, 32)} (only dir)`);
        if (!ENCS[h.enc]) return fail(s, 400, 'Unsupported JWE algorithm', `enc ${h.enc.slice(0, 32)}`);
        if (!allowed.has(h.enc)) return fail(s, 400, 'JWE algorithm not allowed', `enc ${h.enc} not allowed`);
        if (h.zip !== undefined) return fail(s, 400, 'Unsupported JWE algorithm', 'compressed (zip) tokens are not accepted');
        if (!key?.length) return fail(s, 403, 'JWE decryption key not configured');
        const k = keys.get(ENCS[h.enc]!.key);
        if (!k) return fail(s, 500, 'JWE key has the wrong length', `${h.enc} needs a ${ENCS[h.enc]!.key}-byte key, the Secret has ${key.length}`);
        let plaintext: string;
        try {
          const r = await compactDecrypt(jwe, k, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: [h.enc] });
          plaintext = Buffer.from(r.plaintext).toString('utf8');
        } catch (err) {
          return fail(s, 403, 'JWE decryption failed', (err as Error).message);
        }
        let doc: unknown;
        try {
          doc = JSON.parse(plaintext);
        } catch {
          doc = undefined;
        }
        // Pretty-printed JSON travels compact (a header value has no line breaks).
        let forwarded = headerText(plaintext);
        if (forwarded === undefined && doc !== undefined) forwarded = headerText(JSON.stringify(doc));
        if (forwarded === undefined) return fail(s, 400, 'JWE payload cannot be forwarded in a header', 'the payload has control characters');
        if (c.hideCredentials && source !== forward) s.removeHeader(source);
        s.setHeader(forward, forwarded);
        if (c.storePayloadInCtx) s.setVar('jwe_payload', plaintext);
        if (maps.length) {
          if (doc === undefined) s.log('payload is not JSON: payloadToHeaders skipped');
          const skipped = applyHeaderMappings(s, doc, maps, c.maxHeaderValueBytes, c.maxTotalHeaderBytes);
          if (skipped.length) s.log(`payload fields not forwarded (size or control characters): ${skipped.join(',')}`);
        }
        return undefined;
      },
    };
  },
});
