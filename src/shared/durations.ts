// Duration strings as configs write them. Two dialects are accepted:
//  - Gateway API (GEP-2257): one or more <number><unit> parts, units h, m, s, ms ("1h2m3s", "500ms")
//  - Edgion: <number><unit> with units ms, s, m, h, d; a bare number means seconds ("30", "5m", "1d")
// Both parse to milliseconds. `undefined` input stays undefined; bad input returns an error string.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

export function parseDuration(input: string | number): number | string {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : `invalid duration ${input}`;
  }
  const text = input.trim();
  if (text === '') return 'empty duration';
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) return `invalid duration "${input}" (expected e.g. 500ms, 10s, 1m30s, 2h)`;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = PART.lastIndex;
  }
  return Math.round(total);
}

/** parseDuration for callers that already validated the value (the controller did). */
export function durationMs(input: string | number | undefined, fallbackMs: number): number {
  if (input === undefined || input === null) return fallbackMs;
  const v = parseDuration(input);
  return typeof v === 'number' ? v : fallbackMs;
}
