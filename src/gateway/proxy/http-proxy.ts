// The HTTP request path: listener → host → route → request steps → backend → upstream → response
// steps → access log. Reads only compiled structures of the runtime the request started with.

import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHash, randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import type { ClusterIR, EndpointIR } from '../../ir/index.js';
import type { Logger } from '../../shared/logger.js';
import type { CompiledBackend, CompiledRule, GatewayRuntime, HttpPortRuntime, ListenerRuntime } from '../compile/runtime.js';
import { isPromise, type Reply, type RequestStep, type ResponseHeaders, type StepResult } from '../pipeline/steps.js';
import { normalizeHost } from '../routing/host-index.js';
import { normalizePath } from '../routing/path.js';
import type { AccessLog } from '../observe/access-log.js';
import { formatAccessLine } from '../observe/access-log.js';
import type { GatewayMetrics } from '../observe/metrics.js';
import type { UpstreamPools } from '../upstream/pools.js';
import { IDEMPOTENT_METHODS } from '../upstream/h1-pool.js';
import { endpointKey, type Balancer, type Balancers } from '../upstream/balancer.js';
import type { UpstreamHealth } from '../upstream/health.js';
import { cookieValue } from '../../plugins/runtime/key-get.js';
import { RequestContext, applyResponseOps, type ProxyCallbacks } from './context.js';
import { HOP_BY_HOP, connectionTokens } from './hop-by-hop.js';
import { GatewayError, errorBodyText } from './status-text.js';
import { resolveRealIp } from './real-ip.js';
import type { PluginRunner } from '../plugins-engine/plugin-steps.js';
import { stageLogsJson } from '../plugins-engine/plugin-steps.js';

export interface HttpProxyDeps {
  logger: Logger;
  accessLog: AccessLog | undefined;
  metrics: GatewayMetrics;
  pools: UpstreamPools;
  balancers: Balancers;
  /**
   * Checks that run once the listener is known and before routing (TLS SNI/Host match, client
   * certificate details, ACME HTTP-01 challenges...). The first that returns a Reply answers.
   */
  guards?: RequestGuard[];
  /** Runs when no listener of the port accepts the Host (TLS: 421 when the Host is not the SNI). */
  unmatchedHostGuard?: RequestGuard;
  /** Runs EdgionPlugins response stages, body filters and log hooks. */
  plugins?: PluginRunner;
  /** Active and passive endpoint health (passive failures are reported here). */
  health?: UpstreamHealth;
}

export type RequestGuard = (ctx: RequestContext) => Reply | undefined;

/** Headers the gateway sets itself on the upstream request; the client's copies are replaced. */
const REPLACED = new Set(['x-forwarded-for', 'x-real-ip', 'x-forwarded-proto', 'x-forwarded-host', 'x-trace-id', 'expect']);

const kCtx = Symbol('edgion.ctx');

function onResponseClose(this: ServerResponse): void {
  const ctx = (this as unknown as { [kCtx]?: RequestContext })[kCtx];
  if (ctx !== undefined && !ctx.finished) ctx.onClientClose();
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);

export class HttpProxy implements ProxyCallbacks {
  /** Set while the gateway drains: responses carry `Connection: close`. */
  draining = false;

  constructor(private readonly deps: HttpProxyDeps) {}

