// LdapAuth (plugins.md §4.5): `Authorization: <headerType> base64(user:pass)` (Proxy-
// Authorization preferred) checked by a simple bind with the user's own credentials (ldapts).
// Result 49 (invalid credentials) → 401; the directory unreachable or any other error → 503.
// Successful binds are cached for `cacheTtl` seconds; connections are reused for `keepalive` ms.

import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError } from 'ldapts';
import { Type, type Static } from 'typebox';
import { definePlugin, type PluginProblem, type PluginSession, type RequestResult } from '../../runtime/define-plugin.js';
import { AnonymousField, credentialKey, decodeUserPass, DelayField, HEADER_NAME, headerText, HideField, plainReply, realmField, reject, schemeCredentials, setAnonymous, setConsumer, TtlCache } from './common.js';

const Schema = Type.Object({
  ldapHost: Type.String({ minLength: 1 }),
  ldapPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'default 389, or 636 with ldaps' })),
  ldaps: Type.Boolean({ default: false }),
  startTls: Type.Boolean({ default: false }),
  verifyLdapHost: Type.Boolean({ default: true }),
  baseDn: Type.String({ minLength: 1 }),
  attribute: Type.String({ minLength: 1 }),
  bindDnTemplate: Type.Optional(Type.String({ minLength: 1 })),
  headerType: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]+$', default: 'ldap' }),
  hideCredentials: HideField,
  anonymous: AnonymousField,
  realm: realmField('API Gateway'),
  cacheTtl: Type.Integer({ minimum: 0, default: 60, description: 'seconds a successful bind is remembered (0 = never)' }),
  timeout: Type.Integer({ minimum: 1, default: 10_000, description: 'ms for connecting and for each LDAP operation' }),
  keepalive: Type.Integer({ minimum: 0, default: 60_000, description: 'ms an idle connection is kept for reuse' }),
  credentialIdentifierHeader: Type.String({ minLength: 1, default: 'X-Credential-Identifier' }),
  anonymousHeader: Type.String({ minLength: 1, default: 'X-Anonymous-Consumer' }),
  authFailureDelayMs: DelayField,
});

/** An RDN value escaped as RFC 4514 says, so a username cannot change the DN's structure. */
export function escapeDnValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    if (ch === '\0') out += '\\00';
    else if ('\\,+"<>;='.includes(ch)) out += `\\${ch}`;
    else if ((i === 0 && (ch === ' ' || ch === '#')) || (i === v.length - 1 && ch === ' ')) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

export function bindDn(user: string, c: { attribute: string; baseDn: string; bindDnTemplate?: string | undefined }): string {
  const u = escapeDnValue(user);
  return c.bindDnTemplate ? c.bindDnTemplate.split('{username}').join(u) : `${c.attribute}=${u},${c.baseDn}`;
}

type BindResult = 'ok' | 'invalid';

/** LDAP connections: one per concurrent bind, idle ones kept for `keepalive` ms. */
class LdapConnections {
  private readonly idle: { client: Client; timer: NodeJS.Timeout }[] = [];
  private closed = false;
  private readonly url: string;
  private readonly tls: ConnectionOptions;

  constructor(private readonly c: Static<typeof Schema>) {
    const host = net.isIPv6(c.ldapHost) ? `[${c.ldapHost}]` : c.ldapHost;
    this.url = `${c.ldaps ? 'ldaps' : 'ldap'}://${host}:${c.ldapPort ?? (c.ldaps ? 636 : 389)}`;
    this.tls = { rejectUnauthorized: c.verifyLdapHost, host: c.ldapHost, ...(net.isIP(c.ldapHost) ? {} : { servername: c.ldapHost }) };
  }

  private async open(): Promise<Client> {
    const client = new Client({ url: this.url, timeout: this.c.timeout, connectTimeout: this.c.timeout, strictDN: false, ...(this.c.ldaps ? { tlsOptions: this.tls } : {}) });
    if (this.c.startTls) {
      try {
        await client.startTLS({ ...this.tls });
      } catch (err) {
        void client.unbind().catch(() => undefined);
        throw err;
      }
    }
    return client;
  }

  private take(): Client | undefined {
    while (this.idle.length) {
      const e = this.idle.pop()!;
      clearTimeout(e.timer);
      if (e.client.isConnected) return e.client;
      void e.client.unbind().catch(() => undefined);
    }
    return undefined;
  }

