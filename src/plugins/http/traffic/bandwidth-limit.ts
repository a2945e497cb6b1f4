// BandwidthLimit (plugins.md §4.19, upstreamResponseBodyFilterPlugins): paces the response body
// to `rate` bytes per second (DECISIONS.md §38): the body goes out in pieces of at most a tenth
// of a second's worth of the rate; the first piece goes at once and each later one when the bytes
// before it have had their time, so after t seconds at most rate × t bytes plus one piece left.
import { Type } from 'typebox';
import { definePlugin, type PluginSession } from '../../runtime/define-plugin.js';

const Schema = Type.Object({
  rate: Type.Union([Type.String({ minLength: 1 }), Type.Number({ exclusiveMinimum: 0 })], {
    description: 'bytes per second: "1024", "512kb", "1.5mb", "1gb" (1024-based, case-insensitive)',
  }),
});

const MULT: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** Bytes per second, or undefined when the rate is not a positive size. */
export function parseRate(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 1 ? Math.floor(v) : undefined;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) return undefined;
  const mult = MULT[m[2]!.toLowerCase()];
  if (mult === undefined) return undefined;
  const n = Math.floor(Number(m[1]) * mult);
  return n >= 1 ? n : undefined;
}

interface Pace {
  start: number;
  sent: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const BandwidthLimit = definePlugin({
  type: 'BandwidthLimit',
  stages: ['upstreamResponseBodyFilterPlugins'],
  schema: Schema,
  validate(c) {
    if (parseRate(c.rate) === undefined) return [{ path: 'rate', message: `"${String(c.rate)}" is not a rate above 0 bytes per second (use e.g. "1024", "512kb", "1.5mb", "1gb")` }];
    return [];
  },
  create(c) {
    const rate = parseRate(c.rate) ?? 1;
    const piece = Math.max(1, Math.floor(rate / 10));
    const paces = new WeakMap<PluginSession, Pace>();
    return {
      onBodyChunk(s, chunk) {
        if (chunk.length === 0) return chunk;
        let p = paces.get(s);
        if (p === undefined) {
          p = { start: performance.now(), sent: 0 };
          paces.set(s, p);
        }
        const pace = p;
        return (async function* () {
          for (let off = 0; off < chunk.length; off += piece) {
            const due = pace.start + (pace.sent * 1000) / rate;
            const wait = due - performance.now();
            if (wait > 1) await sleep(wait);
            const part = chunk.subarray(off, Math.min(chunk.length, off + piece));
            pace.sent += part.length;
            yield part;
          }
        })();
      },
    };
  },
});
