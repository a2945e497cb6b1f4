// Gateway admin API (CONTRACT.md): /health, /ready, /metrics, /api/v1/status, /api/v1/config/{kind}.

import { json, notFound, type AdminHandler } from '../../shared/admin-http.js';
import { errorBody, ErrorCodes } from '../../shared/errors.js';
import type { GatewayPrimary } from '../primary.js';

/** Finds the resources of a kind in the snapshot: case-insensitive, plural accepted. */
function resourcesOf(all: Record<string, unknown[]>, kind: string): { kind: string; items: unknown[] } | undefined {
  const k = kind.toLowerCase();
  for (const [name, items] of Object.entries(all)) {
    const n = name.toLowerCase();
    if (n === k || `${n}s` === k || `${n}es` === k || (n.endsWith('y') && `${n.slice(0, -1)}ies` === k)) return { kind: name, items };
  }
  return undefined;
}

export function gatewayAdminHandler(primary: GatewayPrimary): AdminHandler {
  return async (req) => {
    const [a, b, c, d] = req.segments;
    if (req.method !== 'GET') return { status: 405, body: errorBody(ErrorCodes.METHOD_NOT_ALLOWED, `${req.method} is not supported here`) };
    if (a === 'health' && !b) return json(200, { status: 'ok' });
    if (a === 'ready' && !b) {
      const r = primary.readiness();
      return json(r.ready ? 200 : 503, { ready: r.ready, ...(r.reason ? { reason: r.reason } : {}), version: primary.snapshot?.version ?? 0 });
    }
    if (a === 'metrics' && !b) return { status: 200, body: await primary.metricsText(), contentType: 'text/plain; version=0.0.4; charset=utf-8' };
    if (a !== 'api' || b !== 'v1') return undefined;
    if (c === 'status' && !d) return json(200, { ...primary.status(), requests: await primary.requestTotals() });
    if (c === 'config') {
      const snap = primary.snapshot;
      if (!d) {
        const kinds: Record<string, number> = {};
        for (const [k, v] of Object.entries(snap?.resources ?? {})) kinds[k] = v.length;
        return json(200, { version: snap?.version ?? 0, controllerId: snap?.controllerId ?? null, kinds });
      }
      const found = resourcesOf(snap?.resources ?? {}, d);
      if (!found) {
        if (/^[A-Za-z]+$/.test(d)) return json(200, { items: [] });
        return notFound(`unknown kind ${d}`);
      }
      const [ns, name] = [req.segments[4], req.segments[5]];
      if (ns) {
        const item = found.items.find((r) => {
          const m = (r as { metadata?: { namespace?: string; name?: string } }).metadata ?? {};
          return name ? m.namespace === ns && m.name === name : m.name === ns && !m.namespace;
        });
        return item ? json(200, item) : notFound(`${found.kind} ${name ? `${ns}/${name}` : ns} is not in this gateway's configuration`);
      }
      return json(200, { items: found.items });
    }
    return undefined;
  };
}
