// Mock (plugins.md §4.20): answers the request itself (or only sets headers and continues).
import { Type } from 'typebox';
import { definePlugin } from '../../runtime/define-plugin.js';

const Schema = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 100, maximum: 599, default: 200 }),
    body: Type.Optional(Type.String()),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    contentType: Type.String({ default: 'application/json' }),
    delay: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'milliseconds to wait before answering' })),
    terminate: Type.Boolean({ default: true }),
  },
  // Unknown fields are ignored, as the original's config parsing does.
);

export const Mock = definePlugin({
  type: 'Mock',
  stages: ['requestPlugins'],
  schema: Schema,
  create(c) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.headers ?? {})) headers[k.toLowerCase()] = v;
    const body = c.body ?? '';
    return {
      onRequest(s) {
        if (!c.terminate) {
          for (const [k, v] of Object.entries(headers)) s.setResponseHeader(k, v);
          return undefined;
        }
        const reply = { status: c.statusCode, headers: { 'content-type': c.contentType, ...headers }, body };
        if (!c.delay) return reply;
        return new Promise((resolve) => setTimeout(() => resolve(reply), c.delay).unref());
      },
    };
  },
});
