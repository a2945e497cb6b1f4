// Mock (plugins.md §4.20): answers the request itself with the configured status, headers,
// Content-Type and body (the intended behaviour; the original lost headers and content type), or —
// with `terminate: false` — only adds the headers to whatever response the client gets and lets
// the request continue. `delay` waits before answering (or before continuing).
import { Type } from 'typebox';
import { definePlugin, type PluginProblem } from '../../runtime/define-plugin.js';
import { HeaderValue } from './common.js';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
// eslint-disable-next-line no-control-regex
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

const Schema = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 100, maximum: 599, default: 200 }),
    body: Type.Optional(Type.String()),
    // Numbers and booleans are accepted (YAML `Retry-After: 120`) and sent as text.
    headers: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
    contentType: Type.Optional(HeaderValue),
    delay: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'milliseconds to wait before answering' })),
    terminate: Type.Boolean({ default: true }),
  },
  // Unknown fields are ignored, as the original's config parsing does.
);

export const Mock = definePlugin({
  type: 'Mock',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    for (const [k, v] of Object.entries(c.headers ?? {})) {
      if (!HEADER_NAME.test(k)) out.push({ path: `headers.${k}`, message: `"${k}" is not a valid header name` });
      if (BAD_VALUE.test(String(v))) out.push({ path: `headers.${k}`, message: 'must not contain control characters (line breaks included)' });
    }
    return out;
  },
  create(c) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.headers ?? {})) headers[k.toLowerCase()] = String(v);
    const contentType = c.contentType ?? 'application/json';
    const reply = { status: c.statusCode, headers: { ...headers, 'content-type': headers['content-type'] ?? contentType }, body: c.body ?? '' };
    const wait = c.delay ? (v: undefined | typeof reply) => new Promise<undefined | typeof reply>((r) => setTimeout(() => r(v), c.delay)) : undefined;
    return {
      onRequest(s) {
        if (!c.terminate) {
          for (const [k, v] of Object.entries(headers)) s.setResponseHeader(k, v);
          return wait ? wait(undefined) : undefined;
        }
        return wait ? wait(reply) : reply;
      },
    };
  },
});
