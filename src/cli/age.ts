// Resource age as kubectl prints it ("45s", "5m30s", "3h", "2d4h", "40d"): precise
// while young, coarse when old. Missing or unparsable timestamps print "-".

export function formatAge(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return '-';
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return '-';
  return formatDuration(Math.max(0, now.getTime() - then));
}

export function formatDuration(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (h < 3) return `${m}m`;
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}