  /**
   * An Upgrade request (WebSocket). It goes through the same listener, route and plugin checks as
   * any request; gateway-made answers (404, 401...) are written on the socket through a
   * ServerResponse bound to it; a 101 from the upstream joins the two sockets.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, runtime: GatewayRuntime, port: HttpPortRuntime, tls: boolean): void {
    const res = new ServerResponse(req);
    res.assignSocket(socket as import('node:net').Socket);
    res.shouldKeepAlive = false;
    this.handle(req, res, runtime, port, tls, { socket, head });
  }

  /** Entry point from the HTTP servers. `runtime` is the snapshot current when the request arrived. */
  handle(req: IncomingMessage, res: ServerResponse, runtime: GatewayRuntime, port: HttpPortRuntime, tls: boolean, upgrade?: { socket: Duplex; head: Buffer }): void {
    const ctx = new RequestContext(req, res, runtime, port.port, this);
    ctx.tls = tls;
    if (upgrade !== undefined) {
      ctx.upgrade = upgrade;
      ctx.protocol = 'websocket';
    }
    if (tls) ctx.sni = (req.socket as { servername?: string | false }).servername || undefined;
    const m = this.deps.metrics;
    m.active++;
    (res as unknown as { [kCtx]?: RequestContext })[kCtx] = ctx;
    res.on('close', onResponseClose);

    const sock = req.socket;
    ctx.clientAddr = sock.remoteAddress ?? '';
    ctx.clientPort = sock.remotePort ?? 0;
    if (ctx.clientAddr.startsWith('::ffff:')) ctx.clientAddr = ctx.clientAddr.slice(7);

    // One pass over the raw headers: copy what goes upstream, pick out what the gateway needs.
    const raw = req.rawHeaders;
    const up = ctx.upHeaders.items;
    let host: string | undefined;
    let connection: string | undefined;
    let xfp: string | undefined;
    let xfh: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      const value = raw[i + 1]!;
      if (name.charCodeAt(0) === 58 /* : */) {
        // HTTP/2 pseudo-headers: the authority is the Host; the rest is already in method and url.
        if (name === ':authority') host ??= value;
        continue;
      }
      if (HOP_BY_HOP.has(name)) {
        if (name === 'connection') connection = value;
        else if (name === 'transfer-encoding') ctx.hasBody = true;
        continue;
      }
      if (REPLACED.has(name)) {
        if (name === 'x-forwarded-for') ctx.xff = ctx.xff === undefined ? value : `${ctx.xff}, ${value}`;
        else if (name === 'x-trace-id') ctx.traceId = value;
        else if (name === 'x-forwarded-proto') xfp = value;
        else if (name === 'x-forwarded-host') xfh = value;
        continue;
      }
      if (name === 'host') {
        host ??= value;
        continue; // re-added below from the normalised value so HTTP/2 and HTTP/1 upstreams agree
      }
      if (name === 'content-type' && value.startsWith('application/grpc')) ctx.protocol = value.startsWith('application/grpc-web') ? 'grpc-web' : 'grpc';
      else if (name === 'content-length' && value !== '0') ctx.hasBody = true;
      up.push(name, value);
    }
    if (connection !== undefined) {
      const extra = connectionTokens(connection);
      if (extra) for (const n of extra) ctx.upHeaders.remove(n);
    }
    if (!ctx.traceId) ctx.traceId = randomUUID();
    // HTTP/2 has no Content-Length or Transfer-Encoding to tell: the stream says whether a body follows.
    if (req.httpVersionMajor === 2) ctx.hasBody = !(req as unknown as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders;

    const url = ctx.url;
    const qi = url.indexOf('?');
    ctx.queryString = qi === -1 ? '' : url.slice(qi + 1);
    ctx.path = normalizePath(url);

    if (host === undefined || host === '') {
      ctx.host = '';
      return this.fail(ctx, 400, 'missing Host header', GatewayError.HostMissing);
    }
    ctx.host = normalizeHost(host);
    up.push('host', host);

    const listener = port.listeners.lookup(ctx.host);
    if (listener === undefined) {
      const misdirected = this.deps.unmatchedHostGuard?.(ctx);
      if (misdirected !== undefined) return this.reply(ctx, misdirected);
      return this.fail(ctx, 404, `no listener on port ${port.port} accepts host ${ctx.host}`, GatewayError.NoListener);
    }
    ctx.listener = listener;
    const s = listener.settings;
    ctx.remoteAddr = resolveRealIp(ctx, s);

    if (raw.length / 2 > s.maxHeaderCount) {
      return this.fail(ctx, 431, `more than ${s.maxHeaderCount} request headers`, GatewayError.HeaderTooLarge);
    }
    if (ctx.xff !== undefined && ctx.xff.length > s.xffLimit) {
      return this.fail(ctx, 400, `X-Forwarded-For is ${ctx.xff.length} bytes, over the limit of ${s.xffLimit}`, GatewayError.XffHeaderTooLong);
    }
    const guards = this.deps.guards;
    if (guards !== undefined) {
      for (let i = 0; i < guards.length; i++) {
        const r = guards[i]!(ctx);
        if (r !== undefined) return this.reply(ctx, r);
      }
    }
    if (s.httpsRedirectPort !== undefined && !tls) {
      const portPart = s.httpsRedirectPort === 443 ? '' : `:${s.httpsRedirectPort}`;
      return this.reply(ctx, { status: 301, headers: { location: `https://${ctx.host}${portPart}${url.startsWith('/') ? url : ctx.path}`, connection: 'close' }, body: '' });
    }

    const trusted = s.trustedProxies.has(ctx.clientAddr);
    ctx.upHeaders.set('x-forwarded-proto', trusted && xfp ? xfp : tls ? 'https' : 'http');
    ctx.upHeaders.set('x-forwarded-host', trusted && xfh ? xfh : host);

    const routes = listener.hosts.lookup(ctx.host);
    // gRPC requests try GRPCRoutes first and fall back to HTTPRoutes (resources.md §8).
    const grpc = ctx.protocol === 'grpc' || ctx.protocol === 'grpc-web';
    const hit = (grpc ? routes?.grpc?.match(ctx.path, ctx) : undefined) ?? routes?.http.match(ctx.path, ctx);
    if (hit === undefined) {
      return this.fail(ctx, 404, `no route for host ${ctx.host} path ${ctx.path}`, GatewayError.RouteNotFound);
    }
    const rule = hit.rule;
    ctx.rule = rule;
    ctx.matchIndex = hit.matchIndex;
    ctx.matchedPrefix = hit.matchedPrefix;
    ctx.params = hit.params;
    if (rule.requestTimeoutMs !== undefined) {
      ctx.deadline = setTimeout(() => this.deadlineExpired(ctx), rule.requestTimeoutMs);
    }
    if (ctx.method === 'OPTIONS' && !rule.cors && !listener.globalCors && isPreflight(ctx, listener)) {
      // A preflight on a route without a Cors plugin is answered by the gateway (resources.md §9.2).
      return this.reply(ctx, { status: listener.gateway.config.preflightPolicy.statusCode, body: '' });
    }
    const globals = listener.globalSteps;
    if (globals.length) this.runSteps(ctx, globals, 0, () => this.runSteps(ctx, rule.steps, 0, () => this.chooseBackend(ctx, rule)));
    else this.runSteps(ctx, rule.steps, 0, () => this.chooseBackend(ctx, rule));
  }

  /** Runs request steps from `i`; stays synchronous until a step returns a promise. */
  private runSteps(ctx: RequestContext, steps: readonly RequestStep[], i: number, next: () => void): void {
    for (; i < steps.length; i++) {
      if (ctx.finished) return;
      let r: StepResult | Promise<StepResult>;
      try {
        r = steps[i]!.run(ctx);
      } catch (err) {
        return this.stepFailed(ctx, steps[i]!, err);
      }
      if (isPromise<StepResult>(r)) {
        const at = i;
        r.then(
          (v) => {
            if (ctx.finished) return;
            if (v) return this.reply(ctx, v);
            this.runSteps(ctx, steps, at + 1, next);
          },
          (err: unknown) => this.stepFailed(ctx, steps[at]!, err),
        );
        return;
      }
      if (r) return this.reply(ctx, r);
    }
    if (!ctx.finished) next();
  }

  private stepFailed(ctx: RequestContext, step: RequestStep, err: unknown): void {
    const route = ctx.rule ? `${ctx.rule.routeKey} rule ${ctx.rule.ruleIndex}` : 'no route';
    this.deps.logger.error({ plugin: step.name, route, traceId: ctx.traceId, err: (err as Error)?.message ?? String(err) }, `plugin ${step.name} failed`);
    if (ctx.finished) return;
    this.fail(ctx, 500, `plugin ${step.name} failed`, GatewayError.PluginError);
  }

