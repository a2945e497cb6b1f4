// UrlRewrite as a plugin (plugins.md §6, DECISIONS §41): the Gateway API HTTPURLRewriteFilter as
// `config`, with the route filter's semantics (resources.md §7.3): `hostname` replaces the Host
// sent upstream, `path` rewrites the path (src/shared/path-rewrite.ts); the query string is kept.
import { Type } from 'typebox';
import { rewritePath, withQuery } from '../../../shared/path-rewrite.js';
import { definePlugin } from '../../runtime/define-plugin.js';
import { PathModifierSchema, pathModifierProblems, PreciseHostname, toPathModifier } from './common.js';

const Schema = Type.Object(
  {
    hostname: Type.Optional(PreciseHostname),
    path: Type.Optional(PathModifierSchema),
  },
);

export const UrlRewritePlugin = definePlugin({
  type: 'UrlRewrite',
  stages: ['requestPlugins'],
  schema: Schema,
  validate: (c) => pathModifierProblems(c.path, 'path'),
  create(c) {
    const hostname = c.hostname;
    const path = toPathModifier(c.path);
    return {
      onRequest(s) {
        if (hostname) s.setHost(hostname);
        if (path) s.setUri(withQuery(rewritePath(s.path, path, s.matchedPrefix ?? s.path), s.queryString));
      },
    };
  },
});
