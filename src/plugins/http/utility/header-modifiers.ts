// RequestHeaderModifier / ResponseHeaderModifier as plugins (plugins.md §4.18): the Gateway API
// filter objects as `config`, with the route filters' semantics (resources.md §7.3): set, then add,
// then remove. Request `add` appends to an existing value with a comma; response `add` adds
// another header line. Names are case-insensitive.
import { Type, type Static } from 'typebox';
import { definePlugin, type PluginProblem } from '../../runtime/define-plugin.js';
import { duplicateNames, HeaderName, HeaderValue } from './common.js';

const Header = Type.Object({ name: HeaderName, value: HeaderValue });
const Modifier = Type.Object(
  {
    set: Type.Optional(Type.Array(Header, { maxItems: 16 })),
    add: Type.Optional(Type.Array(Header, { maxItems: 16 })),
    remove: Type.Optional(Type.Array(HeaderName, { maxItems: 16 })),
  },
  // Unknown fields are ignored, as the original's config parsing does.
);
type ModifierConfig = Static<typeof Modifier>;

function problems(c: ModifierConfig): PluginProblem[] {
  const out = [...duplicateNames(c.set, 'set'), ...duplicateNames(c.add, 'add')];
  const removed = new Set<string>();
  (c.remove ?? []).forEach((n, i) => {
    if (removed.has(n.toLowerCase())) out.push({ path: `remove[${i}]`, message: `header "${n}" is listed twice` });
    removed.add(n.toLowerCase());
  });
  return out;
}

interface Compiled {
  set: { name: string; value: string }[];
  add: { name: string; value: string }[];
  remove: string[];
}

function compile(c: ModifierConfig): Compiled {
  const lower = (list: { name: string; value: string }[] | undefined) => (list ?? []).map((h) => ({ name: h.name.toLowerCase(), value: h.value }));
  return { set: lower(c.set), add: lower(c.add), remove: (c.remove ?? []).map((n) => n.toLowerCase()) };
}

export const RequestHeaderModifierPlugin = definePlugin({
  type: 'RequestHeaderModifier',
  stages: ['requestPlugins'],
  schema: Modifier,
  validate: problems,
  create(c) {
    const { set, add, remove } = compile(c);
    return {
      onRequest(s) {
        for (const h of set) s.setHeader(h.name, h.value);
        for (const h of add) s.appendHeader(h.name, h.value);
        for (const n of remove) s.removeHeader(n);
      },
    };
  },
});

/**
 * In upstreamResponseFilterPlugins it edits the upstream response. In requestPlugins (the CRD
 * allows it there) it queues the same edits for whatever response the client gets, plugin
 * replies included.
 */
export const ResponseHeaderModifierPlugin = definePlugin({
  type: 'ResponseHeaderModifier',
  stages: ['upstreamResponseFilterPlugins', 'requestPlugins'],
  schema: Modifier,
  validate: problems,
  create(c) {
    const { set, add, remove } = compile(c);
    return {
      onRequest(s) {
        for (const h of set) s.setResponseHeader(h.name, h.value);
        for (const h of add) s.appendResponseHeader(h.name, h.value);
        for (const n of remove) s.removeResponseHeader(n);
      },
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