  private chooseBackend(ctx: RequestContext, rule: CompiledRule): void {
    const override = ctx.upstreamOverride;
    if (override !== undefined && override.kind === 'external') return this.forwardExternal(ctx, override);
    if (rule.backends.length === 0) {
      return this.fail(ctx, 500, `route ${rule.routeKey} rule ${rule.ruleIndex} has no backendRefs`, GatewayError.BackendUnresolved);
    }
    const pinned = override === undefined && rule.sessionPersistence ? this.sessionTarget(ctx, rule) : undefined;
    const backend = pinned?.backend ?? (override !== undefined ? rule.backends[override.kind === 'backend' ? override.index : override.backend] : rule.picker.pick());
    if (backend === undefined) {
      return this.fail(ctx, 500, `route ${rule.routeKey} rule ${rule.ruleIndex}: every backendRef has weight 0`, GatewayError.BackendUnresolved);
    }
    ctx.backend = backend;
    const ref = backend.ref;
    if (ref.error !== undefined) {
      return this.fail(ctx, ref.error.status, ref.error.message, ref.error.reason);
    }
    const cluster = ref.cluster === undefined ? undefined : ctx.runtime.clusters.get(ref.cluster);
    if (cluster === undefined) {
      return this.fail(ctx, 500, `backend ${ref.namespace}/${ref.name} does not resolve`, GatewayError.BackendUnresolved);
    }
    // DirectEndpoint with inheritTls: false talks plain HTTP even to a backend with a BackendTLSPolicy.
    ctx.cluster = override !== undefined && override.kind === 'endpoint' && override.inheritTls === false && cluster.tls !== undefined ? withoutTls(cluster) : cluster;
    if (backend.steps.length) this.runSteps(ctx, backend.steps, 0, () => this.forward(ctx));
    else this.forward(ctx);
  }

  /** The backend and endpoint a session cookie or header points at, if they are still there and healthy. */
  private sessionTarget(ctx: RequestContext, rule: CompiledRule): { backend: CompiledBackend; ep: EndpointIR } | undefined {
    const sp = rule.sessionPersistence!;
    const raw = sp.type === 'Header' ? ctx.upHeaders.get(sp.name.toLowerCase()) : cookieValue(ctx.upHeaders.get('cookie'), sp.name);
    ctx.sessionPinned = false;
    if (!raw) return undefined;
    const session = parseSession(raw, sp, Math.floor(Date.now() / 1000));
    if (session === undefined) return undefined; // expired (idle or absolute timeout): pick anew
    const value = session.value;
    for (const b of rule.backends) {
      const cluster = b.ref.cluster ? ctx.runtime.clusters.get(b.ref.cluster) : undefined;
      if (!cluster) continue;
      const ep = sessionIndex(cluster).get(value);
      if (ep && ep.ready && this.deps.balancers.get(cluster) && this.isHealthy(cluster, ep)) {
        ctx.sessionEndpoint = ep;
        ctx.sessionPinned = true;
        ctx.sessionStartedSec = session.startedSec;
        return { backend: b, ep };
      }
    }
    return undefined;
  }

  private isHealthy(cluster: ClusterIR, ep: EndpointIR): boolean {
    return this.deps.health?.healthFor(cluster.key)(ep) ?? true;
  }

  /**
   * DynamicExternalUpstream: a host outside the cluster. DNS is resolved on every attempt (a retry
   * may pick another address); loopback and unspecified addresses are refused (a config must not
   * reach the gateway's own host) unless the gateway's environment says otherwise:
   * EDGION_EXTERNAL_ALLOW_LOOPBACK=1 (any domain) or a comma list of domains (tests).
   */
  private forwardExternal(ctx: RequestContext, o: Extract<NonNullable<RequestContext['upstreamOverride']>, { kind: 'external' }>): void {
    if (ctx.cluster === undefined) {
      ctx.cluster = {
        key: `_external_|${o.host}:${o.port}|${o.tls ? `tls:${o.servername ?? o.host}` : 'plain'}`,
        namespace: '',
        name: '_external_',
        port: o.port,
        protocol: 'http1',
        endpoints: [],
        lb: { type: 'RoundRobin' },
        ...(o.tls ? { tls: { hostname: o.servername ?? o.host, system: true } } : {}),
      };
      ctx.backend = { ref: { kind: 'External', namespace: '', name: '_external_', port: o.port, weight: 1, filters: [] }, steps: [], responseSteps: [] };
      ctx.upHeaders.set('host', o.hostHeader ?? o.host);
    }
    lookup(o.host, { all: true }).then(
      (found) => {
        if (ctx.finished) return;
        const allowLoopback = loopbackAllowed(o.host);
        const usable = found.map((a) => a.address).filter((a) => allowLoopback || !isLoopbackOrUnspecified(a));
        if (usable.length === 0) {
          return this.fail(ctx, 502, `external upstream ${o.host} resolves only to loopback addresses (${found.map((a) => a.address).join(', ')}), which are refused`, GatewayError.UpstreamConnectFailed);
        }
        const tried = new Set(ctx.attempts.map((a) => a.endpoint.address));
        const fresh = usable.filter((a) => !tried.has(a));
        const pool = fresh.length ? fresh : usable;
        const address = pool[Math.floor(Math.random() * pool.length)]!;
        this.setForwardHeaders(ctx);
        this.dispatch(ctx, { address, port: o.port, ready: true });
      },
      (err: Error & { code?: string }) => {
        if (ctx.finished) return;
        this.fail(ctx, 503, `cannot resolve external upstream ${o.host}: ${err.code ?? err.message}`, GatewayError.UpstreamConnectFailed);
      },
    );
  }

  private setForwardHeaders(ctx: RequestContext): void {
    if (ctx.attempts.length !== 0) return;
    const h = ctx.upHeaders;
    h.set('x-forwarded-for', ctx.xff === undefined ? ctx.clientAddr : `${ctx.xff}, ${ctx.clientAddr}`);
    h.set('x-real-ip', ctx.remoteAddr);
    h.set('x-trace-id', ctx.traceId);
  }

