// RequestRedirect as a plugin (plugins.md §4.18): the Gateway API HTTPRequestRedirectFilter as
// `config`, answered with the route filter's semantics (resources.md §7.4, DECISIONS §5, §13):
// the Location is built by src/shared/path-rewrite.ts, the same code the route filter runs.
import { Type } from 'typebox';
import { redirectLocation } from '../../../shared/path-rewrite.js';
import { definePlugin } from '../../runtime/define-plugin.js';
import { PathModifierSchema, pathModifierProblems, PreciseHostname, toPathModifier } from './common.js';

const Schema = Type.Object(
  {
    scheme: Type.Optional(Type.Enum(['http', 'https'])),
    hostname: Type.Optional(PreciseHostname),
    path: Type.Optional(PathModifierSchema),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    // The Gateway API CRD allows 301 and 302; the original also takes 303, 307 and 308.
    statusCode: Type.Enum([301, 302, 303, 307, 308], { default: 302 }),
  },
);

export const RequestRedirectPlugin = definePlugin({
  type: 'RequestRedirect',
  stages: ['requestPlugins'],
  schema: Schema,
  validate: (c) => pathModifierProblems(c.path, 'path'),
  create(c) {
    const spec = {
      ...(c.scheme ? { scheme: c.scheme } : {}),
      ...(c.hostname ? { hostname: c.hostname } : {}),
      ...(c.port !== undefined ? { port: c.port } : {}),
      ...(c.path ? { path: toPathModifier(c.path)! } : {}),
    };
    const status = c.statusCode;
    return {
      onRequest(s) {
        const location = redirectLocation(spec, {
          scheme: s.scheme === 'https' ? 'https' : 'http',
          host: s.host,
          listenerPort: s.listenerPort,
          path: s.path,
          queryString: s.queryString,
          // ReplacePrefixMatch on an Exact or RegularExpression match replaces the whole path.
          matchedPrefix: s.matchedPrefix ?? s.path,
        });
        return { status, headers: { location }, body: '' };
      },
    };
  },
});