  private give(client: Client): void {
    if (this.closed || this.c.keepalive <= 0 || this.idle.length >= 16 || !client.isConnected) {
      void client.unbind().catch(() => undefined);
      return;
    }
    const entry = {
      client,
      timer: setTimeout(() => {
        const i = this.idle.indexOf(entry);
        if (i !== -1) this.idle.splice(i, 1);
        void client.unbind().catch(() => undefined);
      }, this.c.keepalive),
    };
    entry.timer.unref();
    this.idle.push(entry);
  }

  async bind(dn: string, password: string): Promise<BindResult> {
    const client = this.take() ?? (await this.open());
    try {
      // A DN object: a DN string that happens to be a SASL mechanism name must stay a simple bind.
      await client.bind({ toString: () => dn } as unknown as string, password);
      this.give(client);
      return 'ok';
    } catch (err) {
      if (err instanceof InvalidCredentialsError) {
        this.give(client);
        return 'invalid';
      }
      void client.unbind().catch(() => undefined);
      throw err;
    }
  }

  close(): void {
    this.closed = true;
    for (const e of this.idle.splice(0)) {
      clearTimeout(e.timer);
      void e.client.unbind().catch(() => undefined);
    }
  }
}

export const LdapAuth = definePlugin({
  type: 'LdapAuth',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    if (c.ldaps && c.startTls) out.push({ path: 'startTls', message: 'ldaps and startTls cannot both be set (ldaps is TLS from the start)' });
    if (c.bindDnTemplate !== undefined && !c.bindDnTemplate.includes('{username}')) out.push({ path: 'bindDnTemplate', message: 'must contain {username}' });
    for (const f of ['credentialIdentifierHeader', 'anonymousHeader'] as const) if (!HEADER_NAME.test(c[f])) out.push({ path: f, message: `"${c[f]}" is not a valid HTTP header name` });
    return out;
  },
  create(c, deps) {
    const conns = new LdapConnections(c);
    const cache = new TtlCache<true>(10_000);
    const idHeader = c.credentialIdentifierHeader.toLowerCase();
    const anonHeader = c.anonymousHeader.toLowerCase();

    const fail = (s: PluginSession, why: string) => {
      s.log(why);
      return reject(c.authFailureDelayMs, c.headerType, c.realm, 'Unauthorized', 401, 'LdapAuthFailed');
    };
    const succeed = (s: PluginSession, user: string, header: string): RequestResult => {
      setConsumer(s, user);
      const id = headerText(user);
      if (id !== undefined) s.setHeader(idHeader, id);
      else s.removeHeader(idHeader);
      s.removeHeader(anonHeader);
      if (c.hideCredentials) s.removeHeader(header);
      return undefined;
    };

    return {
      onRequest(s) {
        let header = 'proxy-authorization';
        let creds = schemeCredentials(s.header(header), c.headerType);
        if (creds === undefined) {
          header = 'authorization';
          creds = schemeCredentials(s.header(header), c.headerType);
        }
        if (creds === undefined) {
          if (c.anonymous !== undefined) {
            // DECISIONS §28: anonymous consumers get no credential headers (no identifier).
            setAnonymous(s, c.anonymous);
            s.setHeader(anonHeader, 'true');
            s.removeHeader(idHeader);
            return undefined;
          }
          return fail(s, 'no credentials');
        }
        const up = decodeUserPass(creds);
        if (!up) return fail(s, 'malformed credentials');
        // An empty password would be an unauthenticated bind, which LDAP servers accept.
        if (up.pass === '') return fail(s, 'empty password');
        const key = credentialKey(up.user, up.pass);
        if (cache.get(key, deps.now())) return succeed(s, up.user, header);
        return conns.bind(bindDn(up.user, c), up.pass).then(
          (r) => {
            if (r === 'invalid') return fail(s, `invalid credentials for ${up.user.slice(0, 64)}`);
            cache.set(key, true, c.cacheTtl * 1000, deps.now());
            return succeed(s, up.user, header);
          },
          (err: unknown) => {
            s.log(`LDAP error: ${(err as Error).message}`.slice(0, 160));
            deps.log.warn({ err: (err as Error).message, ldap: `${c.ldapHost}:${c.ldapPort ?? (c.ldaps ? 636 : 389)}` }, 'LdapAuth: LDAP server unreachable or failing');
            return plainReply(503, '503 An unexpected error occurred', 'LdapAuthUnavailable');
          },
        );
      },
      close() {
        conns.close();
      },
    };
  },
});