  private forward(ctx: RequestContext): void {
    const cluster = ctx.cluster!;
    const balancer = this.deps.balancers.get(cluster);
    const tried = ctx.attempts.length ? ctx.attempts.map((a) => a.endpoint) : undefined;
    const o = ctx.upstreamOverride;
    let ep: EndpointIR | undefined;
    if (o !== undefined && o.kind === 'endpoint') ep = { address: o.address, port: o.port, ready: true };
    else if (ctx.sessionEndpoint !== undefined && ctx.attempts.length === 0) ep = ctx.sessionEndpoint;
    else ep = balancer.pick(hashKeyFor(ctx, cluster), tried);
    if (ep === undefined) {
      const none = cluster.endpoints.some((e) => e.ready) ? 'no healthy endpoint' : 'no ready endpoint';
      return this.fail(ctx, 503, `${none} for ${cluster.namespace}/${cluster.name}${cluster.port ? ':' + cluster.port : ''}`, GatewayError.BackendNoEndpoint);
    }
    this.setForwardHeaders(ctx);
    if (ctx.attempts.length === 0) {
      // Retries on status codes need the body again: buffer small bodies once.
      const retry = ctx.rule?.retry;
      if (retry && retry.codes.length && ctx.hasBody && ctx.requestBody === undefined && !ctx.upgrade) {
        const length = Number(ctx.req.headers['content-length']);
        if (Number.isFinite(length) && length <= RETRY_BUFFER_BYTES) {
          const chosen = ep;
          return void bufferBody(ctx).then(() => (ctx.finished ? undefined : this.dispatch(ctx, chosen, balancer)));
        }
      }
    }
    this.dispatch(ctx, ep, balancer);
  }

  private dispatch(ctx: RequestContext, ep: EndpointIR, balancer?: Balancer): void {
    const s = ctx.listener!.settings;
    const rule = ctx.rule!;
    // gRPC always goes upstream over HTTP/2 (h2c unless the cluster uses TLS).
    const h2 = rule.grpc || ctx.protocol === 'grpc';
    const pool = this.deps.pools.get(ctx.cluster!, ep, { connectTimeoutMs: s.backendConnectTimeoutMs, idleTimeoutMs: s.backendIdleTimeoutMs }, h2);
    ctx.attempts.push({ endpoint: ep, startedAt: performance.now(), bytes: 0, ...(balancer ? { balancer } : {}) });
    balancer?.started(ep);
    const timeout = rule.backendRequestTimeoutMs ?? s.backendRequestTimeoutMs;
    const opts: Dispatcher.DispatchOptions = {
      path: ctx.upPath,
      method: ctx.upMethod as Dispatcher.HttpMethod,
      headers: ctx.upHeaders.items,
      body: ctx.requestBody ?? (ctx.hasBody ? ctx.req : null),
      headersTimeout: timeout,
      bodyTimeout: timeout,
      ...(ctx.upgrade !== undefined ? { upgrade: ctx.req.headers.upgrade ?? 'websocket' } : {}),
    };
    // TLS upstream (BackendTLSPolicy): SNI is the policy's hostname, not the request's Host.
    const upTls = ctx.cluster?.tls;
    if (upTls !== undefined) {
      if (upTls.hostname) (opts as { servername?: string }).servername = upTls.hostname;
    } else {
      // Plain HTTP has no SNI; naming it spares undici deriving one from the Host header on every
      // request (an IPv4 and an IPv6 regex for each DNS name).
      (opts as { servername?: string }).servername = ep.address;
    }
    try {
      pool.dispatch(opts, ctx);
    } catch (err) {
      this.onUpstreamError(ctx, err as Error);
    }
  }

  // Upstream callbacks ------------------------------------------------------------------------

