// ResponseRewrite (plugins.md §4.17, upstreamResponseFilterPlugins): replaces the upstream status
// and edits response headers (rename → add → set → remove). Extension (not in the original): the
// body can be replaced (`body`) or edited with regular expressions (`bodyReplace`); the body is
// buffered up to `maxBodySize` bytes for that, and a larger body passes through unchanged.
import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginSession } from '../../runtime/define-plugin.js';
import { compileUserRegex, regexError } from '../../../shared/regex.js';

const HeaderName = Type.String({ minLength: 1, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" });
const Header = Type.Object({ name: HeaderName, value: Type.String() });

const Schema = Type.Object({
  statusCode: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  headers: Type.Optional(
    Type.Object({
      rename: Type.Optional(Type.Array(Type.Object({ from: HeaderName, to: HeaderName }))),
      add: Type.Optional(Type.Array(Header)),
      set: Type.Optional(Type.Array(Header)),
      remove: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    }),
  ),
  // Extension: body rewriting.
  body: Type.Optional(Type.String({ description: 'replaces the whole response body (extension)' })),
  bodyReplace: Type.Optional(
    Type.Array(Type.Object({ pattern: Type.String({ minLength: 1 }), replacement: Type.String() }), {
      description: 'regular-expression replacements on the response body, in order, every match (extension)',
    }),
  ),
  maxBodySize: Type.Integer({ minimum: 1, maximum: 16 * 1024 * 1024, default: 1024 * 1024, description: 'largest body bodyReplace buffers; larger bodies pass unchanged' }),
});

interface BodyState {
  chunks: Buffer[];
  size: number;
  /** Gave up (too big): stream the rest unchanged. */
  passthrough: boolean;
}

export const ResponseRewrite = definePlugin({
  type: 'ResponseRewrite',
  stages: ['upstreamResponseFilterPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    (c.bodyReplace ?? []).forEach((r, i) => {
      const err = regexError(r.pattern);
      if (err) out.push({ path: `bodyReplace[${i}].pattern`, message: err });
    });
    if (c.body !== undefined && c.bodyReplace !== undefined) out.push({ path: 'bodyReplace', message: 'body replaces the whole body: bodyReplace is ignored', severity: 'warning' });
    return out;
  },
  create(c) {
    const rename = (c.headers?.rename ?? []).map((r) => ({ from: r.from.toLowerCase(), to: r.to.toLowerCase() }));
    const add = (c.headers?.add ?? []).map((h) => ({ name: h.name.toLowerCase(), value: h.value }));
    const set = (c.headers?.set ?? []).map((h) => ({ name: h.name.toLowerCase(), value: h.value }));
    const remove = (c.headers?.remove ?? []).map((n) => n.toLowerCase());
    const wholeBody = c.body !== undefined ? Buffer.from(c.body) : undefined;
    const replaces = wholeBody === undefined ? (c.bodyReplace ?? []).map((r) => ({ re: compileUserRegex(r.pattern, 'g'), replacement: r.replacement })) : [];
    const rewritesBody = wholeBody !== undefined || replaces.length > 0;
    const bodies = new WeakMap<PluginSession, BodyState>();
    const max = c.maxBodySize;

    const instance: {
      onResponseHeaders: NonNullable<import('../../runtime/define-plugin.js').PluginInstance['onResponseHeaders']>;
      onBodyChunk?: NonNullable<import('../../runtime/define-plugin.js').PluginInstance['onBodyChunk']>;
    } = {
      onResponseHeaders(s, res) {
        if (c.statusCode !== undefined) res.setStatus(c.statusCode);
        const h = res.headers;
        for (const r of rename) {
          const v = h[r.from];
          if (v === undefined) continue;
          delete h[r.from];
          h[r.to] = v;
        }
        for (const a of add) {
          const cur = h[a.name];
          h[a.name] = cur === undefined ? a.value : Array.isArray(cur) ? [...cur, a.value] : [cur, a.value];
        }
        for (const x of set) h[x.name] = x.value;
        for (const n of remove) delete h[n];
        if (!rewritesBody) return;
        const enc = h['content-encoding'];
        const encoded = enc !== undefined && String(enc).toLowerCase() !== 'identity';
        if (wholeBody !== undefined) {
          // The new body is plain: whatever encoding the upstream used no longer applies.
          delete h['content-encoding'];
          delete h.etag;
          bodies.set(s, { chunks: [], size: 0, passthrough: false });
          return;
        }
        if (encoded) {
          s.log('body not rewritten: content-encoding ' + String(enc));
          return;
        }
        const len = Number(h['content-length']);
        if (Number.isFinite(len) && len > max) {
          s.log(`body not rewritten: ${len} bytes over maxBodySize`);
          return;
        }
        delete h.etag;
        bodies.set(s, { chunks: [], size: 0, passthrough: false });
      },
    };
    if (rewritesBody) {
      instance.onBodyChunk = (s, chunk, last) => {
        const st = bodies.get(s);
        if (st === undefined || st.passthrough) return chunk;
        if (wholeBody !== undefined) {
          if (!last) return Buffer.alloc(0);
          bodies.delete(s);
          return wholeBody;
        }
        st.chunks.push(chunk);
        st.size += chunk.length;
        if (st.size > max) {
          // Too big to rewrite: send what was held back and stream the rest unchanged.
          st.passthrough = true;
          s.log('body not rewritten: over maxBodySize');
          const held = Buffer.concat(st.chunks);
          st.chunks = [];
          return held;
        }
        if (!last) return Buffer.alloc(0);
        bodies.delete(s);
        let text = Buffer.concat(st.chunks).toString('utf8');
        for (const r of replaces) text = text.replace(r.re, r.replacement);
        return Buffer.from(text);
      };
    }
    return instance;
  },
});
