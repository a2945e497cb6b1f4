// RequestMirror as a plugin (plugins.md §4.18): the Gateway API mirror object as `config`. The
// controller resolves its backendRef; the gateway engine runs the same mirror as the route filter.
import { Type } from 'typebox';
import { definePlugin } from '../../runtime/define-plugin.js';

const Schema = Type.Object(
  {
    backendRef: Type.Object({
      group: Type.Optional(Type.String()),
      kind: Type.Optional(Type.String({ default: 'Service' })),
      name: Type.String({ minLength: 1 }),
      namespace: Type.Optional(Type.String()),
      port: Type.Integer({ minimum: 1, maximum: 65535 }),
    }),
    percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    fraction: Type.Optional(Type.Object({ numerator: Type.Integer({ minimum: 0 }), denominator: Type.Integer({ minimum: 1, default: 100 }) })),
    connectTimeoutMs: Type.Integer({ minimum: 1, default: 1000 }),
    writeTimeoutMs: Type.Integer({ minimum: 1, default: 1000 }),
    // Accepted for configs written for the original; no effect here (see validate).
    maxBufferedChunks: Type.Optional(Type.Integer({ minimum: 1 })),
    mirrorLog: Type.Boolean({ default: true }),
    maxConcurrent: Type.Integer({ minimum: 1, default: 1024 }),
    channelFullTimeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  },
  { additionalProperties: true },
);

/**
 * Options of the original's chunk queue: here a mirrored body is buffered whole (up to 1 MiB) and
 * sent once, so there is no queue to bound or wait on. Shared with the HTTPRoute filter.
 */
export function mirrorOptionWarnings(c: Record<string, unknown>): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (c.maxBufferedChunks !== undefined) out.push({ path: 'maxBufferedChunks', message: 'has no effect: a mirrored body is buffered whole (up to 1 MiB), there is no chunk queue' });
  if (c.channelFullTimeoutMs !== undefined) out.push({ path: 'channelFullTimeoutMs', message: 'has no effect: a mirror never waits; copies beyond maxConcurrent are dropped at once (channel_full)' });
  return out;
}

export const RequestMirrorPlugin = definePlugin({
  type: 'RequestMirror',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    if (c.fraction && c.fraction.numerator > c.fraction.denominator) return [{ path: 'fraction', message: 'numerator must not exceed denominator' }];
    if (c.percent !== undefined && c.fraction !== undefined) return [{ path: 'percent', message: 'set percent or fraction, not both' }];
    return mirrorOptionWarnings(c as Record<string, unknown>).map((w) => ({ ...w, severity: 'warning' as const }));
  },
  // The gateway engine replaces this instance with the shared mirror implementation.
  create: () => ({}),
});