  /** The upstream accepted the upgrade: send the 101 to the client and join the sockets. */
  onUpstreamUpgrade(ctx: RequestContext, status: number, headers: ResponseHeaders, upstream: Duplex): void {
    const a = ctx.currentAttempt!;
    a.headersAt = performance.now();
    a.status = status;
    const client = ctx.upgrade!.socket;
    if (ctx.finished || client.destroyed) {
      upstream.destroy();
      return;
    }
    this.applyResponseSteps(ctx, status, headers);
    delete headers['keep-alive'];
    let head = `HTTP/1.1 ${status} Switching Protocols\r\n`;
    for (const [k, v] of Object.entries(headers)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) head += `${k}: ${one}\r\n`;
    }
    ctx.status = status;
    ctx.streaming = true;
    ctx.res.detachSocket(client as import('node:net').Socket);
    client.write(head + '\r\n');
    if (ctx.upgrade!.head.length) upstream.write(ctx.upgrade!.head);
    this.logConnectionEstablished(ctx);
    const idleMs = ctx.rule?.backendRequestTimeoutMs ?? ctx.listener!.settings.backendRequestTimeoutMs;
    tunnel(client, upstream, idleMs, (reason) => {
      if (reason) ctx.addError(reason);
      endAttempt(a);
      this.finish(ctx);
    });
  }

  /** The access log's extra line when a long-lived connection is established (`conn_est`). */
  private logConnectionEstablished(ctx: RequestContext): void {
    this.deps.accessLog?.write(formatAccessLine(ctx, ctx.runtime.version, ',"conn_est":true'));
  }

  onUpstreamHeaders(ctx: RequestContext, status: number, upstreamHeaders: ResponseHeaders): void {
    if (ctx.finished) return;
    const a = ctx.currentAttempt!;
    a.headersAt = performance.now();
    a.status = status;
    if (ctx.cluster !== undefined) this.deps.health?.success(ctx.cluster, a.endpoint);
    if (this.retryOnStatus(ctx, status)) return;
    // A fresh object without the hop-by-hop headers (deleting from undici's object would turn it
    // into a slow dictionary for every later step).
    const conn = upstreamHeaders.connection;
    const extra = typeof conn === 'string' ? connectionTokens(conn) : undefined;
    const headers: ResponseHeaders = {};
    for (const k in upstreamHeaders) {
      if (HOP_BY_HOP.has(k) || (extra !== undefined && extra.includes(k))) continue;
      headers[k] = upstreamHeaders[k];
    }
    const sp = ctx.rule?.sessionPersistence;
    // A new session, or (with an idle timeout) a used one whose last-use time moves on.
    if (sp !== undefined && (ctx.sessionPinned === false || (ctx.sessionPinned === true && sp.idleTimeoutMs))) this.setSessionAffinity(ctx, headers, a.endpoint);
    const plugins = this.deps.plugins;
    let finalStatus = status;
    if (plugins !== undefined && ctx.pluginSets !== undefined) {
      finalStatus = plugins.responseHeaders(ctx, status, headers);
      const pending = plugins.response(ctx, finalStatus, headers);
      if (pending !== undefined) {
        const c = ctx.controller;
        c?.pause();
        pending.then(
          (st) => {
            ctx.bodyFilters = plugins.bodyFilters(ctx);
            this.writeUpstreamHead(ctx, st, headers);
            c?.resume();
          },
          () => this.fail(ctx, 500, 'a response plugin failed', GatewayError.PluginError),
        );
        return;
      }
      ctx.bodyFilters = plugins.bodyFilters(ctx);
    }
    this.writeUpstreamHead(ctx, finalStatus, headers);
  }

  private writeUpstreamHead(ctx: RequestContext, status: number, headers: ResponseHeaders): void {
    if (ctx.finished) return;
    if (ctx.protocol === 'grpc' && headers['grpc-status'] !== undefined) {
      // A trailers-only gRPC answer: the status goes out as trailers after the (empty) body.
      ctx.grpcStatusTrailers = { 'grpc-status': String(headers['grpc-status']), ...(headers['grpc-message'] !== undefined ? { 'grpc-message': String(headers['grpc-message']) } : {}) };
      delete headers['grpc-status'];
      delete headers['grpc-message'];
    }
    this.applyResponseSteps(ctx, status, headers);
    ctx.status = status;
    ctx.streaming = true;
    if (ctx.bodyFilters !== undefined) delete headers['content-length']; // filters may change the length
    else {
      const cl = headers['content-length'];
      if (typeof cl === 'string' && cl.length <= 5) {
        const n = Number(cl);
        if (n > 0 && n <= SMALL_BODY) ctx.smallBodyLength = n;
      }
    }
    try {
      ctx.res.writeHead(status, headers as Record<string, string | string[]>);
    } catch (err) {
      // An upstream header node refuses to write (invalid characters): answer 502 instead.
      ctx.streaming = false;
      this.deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'upstream response has an invalid header');
      // The reply aborts the upstream exchange itself, after the 502 is decided (an abort first
      // would report the failure as a plain upstream error).
      const c = ctx.cluster;
      const ep = ctx.currentAttempt?.endpoint;
      const who = `${c ? `${c.namespace}/${c.name}` : 'upstream'}${ep ? ` (${ep.address}:${ep.port})` : ''}`;
      return this.fail(ctx, 502, `${who} sent an invalid response header`, GatewayError.UpstreamError);
    }
  }

  private applyResponseSteps(ctx: RequestContext, status: number, headers: ResponseHeaders): void {
    const rule = ctx.rule;
    if (rule !== undefined) {
      for (const step of rule.responseSteps) step.run(ctx, status, headers);
      const b = ctx.backend;
      if (b !== undefined) for (const step of b.responseSteps) step.run(ctx, status, headers);
    }
    if (ctx.responseOps !== undefined) applyResponseOps(ctx.responseOps, headers);
    headers.server = 'edgion';
    headers['x-trace-id'] = ctx.traceId;
    if (this.draining) headers.connection = 'close';
  }

  onUpstreamData(ctx: RequestContext, chunk: Buffer): void {
    // undici can hand over empty chunks; pausing on one and resuming from a microtask makes its
    // parser deliver empty chunks forever (a busy loop), and there is nothing to write anyway.
    if (!ctx.streaming || chunk.length === 0) return;
    const a = ctx.currentAttempt!;
    if (a.firstByteAt === undefined) a.firstByteAt = performance.now();
    a.bytes += chunk.length;
    if (ctx.bodyFilters !== undefined) return this.filterChunk(ctx, chunk);
    ctx.responseBytes += chunk.length;
    // A small body that arrives whole is sent with end(): head and body leave in one write, with
    // less work in node:http than write() then end().
    if (chunk.length === ctx.smallBodyLength && a.bytes === chunk.length) {
      ctx.heldBody = chunk;
      return;
    }
    if (ctx.heldBody !== undefined) {
      ctx.res.write(ctx.heldBody);
      ctx.heldBody = undefined;
    }
    if (!ctx.res.write(chunk)) {
      const c = ctx.controller;
      if (c !== undefined) {
        c.pause();
        ctx.res.once('drain', () => c.resume());
      }
    }
  }

  /** Body filters may delay chunks (BandwidthLimit): chunks go through one at a time, in order. */
  private filterChunk(ctx: RequestContext, chunk: Buffer): void {
    const c = ctx.controller;
    c?.pause();
    const filters = ctx.bodyFilters!; // taken now: the end of the body clears ctx.bodyFilters before queued chunks run
    ctx.bodyChain = (ctx.bodyChain ?? Promise.resolve()).then(async () => {
      await this.deps.plugins!.filterBody(ctx, filters, chunk, false, (out) => this.writeFiltered(ctx, out));
      if (!ctx.finished) c?.resume(); // also when a filter held the chunk back (it returned nothing)
    });
  }

  /** Writes what the body filters let out, waiting for the client when its buffer is full. */
  private writeFiltered(ctx: RequestContext, out: Buffer): Promise<void> | undefined {
    if (ctx.finished || out.length === 0) return undefined;
    ctx.responseBytes += out.length;
    if (ctx.res.write(out)) return undefined;
    return new Promise((r) => {
      const done = () => {
        ctx.res.off('drain', done);
        ctx.res.off('close', done);
        r();
      };
      ctx.res.once('drain', done);
      ctx.res.once('close', done);
    });
  }

  onUpstreamEnd(ctx: RequestContext, trailers: ResponseHeaders): void {
    const a = ctx.currentAttempt!;
    if (a.endedAt === undefined) endAttempt(a);
    if (!ctx.streaming) return;
    if (ctx.bodyFilters !== undefined) {
      const filters = ctx.bodyFilters;
      ctx.bodyFilters = undefined;
      void (ctx.bodyChain ?? Promise.resolve())
        .then(() => this.deps.plugins!.filterBody(ctx, filters, Buffer.alloc(0), true, (out) => this.writeFiltered(ctx, out)))
        .then(() => this.onUpstreamEnd(ctx, trailers));
      return;
    }
    if ((trailers || ctx.grpcStatusTrailers) && (ctx.res.chunkedEncoding || ctx.req.httpVersionMajor === 2)) {
      const t: Record<string, string> = { ...ctx.grpcStatusTrailers };
      let any = ctx.grpcStatusTrailers !== undefined;
      for (const k in trailers) {
        const v = trailers[k];
        if (v !== undefined) {
          t[k] = Array.isArray(v) ? v.join(', ') : v;
          any = true;
        }
      }
      if (any) ctx.res.addTrailers(t);
    }
    const held = ctx.heldBody;
    if (held !== undefined) {
      ctx.heldBody = undefined;
      ctx.res.end(held);
    } else ctx.res.end();
    this.finish(ctx);
  }

  onUpstreamError(ctx: RequestContext, err: Error): void {
    const a = ctx.currentAttempt;
    const code = (err as { code?: string }).code ?? err.name;
    if (a !== undefined && a.endedAt === undefined) {
      endAttempt(a);
      a.error = `${code}: ${err.message}`;
    }
    if (ctx.finished || ctx.retrying) return;
    if (ctx.streaming) {
      // Headers already went out: all we can do is cut the connection so the client sees it.
      ctx.addError(GatewayError.UpstreamError);
      ctx.res.destroy(err);
      return this.finish(ctx);
    }
    const connectFailure = CONNECT_ERRORS.has(code);
    const timeout = code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    if (connectFailure && ctx.cluster !== undefined && a !== undefined) this.deps.health?.failure(ctx.cluster, a.endpoint, code);
    if (connectFailure && this.canRetry(ctx)) {
      ctx.controller = undefined;
      const o = ctx.upstreamOverride;
      if (o !== undefined && o.kind === 'external') return this.forwardExternal(ctx, o);
      return this.forward(ctx);
    }
    const cluster = ctx.cluster;
    const target = a ? `${a.endpoint.address}:${a.endpoint.port}` : 'upstream';
    const name = cluster ? `${cluster.namespace}/${cluster.name}` : 'backend';
    if (timeout) {
      return this.fail(ctx, 504, `${name} (${target}) did not answer in time (${code})`, GatewayError.UpstreamTimeout);
    }
    if (connectFailure) {
      return this.fail(ctx, 503, `cannot connect to ${name} (${target}): ${code}`, GatewayError.UpstreamConnectFailed);
    }
    return this.fail(ctx, 502, `${name} (${target}) failed: ${code}`, GatewayError.UpstreamError);
  }

  /** Connection failures are retried on another endpoint when nothing of the body was sent yet. */
  private canRetry(ctx: RequestContext): boolean {
    const max = Math.max(ctx.rule?.maxRetries ?? ctx.listener?.settings.maxRetries ?? 0, ctx.rule?.retry?.attempts ?? 0);
    if (ctx.attempts.length > max) return false;
    return !ctx.hasBody || ctx.requestBody !== undefined || !ctx.req.readableDidRead;
  }

  /**
   * Gateway API retry on status codes: the answer is dropped and the request sent again (another
   * endpoint first), after the backoff, doubling per attempt. Only for idempotent methods (or when
   * the route allows others) and replayable bodies.
   */
  private retryOnStatus(ctx: RequestContext, status: number): boolean {
    const retry = ctx.rule?.retry;
    if (retry === undefined || !retry.codes.includes(status) || ctx.upgrade) return false;
    if (ctx.attempts.length > retry.attempts) return false;
    if (!IDEMPOTENT_METHODS.has(ctx.upMethod) && !ctx.rule!.retryNonIdempotent) return false;
    if (ctx.hasBody && ctx.requestBody === undefined) return false;
    const a = ctx.currentAttempt!;
    a.error = `retried: upstream answered ${status}`;
    ctx.retrying = true;
    const c = ctx.controller;
    ctx.controller = undefined;
    c?.abort(new Error('retrying'));
    ctx.retrying = false;
    const delay = retry.backoffMs > 0 ? Math.min(10_000, retry.backoffMs * 2 ** (ctx.attempts.length - 1)) : 0;
    const again = () => {
      if (!ctx.finished) this.forward(ctx);
    };
    if (delay > 0) setTimeout(again, delay).unref();
    else setImmediate(again);
    return true;
  }

  /** Session persistence: a new session is pinned to the endpoint that served it. */
  private setSessionAffinity(ctx: RequestContext, headers: ResponseHeaders, ep: EndpointIR): void {
    const sp = ctx.rule!.sessionPersistence!;
    let value = sessionValue(ctx.cluster!, ep);
    const now = Math.floor(Date.now() / 1000);
    const started = ctx.sessionPinned ? (ctx.sessionStartedSec ?? now) : now;
    if (sp.idleTimeoutMs || (sp.absoluteTimeoutMs && (sp.type === 'Header' || sp.lifetime !== 'Permanent'))) {
      // The gateway enforces the timeouts itself: the value carries when the session began and was last used.
      value += `.${started.toString(36)}.${now.toString(36)}`;
    }
    if (sp.type === 'Header') {
      headers[sp.name.toLowerCase()] = value;
      return;
    }
    let cookie = `${sp.name}=${value}; Path=/; HttpOnly`;
    // A renewed cookie keeps the session's original expiry.
    if (sp.lifetime === 'Permanent' && sp.absoluteTimeoutMs) cookie += `; Max-Age=${Math.max(0, Math.floor(sp.absoluteTimeoutMs / 1000) - (now - started))}`;
    const cur = headers['set-cookie'];
    headers['set-cookie'] = cur === undefined ? cookie : Array.isArray(cur) ? [...cur, cookie] : [cur, cookie];
  }

  // Ending requests -----------------------------------------------------------------------------

  /** A gateway-made error: `<status> <reason>: <why>` (DECISIONS.md §14), logged under `name`. */
  fail(ctx: RequestContext, status: number, why: string, name: string): void {
    this.reply(ctx, { status, body: errorBodyText(status, why), error: name });
  }

  /** Writes a gateway-made response (errors, redirects, plugin replies) and ends the request. */
  reply(ctx: RequestContext, r: Reply): void {
    if (ctx.finished) return;
    if (r.error !== undefined) ctx.addError(r.error);
    if (ctx.protocol === 'grpc' && r.status >= 400 && ctx.req.httpVersionMajor === 2 && !ctx.res.headersSent) return this.replyGrpc(ctx, r);
    const res = ctx.res;
    if (res.headersSent) {
      res.destroy();
      ctx.status = r.status;
      this.finish(ctx);
      return this.abortUpstream(ctx);
    }
    const headers: ResponseHeaders = r.headers ? { ...r.headers } : {};
    let body = r.body;
    if (body === undefined) body = '';
    if (body !== '' && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8';
    if (ctx.responseOps !== undefined) applyResponseOps(ctx.responseOps, headers);
    headers.server = 'edgion';
    if (ctx.traceId) headers['x-trace-id'] = ctx.traceId;
    headers['content-length'] = String(Buffer.byteLength(body));
    if (this.draining || (r.status >= 400 && ctx.hasBody && !ctx.req.complete)) headers.connection = 'close';
    ctx.status = r.status;
    ctx.responseBytes += Buffer.byteLength(body);
    try {
      res.writeHead(r.status, headers as Record<string, string | string[]>);
      res.end(ctx.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'cannot write gateway response');
      res.destroy();
    }
    this.finish(ctx);
    this.abortUpstream(ctx);
  }

  /** A gateway-made error on a gRPC request: HTTP 200 with grpc-status, trailers only. */
  private replyGrpc(ctx: RequestContext, r: Reply): void {
    const code = grpcStatusFor(r.status);
    const text = typeof r.body === 'string' ? r.body.trim() : `${r.status}`;
    const headers: ResponseHeaders = { ...r.headers };
    if (ctx.responseOps !== undefined) applyResponseOps(ctx.responseOps, headers);
    delete headers['content-length'];
    delete headers['content-type'];
    const stream = (ctx.res as unknown as { stream?: import('node:http2').ServerHttp2Stream }).stream;
    ctx.status = r.status;
    try {
      stream?.respond(
        { ...(headers as Record<string, string>), ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeURIComponent(text), server: 'edgion', 'x-trace-id': ctx.traceId },
        { endStream: true },
      );
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, traceId: ctx.traceId }, 'cannot write gRPC error response');
      stream?.close();
    }
    this.finish(ctx);
    this.abortUpstream(ctx);
  }

  /** After the request is finished, so the abort's error callback finds nothing left to do. */
  private abortUpstream(ctx: RequestContext): void {
    const c = ctx.controller;
    if (c !== undefined && !c.aborted) c.abort(new Error('request answered by the gateway'));
  }

  /** `stage_logs` and plugin log fields for the access log line. */
  private pluginLogExtra(ctx: RequestContext): string | undefined {
    if (ctx.pluginRuns === undefined) return undefined;
    let extra = `,"stage_logs":${stageLogsJson(ctx.pluginRuns)}`;
    const fields = this.deps.plugins?.logFields(ctx);
    if (fields !== undefined) extra += `,"plugins":${JSON.stringify(fields)}`;
    return extra;
  }

  private deadlineExpired(ctx: RequestContext): void {
    ctx.deadline = undefined;
    if (ctx.finished) return;
    const ms = ctx.rule?.requestTimeoutMs ?? 0;
    if (ctx.streaming) {
      ctx.addError(GatewayError.RequestDeadline);
      ctx.res.destroy();
      this.finish(ctx);
      return this.abortUpstream(ctx);
    }
    this.fail(ctx, 504, `request did not complete within the route's ${ms} ms timeout`, GatewayError.RequestDeadline);
  }

  onClientClose(ctx: RequestContext): void {
    if (ctx.finished) return;
    ctx.addError(GatewayError.ClientClosed);
    if (!ctx.streaming) ctx.status = 499;
    this.finish(ctx);
    this.abortUpstream(ctx);
  }

  /** Exactly once per request: metrics and the access log line. */
  finish(ctx: RequestContext): void {
    if (ctx.finished) return;
    ctx.finished = true;
    if (ctx.deadline !== undefined) clearTimeout(ctx.deadline);
    const m = this.deps.metrics;
    m.active--;
    m.requests++;
    m.responseBytes += ctx.responseBytes;
    if (ctx.status >= 500 || ctx.status === 0) m.failed++;
    const b = ctx.backend;
    if (b !== undefined && ctx.rule !== undefined && ctx.attempts.length) {
      const gw = ctx.listener!.gateway;
      const cache = (b.stats ??= new Map());
      let st = cache.get(gw);
      if (st === undefined) {
        st = m.backend({
          gateway_namespace: gw.namespace,
          gateway_name: gw.name,
          route_namespace: ctx.rule.routeNamespace,
          route_name: ctx.rule.routeName,
          backend_namespace: b.ref.namespace,
          backend_name: b.ref.name,
          protocol: ctx.protocol ?? 'http',
        });
        cache.set(gw, st);
      }
      st.record(ctx.status);
    }
    const log = this.deps.accessLog;
    if (log !== undefined) log.write(formatAccessLine(ctx, ctx.runtime.version, this.pluginLogExtra(ctx)));
  }
}

