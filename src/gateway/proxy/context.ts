// Per-request state. One object per request carries everything the pipeline, the upstream
// handler and the access log need; it is also the undici dispatch handler, so proxying a request
// allocates no closures.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Duplex } from 'node:stream';
import type { ClusterIR, EndpointIR } from '../../ir/index.js';
import type { CompiledBackend, CompiledRule, GatewayRuntime, ListenerRuntime } from '../compile/runtime.js';
import type { MatchRequest } from '../routing/route-table.js';
import type { ResponseHeaders } from '../pipeline/steps.js';
import { HeaderList } from './header-list.js';
import type { CompiledEntry, CompiledPluginSet } from '../plugins-engine/plugin-host.js';
import type { PluginRun, PluginSessionImpl } from '../plugins-engine/session.js';
import type { UpstreamOverride } from '../../plugins/runtime/define-plugin.js';

export interface UpstreamAttempt {
  endpoint: EndpointIR;
  /** The balancer that picked it (told when the attempt ends: least-conn, EWMA). */
  balancer?: import('../upstream/balancer.js').Balancer;
  startedAt: number;
  connectedAt?: number;
  headersAt?: number;
  firstByteAt?: number;
  endedAt?: number;
  status?: number;
  bytes: number;
  error?: string;
}

/** What a RequestContext calls back into: the engine that owns pools, logs and metrics. */
export interface ProxyCallbacks {
  onUpstreamHeaders(ctx: RequestContext, status: number, headers: ResponseHeaders): void;
  onUpstreamData(ctx: RequestContext, chunk: Buffer): void;
  onUpstreamEnd(ctx: RequestContext, trailers: ResponseHeaders): void;
  onUpstreamError(ctx: RequestContext, err: Error): void;
  onClientClose(ctx: RequestContext): void;
  onUpstreamUpgrade(ctx: RequestContext, status: number, headers: ResponseHeaders, socket: Duplex): void;
}

/** A response header edit of the request phase: a plain set/append/remove, or any edit as a function. */
export type ResponseOp = HeaderEdit | ((headers: ResponseHeaders) => void);

/** A set (replace), append (one more line) or remove of one response header; data, not a closure per edit. */
export class HeaderEdit {
  constructor(
    readonly kind: 'set' | 'append' | 'remove',
    /** Lower case. */
    readonly name: string,
    readonly value: string,
  ) {}
}

/** Applies the request phase's response header edits, in the order they were asked for. */
export function applyResponseOps(ops: readonly ResponseOp[], h: ResponseHeaders): void {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (typeof op === 'function') {
      op(h);
      continue;
    }
    const n = op.name;
    if (op.kind === 'set') h[n] = op.value;
    else if (op.kind === 'remove') delete h[n];
    else {
      const cur = h[n];
      h[n] = cur === undefined ? op.value : Array.isArray(cur) ? [...cur, op.value] : [cur, op.value];
    }
  }
}

/** A WebSocket (or other Upgrade) request: the client socket and any bytes read past the headers. */
export interface UpgradeInfo {
  socket: Duplex;
  head: Buffer;
}

export class RequestContext implements MatchRequest, Dispatcher.DispatchHandler {
  /** Wall clock at start (access log `ts` base) and monotonic start for durations. */
  readonly startedAt = Date.now();
  readonly t0 = performance.now();

  readonly method: string;
  /** Raw request target as received (path + query). */
  readonly url: string;
  /** Normalised path used for matching and rewrites. */
  path = '/';
  /** Raw query string without `?` ('' when none). */
  queryString = '';
  host = '';
  traceId = '';
  clientAddr = '';
  clientPort = 0;
  /** Real client IP (trusted proxies resolved). */
  remoteAddr = '';
  /** X-Forwarded-For as received. */
  xff: string | undefined;
  tls = false;
  sni: string | undefined;
  /** TLS connection id (ssl.log `tls_id`). */
  tlsId: string | undefined;
  /** Verified client certificate as JSON (access log `client_cert_info`), when the EdgionTls exposes it. */
  clientCertJson: string | undefined;
  /** gRPC, WebSocket... (access log `discover_protocol`). */
  protocol: string | undefined;

