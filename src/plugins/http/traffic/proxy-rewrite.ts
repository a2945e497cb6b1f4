// ProxyRewrite (plugins.md §4.16): rewrites the upstream request's path, Host, method and headers.
// Templates (`uri`, header values) are parsed once into parts; variables: `$uri` (original path),
// `$arg_<name>` (query value; URL-encoded in `uri`, as is in headers), `$1`..`$9` (captures of
// `regexUri`), `$<param>` / `${param}` (route path parameters). With both `uri` and `regexUri`,
// `uri` wins and the resource's status carries a warning (DECISIONS.md §29).
import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginSession } from '../../runtime/define-plugin.js';
import { compileUserRegex, regexError } from '../../../shared/regex.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'MKCOL', 'COPY', 'MOVE', 'PROPFIND', 'LOCK', 'UNLOCK'];
const Header = Type.Object({ name: Type.String({ minLength: 1, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }), value: Type.String() });

const Schema = Type.Object({
  uri: Type.Optional(Type.String({ minLength: 1 })),
  regexUri: Type.Optional(Type.Object({ pattern: Type.String({ minLength: 1 }), replacement: Type.String() })),
  host: Type.Optional(Type.String({ minLength: 1 })),
  method: Type.Optional(Type.Union(METHODS.map((m) => Type.Literal(m)))),
  headers: Type.Optional(
    Type.Object({
      add: Type.Optional(Type.Array(Header)),
      set: Type.Optional(Type.Array(Header)),
      remove: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    }),
  ),
});

type Part = { k: 'lit'; v: string } | { k: 'uri' } | { k: 'arg'; name: string } | { k: 'cap'; n: number } | { k: 'param'; name: string };

/** Parses `$uri`, `$arg_x`, `$1`, `$name`, `${name}` into parts. A `$` not followed by a name stays literal. */
export function parseTemplate(t: string): Part[] {
  const parts: Part[] = [];
  let lit = '';
  const re = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([1-9])|([A-Za-z_][A-Za-z0-9_]*))/g;
  let last = 0;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    lit += t.slice(last, m.index);
    last = m.index + m[0].length;
    if (lit) parts.push({ k: 'lit', v: lit });
    lit = '';
    const name = m[1] ?? m[3];
    if (m[2] !== undefined) parts.push({ k: 'cap', n: Number(m[2]) });
    else if (name === 'uri') parts.push({ k: 'uri' });
    else if (name!.startsWith('arg_') && name!.length > 4) parts.push({ k: 'arg', name: name!.slice(4) });
    else parts.push({ k: 'param', name: name! });
  }
  lit += t.slice(last);
  if (lit) parts.push({ k: 'lit', v: lit });
  return parts;
}

function render(parts: Part[], s: PluginSession, caps: RegExpExecArray | null, encode: boolean): string {
  if (parts.length === 1 && parts[0]!.k === 'lit') return parts[0].v;
  let out = '';
  for (const p of parts) {
    switch (p.k) {
      case 'lit':
        out += p.v;
        break;
      case 'uri':
        out += s.path;
        break;
      case 'arg': {
        const v = s.query(p.name) ?? '';
        out += encode ? encodeURIComponent(v) : v;
        break;
      }
      case 'cap':
        out += caps?.[p.n] ?? '';
        break;
      case 'param':
        out += s.params[p.name] ?? '';
        break;
    }
  }
  return out;
}

export const ProxyRewrite = definePlugin({
  type: 'ProxyRewrite',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    if (c.regexUri) {
      const err = regexError(c.regexUri.pattern);
      if (err) out.push({ path: 'regexUri.pattern', message: err });
    }
    if (c.uri !== undefined && c.regexUri !== undefined) {
      out.push({ path: 'regexUri', message: 'both uri and regexUri are set: uri wins (regexUri only supplies $1..$9 captures to it)', severity: 'warning' });
    }
    if (c.host !== undefined && (c.headers?.set ?? []).some((h) => h.name.toLowerCase() === 'host')) {
      out.push({ path: 'headers.set', message: 'Host is set both by host and by headers.set; use one of them' });
    }
    if (c.uri !== undefined && !c.uri.startsWith('/') && !c.uri.startsWith('$')) {
      out.push({ path: 'uri', message: `"${c.uri}" must start with "/" (or a variable such as $uri)` });
    }
    return out;
  },
  create(c) {
    const uri = c.uri !== undefined ? parseTemplate(c.uri) : undefined;
    const regex = c.regexUri ? compileUserRegex(c.regexUri.pattern) : undefined;
    const replacement = c.regexUri ? parseTemplate(c.regexUri.replacement) : undefined;
    const headerT = (list: { name: string; value: string }[] | undefined) => (list ?? []).map((h) => ({ name: h.name.toLowerCase(), value: parseTemplate(h.value) }));
    const add = headerT(c.headers?.add);
    const set = headerT(c.headers?.set);
    const remove = (c.headers?.remove ?? []).map((n) => n.toLowerCase());
    const usesCaps = (ps: Part[] | undefined) => ps?.some((p) => p.k === 'cap') ?? false;
    const needCaps = regex !== undefined && (uri === undefined || usesCaps(uri) || add.some((h) => usesCaps(h.value)) || set.some((h) => usesCaps(h.value)));
    const host = c.host;
    const method = c.method;

    return {
      onRequest(s) {
        const caps = needCaps ? regex!.exec(s.path) : null;
        let newPath: string | undefined;
        if (uri !== undefined) newPath = render(uri, s, caps, true);
        else if (regex !== undefined && caps !== null) {
          newPath = s.path.slice(0, caps.index) + render(replacement!, s, caps, false) + s.path.slice(caps.index + caps[0].length);
        }
        if (newPath !== undefined) {
          if (!newPath.startsWith('/')) newPath = `/${newPath}`;
          const q = s.queryString;
          s.setUri(q === '' ? newPath : newPath.includes('?') ? `${newPath}&${q}` : `${newPath}?${q}`);
          s.log(`uri ${newPath}`);
        }
        if (host !== undefined) s.setHost(host);
        if (method !== undefined) s.setMethod(method);
        for (const h of add) s.appendHeader(h.name, render(h.value, s, caps, false));
        for (const h of set) s.setHeader(h.name, render(h.value, s, caps, false));
        for (const n of remove) s.removeHeader(n);
      },
    };
  },
});