export type { ListenerRuntime };

/**
 * Copies bytes both ways until either side closes; a half-close is passed on; no traffic for
 * `idleMs` closes both. `done` runs once, with a reason when the tunnel did not end cleanly.
 */
function tunnel(a: Duplex, b: Duplex, idleMs: number, done: (reason?: string) => void): void {
  let finished = false;
  const end = (reason?: string) => {
    if (finished) return;
    finished = true;
    a.destroy();
    b.destroy();
    done(reason);
  };
  a.pipe(b);
  b.pipe(a);
  for (const s of [a, b]) {
    const sock = s as Duplex & { setTimeout?(ms: number, cb: () => void): void };
    sock.setTimeout?.(idleMs, () => end('WebSocketIdleTimeout'));
    s.on('error', () => end('TunnelError'));
    s.on('close', () => end());
  }
}

const RETRY_BUFFER_BYTES = 64 * 1024;
/** Bodies up to this size that arrive in one piece are sent together with the end of the response. */
const SMALL_BODY = 16 * 1024;

function endAttempt(a: import('./context.js').UpstreamAttempt): void {
  a.endedAt = performance.now();
  a.balancer?.ended(a.endpoint, a.endedAt - a.startedAt);
}

/** The request value consistent hashing uses for this cluster (resources.md §7.8). */
function hashKeyFor(ctx: RequestContext, cluster: ClusterIR): string | undefined {
  const lb = cluster.lb;
  if (lb.type !== 'ConsistentHash') return undefined;
  switch (lb.source) {
    case 'header':
      return ctx.upHeaders.get(lb.name!);
    case 'cookie':
      return cookieValue(ctx.upHeaders.get('cookie'), lb.name!);
    case 'query':
      return ctx.query(lb.name!);
    default:
      return ctx.remoteAddr || ctx.clientAddr;
  }
}

