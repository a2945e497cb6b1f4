// Cors (plugins.md §4.10, DECISIONS.md §24, §34): CORS response headers for allowed origins and
// preflights answered by the plugin (200). Comma lists and `*.domain` patterns work (the original
// never set them up); regexes must match the whole origin. The decisions live in cors-core.ts,
// shared with the Gateway API HTTPRoute `CORS` filter.
import { Type } from 'typebox';
import { definePlugin, type PluginProblem } from '../../runtime/define-plugin.js';
import { regexError } from '../../../shared/regex.js';
import { anchoredRegex, CorsPolicy, originEntryProblem, splitList } from './cors-core.js';

const ALL_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE'];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const Schema = Type.Object({
  allowOrigins: Type.String({ default: '', description: '`*`, `**`, exact origins, `*.domain` patterns; comma-separated' }),
  allowOriginsByRegex: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  allowMethods: Type.String({ default: 'GET,HEAD,OPTIONS' }),
  allowHeaders: Type.String({ default: 'Accept,Accept-Language,Content-Language,Content-Type,Range' }),
  exposeHeaders: Type.String({ default: '' }),
  allowCredentials: Type.Boolean({ default: false }),
  maxAge: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 * 365 })),
  preflightContinue: Type.Boolean({ default: false }),
  allowPrivateNetwork: Type.Boolean({ default: false }),
  timingAllowOrigins: Type.Optional(Type.String()),
  timingAllowOriginsByRegex: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
});

function originProblems(field: string, list: string[], regexField: string, regexes: string[] | undefined): PluginProblem[] {
  const out: PluginProblem[] = [];
  for (const e of list) {
    const p = originEntryProblem(e);
    if (p) out.push({ path: field, message: p });
  }
  (regexes ?? []).forEach((r, i) => {
    const err = regexError(r);
    if (err) out.push({ path: `${regexField}[${i}]`, message: err });
    else {
      try {
        anchoredRegex(r);
      } catch (e) {
        out.push({ path: `${regexField}[${i}]`, message: (e as Error).message });
      }
    }
  });
  return out;
}

function tokenProblems(field: string, list: string[], what: string): PluginProblem[] {
  return list.filter((t) => t !== '**' && !TOKEN.test(t)).map((t) => ({ path: field, message: `"${t}" is not a valid ${what}` }));
}

export const Cors = definePlugin({
  type: 'Cors',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const origins = splitList(c.allowOrigins);
    const problems = originProblems('allowOrigins', origins, 'allowOriginsByRegex', c.allowOriginsByRegex);
    problems.push(...originProblems('timingAllowOrigins', splitList(c.timingAllowOrigins), 'timingAllowOriginsByRegex', c.timingAllowOriginsByRegex));
    if (origins.length === 0 && !c.allowOriginsByRegex?.length) {
      problems.push({ path: 'allowOrigins', message: 'no origin is allowed: set allowOrigins ("*", "**", origins or "*.domain" patterns) or allowOriginsByRegex' });
    }
    if (c.allowCredentials && origins.includes('*')) {
      problems.push({ path: 'allowCredentials', message: 'allowOrigins "*" cannot be combined with allowCredentials: true (use "**" or list the origins)' });
    }
    problems.push(...tokenProblems('allowMethods', splitList(c.allowMethods), 'HTTP method'));
    problems.push(...tokenProblems('allowHeaders', splitList(c.allowHeaders), 'header name'));
    problems.push(...tokenProblems('exposeHeaders', splitList(c.exposeHeaders), 'header name'));
    return problems;
  },
  create(c) {
    const methods = splitList(c.allowMethods);
    const headers = splitList(c.allowHeaders);
    const policy = new CorsPolicy({
      origins: splitList(c.allowOrigins),
      originRegexes: c.allowOriginsByRegex ?? [],
      methods: methods.includes('**') ? ALL_METHODS : methods.map((m) => m.toUpperCase()),
      headers: headers.filter((h) => h !== '**'),
      reflectHeaders: headers.includes('**'),
      expose: splitList(c.exposeHeaders),
      credentials: c.allowCredentials,
      ...(c.maxAge !== undefined ? { maxAge: c.maxAge } : {}),
      preflightContinue: c.preflightContinue,
      privateNetwork: c.allowPrivateNetwork,
      timingOrigins: splitList(c.timingAllowOrigins),
      timingOriginRegexes: c.timingAllowOriginsByRegex ?? [],
    });
    return {
      onRequest(s) {
        const reply = policy.handle(s);
        if (reply) s.log(reply.headers?.['access-control-allow-origin'] ? 'preflight answered' : 'preflight from a disallowed origin');
        return reply;
      },
    };
  },
});
