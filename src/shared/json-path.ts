// Values inside parsed JSON (token claims, webhook answers) by a dotted path. Only own properties
// are followed, so `constructor` or `__proto__` in a path finds nothing.

/** A dot path; numeric segments index arrays. */
export function jsonPath(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else {
      cur = Object.hasOwn(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return cur;
}

/** A claim by name (the exact key first, so `https://x/roles` works), else by dotted path. */
export function claimAt(doc: unknown, path: string): unknown {
  if (doc === null || typeof doc !== 'object') return undefined;
  if (Object.hasOwn(doc, path)) return (doc as Record<string, unknown>)[path];
  return jsonPath(doc, path);
}
