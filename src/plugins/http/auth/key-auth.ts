// KeyAuth (plugins.md §4.2): an API key from the first key source that has one (header, query,
// cookie, ctx variable, LinkSys webhook), looked up in `keys.yaml` of the referenced Secrets.
// A valid key sets the whitelisted fields of its entry as request headers (a client's own value
// of a whitelisted header never survives); no key → anonymous consumer or 401; unknown key → 401.

import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginSession, type RequestResult } from '../../runtime/define-plugin.js';
import { compileKeyGet, describeKey, keyGetProblems, KeyGetSchema, type KeyAccessor, type KeyGet } from '../../runtime/key-get.js';
import { CONSUMER } from '../../runtime/auth-reply.js';
import { AnonymousField, DelayField, headerNameProblems, headerText, HideField, parseYamlList, realmField, reject, scalarText, secretData, secretId, SecretRefSchema, setAnonymous } from './common.js';

const SOURCE_TYPES = ['header', 'query', 'cookie', 'ctx', 'webhook'];

const Schema = Type.Object({
  keySources: Type.Array(KeyGetSchema, {
    minItems: 1,
    default: [
      { type: 'header', name: 'apikey' },
      { type: 'query', name: 'apikey' },
    ],
    description: 'where the key is looked for, in order; the first source with a value wins',
  }),
  secretRefs: Type.Optional(Type.Array(SecretRefSchema, { description: 'Secrets with a keys.yaml' })),
  keyField: Type.String({ minLength: 1, default: 'key' }),
  upstreamHeaderFields: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  hideCredentials: HideField,
  anonymous: AnonymousField,
  realm: realmField('API Gateway'),
  authFailureDelayMs: DelayField,
});

interface Source {
  key: KeyGet;
  get: KeyAccessor;
}

/** What a valid key does to the request headers (lower-case names): headers it sets, headers it removes. */
interface Consumer {
  set: [string, string][];
  remove: string[];
}

export const KeyAuth = definePlugin({
  type: 'KeyAuth',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    c.keySources.forEach((k, i) => {
      if (!SOURCE_TYPES.includes(k.type)) out.push({ path: `keySources[${i}].type`, message: `KeyAuth reads keys from ${SOURCE_TYPES.join(', ')} only (got "${k.type}")` });
      else out.push(...keyGetProblems(k, `keySources[${i}]`));
    });
    out.push(...headerNameProblems(c.upstreamHeaderFields, 'upstreamHeaderFields'));
    if (!c.secretRefs?.length && c.anonymous === undefined) out.push({ path: 'secretRefs', message: 'no secretRefs: every key is rejected', severity: 'warning' });
    return out;
  },
  secretRefs: (c) => c.secretRefs ?? [],
  linkSysRefs: (c) => c.keySources.filter((k) => k.type === 'webhook' && k.webhookRef).map((k) => k.webhookRef!),
  create(c, deps) {
    const whitelist = [...new Set(c.upstreamHeaderFields.map((f) => f.toLowerCase()))];
    const keys = new Map<string, Consumer>();
    for (const ref of c.secretRefs ?? []) {
      const id = secretId(ref, deps);
      const text = secretData(deps, ref)?.['keys.yaml'];
      if (text === undefined) {
        deps.log.warn({ secret: id }, `KeyAuth: Secret ${id} is missing or has no keys.yaml; its keys are rejected`);
        continue;
      }
      const { entries, error } = parseYamlList(text);
      if (error) deps.log.warn({ secret: id }, `KeyAuth: keys.yaml of ${id} ${error}`);
      for (const e of entries) {
        const key = scalarText(e[c.keyField]);
        if (key === undefined || key === '' || keys.has(key)) continue; // first wins
        const fields = new Map<string, string>();
        for (const [k, v] of Object.entries(e)) {
          const t = scalarText(v);
          if (t !== undefined) fields.set(k.toLowerCase(), t);
        }
        // Consumer headers are the gateway's: a client's values never pass (those not set are removed).
        const set: [string, string][] = [];
        for (const h of whitelist) {
          const v = fields.get(h);
          const text = v === undefined ? undefined : headerText(v); // an unsafe value is not sent: removed
          if (text !== undefined) set.push([h, text]);
        }
        const remove = [...new Set([CONSUMER.anonymous, CONSUMER.username, ...whitelist])].filter((h) => !set.some(([n]) => n === h));
        keys.set(key, { set, remove });
      }
    }
    const sources: Source[] = c.keySources.map((k) => ({ key: k, get: compileKeyGet(k, deps.webhook) }));
    const anonymousHeaders = whitelist.filter((h) => h !== CONSUMER.username && h !== CONSUMER.anonymous);

    const decide = (s: PluginSession, key: string | undefined, from: Source | undefined): RequestResult | Promise<RequestResult> => {
      if (key === undefined || from === undefined) {
        if (c.anonymous !== undefined) {
          for (const h of anonymousHeaders) s.removeHeader(h);
          setAnonymous(s, c.anonymous);
          return undefined;
        }
        s.log('no key');
        return reject(c.authFailureDelayMs, 'ApiKey', c.realm, 'Unauthorized - Missing API key', 401, 'KeyAuthMissing');
      }
      const consumer = keys.get(key);
      if (consumer === undefined) {
        s.log(`invalid key from ${describeKey(from.key)}`);
        return reject(c.authFailureDelayMs, 'ApiKey', c.realm, 'Unauthorized - Invalid API key', 401, 'KeyAuthInvalid');
      }
      for (let i = 0; i < consumer.remove.length; i++) s.removeHeader(consumer.remove[i]!);
      for (let i = 0; i < consumer.set.length; i++) s.setHeader(consumer.set[i]![0], consumer.set[i]![1]);
      if (c.hideCredentials) {
        if (from.key.type === 'header') s.removeHeader(from.key.name!);
        else if (from.key.type === 'ctx') s.removeVar(from.key.name!);
      }
      return undefined;
    };

    const find = (s: PluginSession, i: number): RequestResult | Promise<RequestResult> => {
      for (; i < sources.length; i++) {
        const src = sources[i]!;
        const v = src.get(s);
        if (v instanceof Promise) {
          const next = i + 1;
          return v.then((val) => (val !== undefined && val !== '' ? decide(s, val, src) : find(s, next)));
        }
        if (v !== undefined && v !== '') return decide(s, v, src);
      }
      return decide(s, undefined, undefined);
    };

    return { onRequest: (s) => find(s, 0) };
  },
});