  listener: ListenerRuntime | undefined;
  rule: CompiledRule | undefined;
  matchIndex = 0;
  matchedPrefix: string | undefined;
  params: Record<string, string> | undefined;

  /** The request sent upstream, edited by filters and plugins. */
  upHeaders: HeaderList;
  upPath: string;
  upMethod: string;
  hasBody = false;

  /** Response header edits requested during the request phase; also applied to replies the gateway makes. */
  responseOps: ResponseOp[] | undefined;
  /** ctx variables (CtxSet, plugins) shown in the access log. */
  vars: Record<string, string> | undefined;

  /** Plugin sets whose request stage ran: their response stages and log hooks run later. */
  pluginSets: CompiledPluginSet[] | undefined;
  session: PluginSessionImpl | undefined;
  pluginRuns: PluginRun[] | undefined;
  /** Set by DirectEndpoint / DynamicUpstream plugins. */
  upstreamOverride: UpstreamOverride | undefined;
  /** The request body, when a plugin buffered it (sent upstream instead of the stream). */
  requestBody: Buffer | undefined;
  /** Response body filters of the plugin sets that ran, and the chain that keeps chunks in order. */
  bodyFilters: CompiledEntry[] | undefined;
  bodyChain: Promise<void> | undefined;
  /** Session persistence: the endpoint a session cookie/header points at; whether it was honoured. */
  sessionEndpoint: EndpointIR | undefined;
  sessionPinned: boolean | undefined;
  /** When the pinned session began (seconds), kept when its cookie or header is renewed. */
  sessionStartedSec: number | undefined;
  /** An attempt is being dropped to retry (its abort must not end the request). */
  retrying = false;
  /** Set for Upgrade (WebSocket) requests. */
  upgrade: UpgradeInfo | undefined;
  /** grpc-status that came in a trailers-only upstream answer, re-sent as trailers. */
  grpcStatusTrailers: Record<string, string> | undefined;

  backend: CompiledBackend | undefined;
  cluster: ClusterIR | undefined;
  attempts: UpstreamAttempt[] = [];
  controller: Dispatcher.DispatchController | undefined;

  status = 0;
  errors: string[] | undefined;
  responseBytes = 0;
  /** Upstream Content-Length when small (-1 otherwise), and a whole body held for end(). */
  smallBodyLength = -1;
  heldBody: Buffer | undefined;
  finished = false;
  /** The upstream response is being streamed to the client. */
  streaming = false;
  deadline: NodeJS.Timeout | undefined;
  private queryParams: URLSearchParams | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly runtime: GatewayRuntime,
    readonly listenerPort: number,
    private readonly callbacks: ProxyCallbacks,
  ) {
    this.method = req.method ?? 'GET';
    this.url = req.url ?? '/';
    this.upMethod = this.method;
    this.upPath = this.url;
    this.upHeaders = new HeaderList();
  }

  // MatchRequest ---------------------------------------------------------------------------
  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  query(name: string): string | undefined {
    this.queryParams ??= new URLSearchParams(this.queryString);
    return this.queryParams.get(name) ?? undefined;
  }

  /** The client went away before the response was complete. */
  onClientClose(): void {
    this.callbacks.onClientClose(this);
  }

  addError(name: string): void {
    (this.errors ??= []).push(name);
  }

  setVar(name: string, value: string): void {
    (this.vars ??= {})[name] = value;
  }

  get currentAttempt(): UpstreamAttempt | undefined {
    return this.attempts[this.attempts.length - 1];
  }

  // undici DispatchHandler -----------------------------------------------------------------
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    if (statusCode < 200) return; // 1xx informational: not forwarded
    this.callbacks.onUpstreamHeaders(this, statusCode, headers);
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.callbacks.onUpstreamData(this, chunk);
  }

  onResponseEnd(_c: Dispatcher.DispatchController, trailers: ResponseHeaders): void {
    this.callbacks.onUpstreamEnd(this, trailers);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.callbacks.onUpstreamError(this, err);
  }

  onRequestUpgrade(_c: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders, socket: Duplex): void {
    this.callbacks.onUpstreamUpgrade(this, statusCode, headers, socket);
  }
}
