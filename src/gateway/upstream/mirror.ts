// RequestMirror (Gateway API filter and the plugin of the same name share this): a copy of the
// request goes to another backend, fire-and-forget. The mirror never slows or fails the main
// request: it is sampled, bounded in concurrency, has its own short timeouts, and its answer is
// discarded. A request body is mirrored only when it is small and of known length (it is
// buffered once and sent to both); larger or chunked bodies are not mirrored (logged as such).

import type { Dispatcher } from 'undici';
import type { ClusterIR, RequestMirrorIR } from '../../ir/index.js';
import type { Logger } from '../../shared/logger.js';
import type { AccessLog } from '../observe/access-log.js';
import type { RequestContext } from '../proxy/context.js';
import type { RequestStep } from '../pipeline/steps.js';
import type { Balancers } from './balancer.js';
import type { UpstreamPools } from './pools.js';

export const MIRROR_MAX_BODY = 1024 * 1024;

export interface MirrorStats {
  byStatus: Map<string, number>;
  durationMsSum: number;
}

export interface MirrorDeps {
  pools: UpstreamPools;
  balancers: Balancers;
  logger: Logger;
  log: AccessLog | undefined;
  stats: MirrorStats;
}

type MirrorStatus = 'ok' | 'connect_err' | 'connect_timeout' | 'write_err' | 'timeout' | 'channel_full' | 'body_too_large' | 'no_endpoint' | 'unresolved';

export class Mirror {
  private inFlight = 0;

  constructor(
    private readonly spec: RequestMirrorIR,
    private readonly deps: MirrorDeps,
  ) {}

  /** A RequestStep that mirrors and always continues. */
  step(): RequestStep {
    return {
      name: 'RequestMirror',
      run: (ctx) => {
        if (this.spec.percent < 100 && Math.random() * 100 >= this.spec.percent) return undefined;
        return this.start(ctx);
      },
    };
  }

  /** Starts mirroring `ctx`; returns a promise only when the body has to be buffered first. */
  start(ctx: RequestContext): Promise<undefined> | undefined {
    const cluster = this.spec.cluster ? ctx.runtime.clusters.get(this.spec.cluster) : undefined;
    if (!cluster) return this.record(ctx, 'unresolved', 0), undefined;
    // A BackendTLSPolicy that cannot be applied: the mirror is not sent (never without verified TLS).
    if (cluster.tls?.error !== undefined) return this.record(ctx, 'unresolved', 0, undefined, cluster.tls.error), undefined;
    if (this.inFlight >= this.spec.maxConcurrent) return this.record(ctx, 'channel_full', 0), undefined;
    if (!ctx.hasBody) return this.send(ctx, cluster, null), undefined;
    const length = Number(ctx.req.headers['content-length']);
    if (!Number.isFinite(length) || length > MIRROR_MAX_BODY) return this.record(ctx, 'body_too_large', 0), undefined;
    if (ctx.requestBody !== undefined) return this.send(ctx, cluster, ctx.requestBody), undefined;
    // Buffer the (small) body once: the main request then sends the buffer too.
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      ctx.req.on('data', (c: Buffer) => chunks.push(c));
      ctx.req.once('end', () => {
        ctx.requestBody = Buffer.concat(chunks);
        this.send(ctx, cluster, ctx.requestBody);
        resolve(undefined);
      });
      ctx.req.once('error', () => resolve(undefined));
    });
  }

  private send(ctx: RequestContext, cluster: ClusterIR, body: Buffer | null): void {
    const ep = this.deps.balancers.get(cluster).pick();
    if (!ep) return this.record(ctx, 'no_endpoint', 0);
    const pool = this.deps.pools.get(cluster, ep, { connectTimeoutMs: this.spec.connectTimeoutMs, idleTimeoutMs: 60_000 });
    const headers: string[] = [];
    const items = ctx.upHeaders.items;
    for (let i = 0; i < items.length; i += 2) {
      if (items[i] === 'host') continue;
      headers.push(items[i]!, items[i + 1]!);
    }
    headers.push('host', `${ep.address}:${ep.port}`, 'x-mirror', 'true');
    const started = performance.now();
    this.inFlight++;
    let done = false;
    const finish = (status: MirrorStatus, error?: string) => {
      if (done) return;
      done = true;
      this.inFlight--;
      this.record(ctx, status, performance.now() - started, `${ep.address}:${ep.port}`, error);
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart() {},
      onResponseData() {},
      onResponseEnd: () => finish('ok'),
      onResponseError: (_c, err) => {
        const code = (err as { code?: string }).code ?? '';
        finish(code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect_timeout' : code === 'ECONNREFUSED' ? 'connect_err' : code.includes('TIMEOUT') ? 'timeout' : 'write_err', err.message);
      },
    };
    try {
      pool.dispatch(
        { path: ctx.upPath, method: ctx.upMethod as Dispatcher.HttpMethod, headers, body, headersTimeout: this.spec.writeTimeoutMs * 5, bodyTimeout: this.spec.writeTimeoutMs * 5 },
        handler,
      );
    } catch (err) {
      finish('write_err', (err as Error).message);
    }
  }

  private record(ctx: RequestContext, status: MirrorStatus, ms: number, target?: string, error?: string): void {
    const st = this.deps.stats;
    st.byStatus.set(status, (st.byStatus.get(status) ?? 0) + 1);
    st.durationMsSum += ms;
    if (this.spec.log === false) return;
    this.deps.log?.write(
      JSON.stringify({
        ts: Date.now(),
        'x-trace-id': ctx.traceId,
        target: target ?? `${this.spec.backend.namespace}/${this.spec.backend.name}:${this.spec.backend.port ?? ''}`,
        status,
        et: Math.round(ms),
        ...(error ? { error } : {}),
      }),
    );
  }
}