/**
 * A session cookie or header value: `<endpoint id>` or `<endpoint id>.<began>.<last used>` (seconds,
 * base 36) when the route has timeouts the gateway enforces. Undefined when a timeout has passed.
 * The times come back from the client: a forged one only changes that client's own stickiness.
 */
export function parseSession(raw: string, sp: { idleTimeoutMs?: number | undefined; absoluteTimeoutMs?: number | undefined }, nowSec: number): { value: string; startedSec?: number } | undefined {
  const dot = raw.indexOf('.');
  if (dot === -1) return sp.idleTimeoutMs ? undefined : { value: raw };
  const [value, began, used] = raw.split('.');
  const startedSec = parseInt(began ?? '', 36);
  const usedSec = parseInt(used ?? '', 36);
  if (!value || !Number.isFinite(startedSec) || !Number.isFinite(usedSec)) return undefined;
  if (sp.idleTimeoutMs && (nowSec - usedSec) * 1000 > sp.idleTimeoutMs) return undefined;
  if (sp.absoluteTimeoutMs && (nowSec - startedSec) * 1000 > sp.absoluteTimeoutMs) return undefined;
  return { value, startedSec };
}

/** Opaque session value for an endpoint of a cluster (no address leaks to clients). */
function sessionValue(cluster: ClusterIR, ep: { address: string; port: number }): string {
  return createHash('sha256').update(`${cluster.key}|${endpointKey(ep)}`).digest('base64url').slice(0, 22);
}

