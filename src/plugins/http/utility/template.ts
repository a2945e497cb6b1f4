// `${...}` templates of CtxSet (plugins.md §4.23): `${header:Name}`, `${query:name}`,
// `${cookie:name}`, `${ctx:name}`, `${path}`, `${method}`, `${clientIp}` (and `${host}`,
// `${scheme}`). Parsed once into parts; rendering only reads the session. A placeholder whose
// value is missing renders as the empty string. `$` not followed by `{` is literal text; `$${`
// writes a literal `${`.
import type { PluginSession } from '../../runtime/define-plugin.js';

type Part = string | ((s: PluginSession) => string | undefined);

export interface Template {
  render(s: PluginSession): string;
  /** The template has no placeholder. */
  readonly constant: boolean;
}

const NAMED: Record<string, (name: string) => (s: PluginSession) => string | undefined> = {
  header: (n) => {
    const h = n.toLowerCase();
    return (s) => s.header(h);
  },
  query: (n) => (s) => s.query(n),
  cookie: (n) => (s) => s.cookie(n),
  ctx: (n) => (s) => s.getVar(n),
};

const PLAIN: Record<string, (s: PluginSession) => string> = {
  path: (s) => s.path,
  method: (s) => s.method,
  clientIp: (s) => s.clientIp,
  host: (s) => s.host,
  scheme: (s) => s.scheme,
};

export const TEMPLATE_PLACEHOLDERS = ['${header:Name}', '${query:name}', '${cookie:name}', '${ctx:name}', '${path}', '${method}', '${clientIp}', '${host}', '${scheme}'];

/** Parses a template; throws an Error with a readable message on a bad placeholder. */
export function parseTemplate(text: string): Template {
  const parts: Part[] = [];
  let lit = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      lit += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      lit += text[i];
      i++;
      continue;
    }
    const end = text.indexOf('}', i + 2);
    if (end === -1) throw new Error(`unclosed placeholder at character ${i + 1}: "${text.slice(i, i + 20)}"`);
    const body = text.slice(i + 2, end);
    const colon = body.indexOf(':');
    let getter: Part;
    if (colon === -1) {
      const plain = PLAIN[body];
      if (!plain) throw new Error(`unknown placeholder "\${${body}}" (known: ${TEMPLATE_PLACEHOLDERS.join(', ')})`);
      getter = plain;
    } else {
      const kind = body.slice(0, colon);
      const name = body.slice(colon + 1);
      const named = NAMED[kind];
      if (!named) throw new Error(`unknown placeholder "\${${body}}" (known: ${TEMPLATE_PLACEHOLDERS.join(', ')})`);
      if (!name) throw new Error(`placeholder "\${${body}}" needs a name after "${kind}:"`);
      getter = named(name);
    }
    if (lit) parts.push(lit);
    lit = '';
    parts.push(getter);
    i = end + 1;
  }
  if (lit) parts.push(lit);
  const constant = parts.every((p) => typeof p === 'string');
  if (constant) {
    const value = parts.join('');
    return { constant, render: () => value };
  }
  return {
    constant,
    render(s) {
      let out = '';
      for (const p of parts) out += typeof p === 'string' ? p : (p(s) ?? '');
      return out;
    },
  };
}
