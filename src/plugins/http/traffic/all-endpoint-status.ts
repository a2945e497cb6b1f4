// AllEndpointStatus (plugins.md §4.27): answers the request itself by calling every endpoint of
// the rule's backendRefs and returning a JSON summary (diagnostics). Gateway-wide: at most one run
// per second (the gateway's shared counters: one run per aligned second across workers, and at
// least 1000 ms between two runs of one worker) → 429; at most 3 runs at once per worker → 503.
import http from 'node:http';
import { Type } from 'typebox';
import { definePlugin, type PluginReply, type PluginSession } from '../../runtime/define-plugin.js';

const Schema = Type.Object({
  timeoutMs: Type.Integer({ minimum: 1, maximum: 5000, default: 2000 }),
  wallTimeoutMs: Type.Integer({ minimum: 1, maximum: 10_000, default: 10_000 }),
  maxEndpoints: Type.Integer({ minimum: 1, maximum: 50, default: 20 }),
  maxBodySize: Type.Integer({ minimum: 0, maximum: 16_384, default: 16_384 }),
  concurrencyLimit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }),
  includeResponseHeaders: Type.Boolean({ default: false }),
  methodOverride: Type.Optional(Type.String({ minLength: 1, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" })),
  pathOverride: Type.Optional(Type.String({ minLength: 1, pattern: '^/' })),
});

export const MIN_INTERVAL_MS = 1000;
export const MAX_CONCURRENT_RUNS = 3;

/** Gateway-wide (per process) state: runs in progress and the last start. */
const state = { running: 0, lastRun: 0 };

interface EndpointResult {
  address: string;
  status?: number;
  latency_ms: number;
  body?: string;
  body_truncated?: boolean;
  headers?: Record<string, string | string[]>;
  error?: string;
}

function probe(
  target: { address: string; port: number; host: string },
  o: { method: string; path: string; timeoutMs: number; maxBody: number; headers: boolean; traceId: string },
  signal: AbortSignal,
): Promise<EndpointResult> {
  const shown = target.address.includes(':') ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`;
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Omit<EndpointResult, 'address' | 'latency_ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ address: shown, ...r, latency_ms: Math.round(performance.now() - t0) });
    };
    const req = http.request(
      { host: target.address, port: target.port, method: o.method, path: o.path, agent: false, headers: { host: target.host, 'x-trace-id': o.traceId, 'user-agent': 'edgion-all-endpoint-status' }, signal },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on('data', (c: Buffer) => {
          if (size >= o.maxBody) {
            truncated = true;
            return;
          }
          const room = o.maxBody - size;
          if (c.length > room) truncated = true;
          const part = c.length > room ? c.subarray(0, room) : c;
          chunks.push(part);
          size += part.length;
          if (truncated) res.destroy();
        });
        const end = () => {
          const headers: Record<string, string | string[]> = {};
          if (o.headers) for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = v;
          finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), body_truncated: truncated, ...(o.headers ? { headers } : {}) });
        };
        res.on('end', end);
        res.on('close', end);
        res.on('error', end);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ error: `timeout after ${o.timeoutMs} ms` });
    }, o.timeoutMs);
    req.on('error', (err: Error & { code?: string }) => finish({ error: signal.aborted ? 'wall timeout' : (err.code ?? err.message) }));
    req.end();
  });
}

export const AllEndpointStatus = definePlugin({
  type: 'AllEndpointStatus',
  stages: ['requestPlugins'],
  schema: Schema,
  create(c, deps) {
    const run = async (s: PluginSession): Promise<PluginReply> => {
      const t0 = performance.now();
      const method = c.methodOverride ?? s.method;
      const path = c.pathOverride ?? s.uri;
      const backends = s.backends();
      const targets: { b: number; address: string; port: number; host: string }[] = [];
      let total = 0;
      for (let i = 0; i < backends.length; i++) {
        const b = backends[i]!;
        for (const e of b.endpoints) {
          total++;
          if (targets.length < c.maxEndpoints) targets.push({ b: i, address: e.address, port: e.port, host: b.name });
        }
      }
      const wall = new AbortController();
      let wallHit = false;
      const wallTimer = setTimeout(() => {
        wallHit = true;
        wall.abort();
      }, c.wallTimeoutMs);
      const results: (EndpointResult | undefined)[] = Array.from({ length: targets.length });
      let next = 0;
      const worker = async () => {
        while (next < targets.length && !wall.signal.aborted) {
          const i = next++;
          results[i] = await probe(targets[i]!, { method, path, timeoutMs: c.timeoutMs, maxBody: c.maxBodySize, headers: c.includeResponseHeaders, traceId: s.traceId }, wall.signal);
        }
      };
      await Promise.all(Array.from({ length: Math.min(c.concurrencyLimit, targets.length) }, worker));
      clearTimeout(wallTimer);
      let ok = 0;
      let failed = 0;
      let bytes = 0;
      const out = backends.map((b) => ({ name: b.name, namespace: b.namespace, port: b.port ?? 80, endpoint_count: b.endpoints.length, endpoints: [] as EndpointResult[] }));
      targets.forEach((t, i) => {
        const r = results[i] ?? { address: t.address.includes(':') ? `[${t.address}]:${t.port}` : `${t.address}:${t.port}`, latency_ms: 0, error: 'wall timeout' };
        if (r.status !== undefined && r.status >= 200 && r.status < 400 && r.error === undefined) ok++;
        else failed++;
        bytes += r.body !== undefined ? Buffer.byteLength(r.body) : 0;
        out[t.b]!.endpoints.push(r);
      });
      const summary = {
        total_backends: backends.length,
        total_endpoints: total,
        success_count: ok,
        failure_count: failed,
        truncated: total > targets.length,
        timeout_ms: c.timeoutMs,
        wall_timeout_ms: c.wallTimeoutMs,
        total_latency_ms: Math.round(performance.now() - t0),
        total_response_bytes: bytes,
        wall_timeout_hit: wallHit,
      };
      s.log(`${ok}/${targets.length} endpoints answered`);
      return { status: 200, headers: { 'content-type': 'application/json', connection: 'close', 'cache-control': 'no-store' }, body: JSON.stringify({ summary, backends: out }) };
    };

    return {
      onRequest(s) {
        const limited = (waitMs: number): PluginReply => {
          const secs = Math.max(1, Math.ceil(waitMs / 1000));
          return { status: 429, headers: { 'content-type': 'application/json', 'retry-after': String(secs), 'cache-control': 'no-store' }, body: JSON.stringify({ error: `rate limited, retry after ${secs}s` }), error: 'AllEndpointStatusRateLimited' };
        };
        const now = deps.now();
        if (now - state.lastRun < MIN_INTERVAL_MS) return limited(MIN_INTERVAL_MS - (now - state.lastRun));
        if (state.running >= MAX_CONCURRENT_RUNS) {
          return { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '1', 'cache-control': 'no-store' }, body: JSON.stringify({ error: `too many concurrent runs (at most ${MAX_CONCURRENT_RUNS})` }), error: 'AllEndpointStatusBusy' };
        }
        const start = (r: { allowed: boolean; resetAt: number }): PluginReply | Promise<PluginReply> => {
          if (!r.allowed) return limited(r.resetAt - deps.now());
          if (state.running >= MAX_CONCURRENT_RUNS) {
            return { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '1', 'cache-control': 'no-store' }, body: JSON.stringify({ error: `too many concurrent runs (at most ${MAX_CONCURRENT_RUNS})` }), error: 'AllEndpointStatusBusy' };
          }
          state.lastRun = deps.now();
          state.running++;
          return run(s).finally(() => state.running--);
        };
        const r = deps.counters.take('AllEndpointStatus|gateway', 1, 1, MIN_INTERVAL_MS);
        return r instanceof Promise ? r.then(start) : start(r);
      },
    };
  },
});

/** Tests: forget the last run. */
export function resetAllEndpointStatusState(): void {
  state.running = 0;
  state.lastRun = 0;
}