const sessionIndexes = new WeakMap<ClusterIR, Map<string, EndpointIR>>();
function sessionIndex(cluster: ClusterIR): Map<string, EndpointIR> {
  let m = sessionIndexes.get(cluster);
  if (!m) {
    m = new Map(cluster.endpoints.map((e) => [sessionValue(cluster, e), e]));
    sessionIndexes.set(cluster, m);
  }
  return m;
}

function bufferBody(ctx: RequestContext): Promise<void> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    ctx.req.on('data', (c: Buffer) => chunks.push(c));
    ctx.req.once('end', () => {
      ctx.requestBody = Buffer.concat(chunks);
      resolve();
    });
    ctx.req.once('error', () => resolve());
  });
}

/** gRPC status for a gateway-made HTTP status (gRPC's HTTP mapping; 504 and 429 made specific). */
export function grpcStatusFor(status: number): number {
  switch (status) {
    case 400:
      return 3; // INVALID_ARGUMENT
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
      return 8; // RESOURCE_EXHAUSTED
    case 502:
    case 503:
      return 14; // UNAVAILABLE
    case 504:
      return 4; // DEADLINE_EXCEEDED
    default:
      return status >= 500 ? 13 : 2; // INTERNAL / UNKNOWN
  }
}

let allowList: { raw: string; all: boolean; names: Set<string> } | undefined;
function loopbackAllowed(host: string): boolean {
  const raw = process.env.EDGION_EXTERNAL_ALLOW_LOOPBACK ?? '';
  if (raw === '') return false;
  if (allowList?.raw !== raw) allowList = { raw, all: raw === '1' || raw === 'true', names: new Set(raw.split(',').map((x) => x.trim().toLowerCase())) };
  return allowList.all || allowList.names.has(host.toLowerCase());
}

function withoutTls(c: ClusterIR): ClusterIR {
  const { tls: _tls, ...rest } = c;
  return { ...rest, key: `${c.key}|no-tls` };
}

/** 127.0.0.0/8, ::1, 0.0.0.0, :: and their IPv4-mapped forms. */
export function isLoopbackOrUnspecified(address: string): boolean {
  let a = address.toLowerCase();
  if (a.startsWith('::ffff:')) a = a.slice(7);
  if (isIPv4(a)) return a.startsWith('127.') || a === '0.0.0.0';
  return a === '::1' || a === '::' || /^0*:0*:0*:0*:0*:0*:0*:0*1?$/.test(a);
}

/** A CORS preflight per the Gateway's preflightPolicy (resources.md §9.2). */
function isPreflight(ctx: RequestContext, listener: ListenerRuntime): boolean {
  if (listener.gateway.config.preflightPolicy.mode === 'all-options') return true;
  return ctx.upHeaders.get('origin') !== undefined && ctx.upHeaders.get('access-control-request-method') !== undefined;
}
