// RequestHeaderModifier / ResponseHeaderModifier as plugins (plugins.md §4.18): the Gateway API
// filter objects as `config`, same semantics as the route filters.
import { Type } from 'typebox';
import { definePlugin } from '../../runtime/define-plugin.js';

const Header = Type.Object({ name: Type.String({ minLength: 1 }), value: Type.String() });
const Modifier = Type.Object(
  {
    set: Type.Optional(Type.Array(Header)),
    add: Type.Optional(Type.Array(Header)),
    remove: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  // Unknown fields are ignored, as the original's config parsing does.
);

const lower = (list: { name: string; value: string }[] | undefined) => (list ?? []).map((h) => ({ name: h.name.toLowerCase(), value: h.value }));

export const RequestHeaderModifierPlugin = definePlugin({
  type: 'RequestHeaderModifier',
  stages: ['requestPlugins'],
  schema: Modifier,
  create(c) {
    const set = lower(c.set);
    const add = lower(c.add);
    const remove = (c.remove ?? []).map((n) => n.toLowerCase());
    return {
      onRequest(s) {
        for (const h of set) s.setHeader(h.name, h.value);
        for (const h of add) s.appendHeader(h.name, h.value);
        for (const n of remove) s.removeHeader(n);
      },
    };
  },
});

export const ResponseHeaderModifierPlugin = definePlugin({
  type: 'ResponseHeaderModifier',
  stages: ['upstreamResponseFilterPlugins'],
  schema: Modifier,
  create(c) {
    const set = lower(c.set);
    const add = lower(c.add);
    const remove = (c.remove ?? []).map((n) => n.toLowerCase());
    return {
      onResponseHeaders(_s, res) {
        for (const h of set) res.headers[h.name] = h.value;
        for (const h of add) {
          const cur = res.headers[h.name];
          res.headers[h.name] = cur === undefined ? h.value : Array.isArray(cur) ? [...cur, h.value] : [cur, h.value];
        }
        for (const n of remove) delete res.headers[n];
      },
    };
  },
});
