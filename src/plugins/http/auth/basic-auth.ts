// BasicAuth (plugins.md §4.1): `Authorization: Basic base64(user:pass)` checked against users
// from Secrets (one user per Secret: `username`, `password` in an htpasswd format). Successful
// verifications are cached for 300 s, so bcrypt costs once per user and password.

import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginSession, type RequestResult } from '../../runtime/define-plugin.js';
import { AnonymousField, credentialKey, decodeUserPass, DelayField, HideField, realmField, reject, schemeCredentials, secretData, secretId, SecretRefSchema, setAnonymous, setConsumer, TtlCache } from './common.js';
import { passwordVerifier, type PasswordVerifier } from './htpasswd.js';

const Schema = Type.Object({
  secretRefs: Type.Optional(Type.Array(SecretRefSchema, { minItems: 1, description: 'one user per Secret (keys username, password)' })),
  realm: realmField('API Gateway'),
  hideCredentials: HideField,
  anonymous: AnonymousField,
  authFailureDelayMs: DelayField,
});

const CACHE_TTL_MS = 300_000;
const MESSAGE = 'Unauthorized - Authentication required';

export const BasicAuth = definePlugin({
  type: 'BasicAuth',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    if (c.secretRefs === undefined && c.anonymous === undefined) out.push({ path: 'secretRefs', message: 'BasicAuth needs secretRefs (the users) or an anonymous consumer' });
    return out;
  },
  secretRefs: (c) => c.secretRefs ?? [],
  create(c, deps) {
    const users = new Map<string, PasswordVerifier>();
    for (const ref of c.secretRefs ?? []) {
      const data = secretData(deps, ref);
      const id = secretId(ref, deps);
      if (!data) {
        deps.log.warn({ secret: id }, `BasicAuth: Secret ${id} is missing; its user cannot log in`);
        continue;
      }
      const user = data.username;
      const pass = data.password;
      if (!user || pass === undefined || pass === '') {
        deps.log.warn({ secret: id }, `BasicAuth: Secret ${id} needs the keys username and password`);
        continue;
      }
      if (users.has(user)) {
        deps.log.warn({ secret: id, user }, `BasicAuth: user ${user} is defined again in ${id}; the first definition wins`);
        continue;
      }
      users.set(user, passwordVerifier(pass));
    }
    const cache = new TtlCache<true>(10_000);
    const fail = (s: PluginSession, why: string) => {
      s.log(why);
      return reject(c.authFailureDelayMs, 'Basic', c.realm, MESSAGE, 401, 'BasicAuthFailed');
    };
    const succeed = (s: PluginSession, user: string): RequestResult => {
      setConsumer(s, user);
      if (c.hideCredentials) s.removeHeader('authorization');
      return undefined;
    };

    return {
      onRequest(s) {
        const creds = schemeCredentials(s.header('authorization'), 'basic');
        if (creds === undefined) {
          if (c.anonymous !== undefined) {
            setAnonymous(s, c.anonymous);
            return undefined;
          }
          return fail(s, 'no basic credentials');
        }
        const up = decodeUserPass(creds);
        if (!up) return fail(s, 'malformed basic credentials');
        const verify = users.get(up.user);
        if (!verify) return fail(s, `unknown user ${up.user.slice(0, 64)}`);
        const key = credentialKey(up.user, up.pass);
        const now = deps.now();
        if (cache.get(key, now)) return succeed(s, up.user);
        const ok = verify(up.pass);
        const decide = (good: boolean) => {
          if (!good) return fail(s, `wrong password for ${up.user.slice(0, 64)}`);
          cache.set(key, true, CACHE_TTL_MS, deps.now());
          return succeed(s, up.user);
        };
        return typeof ok === 'boolean' ? decide(ok) : ok.then(decide);
      },
    };
  },
});
