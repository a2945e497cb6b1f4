// DynamicExternalUpstream (plugins.md §4.26): sends the request to an external domain chosen from
// `domainMap` by a request value. The gateway resolves the domain on every attempt and refuses
// loopback results (src/gateway/proxy/http-proxy.ts forwardExternal); logs name the backend
// `_external_`.
import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginReply, type PluginSession, type UpstreamOverride } from '../../runtime/define-plugin.js';
import { badRequest, compileFrom, FromFields, fromProblems } from './upstream-common.js';

const HOST = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;

const Target = Type.Object({
  domain: Type.String({ minLength: 1 }),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  tls: Type.Boolean({ default: true }),
  overrideHost: Type.Optional(Type.String({ minLength: 1 })),
  sni: Type.Optional(Type.String({ minLength: 1 })),
});

const Schema = Type.Object({
  ...FromFields,
  domainMap: Type.Record(Type.String(), Target, { minProperties: 1 }),
  onMissing: Type.Union([Type.Literal('skip'), Type.Literal('reject')], { default: 'skip' }),
  onNoMatch: Type.Union([Type.Literal('skip'), Type.Literal('reject')], { default: 'skip' }),
  debugHeader: Type.Boolean({ default: false }),
});

export const DynamicExternalUpstream = definePlugin({
  type: 'DynamicExternalUpstream',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = fromProblems(c);
    for (const [k, t] of Object.entries(c.domainMap)) {
      if (!HOST.test(t.domain) && !/^\d{1,3}(\.\d{1,3}){3}$/.test(t.domain)) out.push({ path: `domainMap.${k}.domain`, message: `"${t.domain}" is not a host name (no scheme, port or path)` });
      if (t.sni !== undefined && !HOST.test(t.sni)) out.push({ path: `domainMap.${k}.sni`, message: `"${t.sni}" is not a host name` });
    }
    return out;
  },
  create(c, deps) {
    const valueOf = compileFrom(c, deps.webhook);
    const targets = new Map<string, { override: UpstreamOverride; shown: string }>();
    for (const [k, t] of Object.entries(c.domainMap)) {
      const port = t.port ?? (t.tls ? 443 : 80);
      const override: UpstreamOverride = { kind: 'external', host: t.domain, port, tls: t.tls, servername: t.sni ?? t.domain, hostHeader: t.overrideHost ?? t.domain };
      targets.set(k, { override, shown: `${t.domain}:${port}` });
    }
    const decide = (s: PluginSession, v: string | undefined): PluginReply | undefined => {
      if (v === undefined) {
        if (c.onMissing === 'reject') return badRequest('no upstream selector in the request', 'DynamicExternalMissing');
        return undefined;
      }
      const t = targets.get(v);
      if (t === undefined) {
        s.log(`no domain for ${v}`);
        if (c.onNoMatch === 'reject') return badRequest(`no upstream for "${v}"`, 'DynamicExternalNoMatch');
        return undefined;
      }
      s.setUpstream(t.override);
      s.log(`external ${t.shown}`);
      if (c.debugHeader) s.setHeader('x-dynamic-external-upstream', t.shown);
      return undefined;
    };
    return {
      onRequest(s) {
        const v = valueOf(s);
        return v instanceof Promise ? v.then((x) => decide(s, x)) : decide(s, v);
      },
    };
  },
});
