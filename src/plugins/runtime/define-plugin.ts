// The plugin contract. A plugin is one file: `definePlugin({ type, stages, schema, create })`.
// `schema` (TypeBox) is both the controller's validation and the config's TypeScript type.
// `create(config, deps)` runs once per snapshot (instances are reused while the config is
// unchanged) and returns the stage handlers the plugin implements. Plugins see a narrow
// PluginSession, never raw sockets or globals, and return decisions: the engine writes responses.

import type { Static, TSchema } from 'typebox';
import type { PluginStage } from '../../ir/plugin.js';
import type { WebhookResolver } from './key-get.js';

export type { PluginStage };

/** A response a plugin decides on (auth failure, mock, rate limit, preflight...). */
export interface PluginReply {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Name for the access log's `errors[]` (e.g. `KeyAuthFailed`). */
  error?: string;
}

/** What a request-stage handler returns: a reply ends the request; undefined continues. */
export type RequestResult = PluginReply | undefined | void;

/** The request as a plugin sees it, and what it may change. */
export interface PluginSession {
  readonly method: string;
  /** Normalised request path (no query). */
  readonly path: string;
  /** Raw query string without `?`. */
  readonly queryString: string;
  /** Host without port, lower-cased. */
  readonly host: string;
  /** `http` or `https` as the client connected (X-Forwarded-Proto from trusted proxies honoured). */
  readonly scheme: string;
  /** Real client IP (trusted proxies and RealIp applied). */
  readonly clientIp: string;
  /** TCP peer address. */
  readonly peerIp: string;
  readonly listenerPort: number;
  readonly traceId: string;
  /** Path parameters captured by `:name` route segments. */
  readonly params: Readonly<Record<string, string>>;
  /** The part of the path the route's PathPrefix matched (undefined for Exact/RegularExpression matches). */
  readonly matchedPrefix: string | undefined;
  /** True for gRPC requests. */
  readonly grpc: boolean;

  header(name: string): string | undefined;
  headerNames(): string[];
  query(name: string): string | undefined;
  cookie(name: string): string | undefined;

  // Upstream request edits
  setHeader(name: string, value: string): void;
  appendHeader(name: string, value: string): void;
  removeHeader(name: string): void;
  /** Upstream path and query (`/a/b?x=1`). */
  setUri(uri: string): void;
  readonly uri: string;
  setMethod(method: string): void;
  setHost(host: string): void;
  setRemoteIp(ip: string): void;

  // Response headers, applied to whatever response the client gets (proxied or plugin-made)
  setResponseHeader(name: string, value: string): void;
  appendResponseHeader(name: string, value: string): void;
  removeResponseHeader(name: string): void;

  // Context variables shared between plugins (and shown in the access log)
  getVar(name: string): string | undefined;
  setVar(name: string, value: string): void;
  removeVar(name: string): void;

  /** Buffers the request body (at most `maxBytes`) so the plugin can read it; it still goes upstream. */
  readBody(maxBytes: number): Promise<Buffer | undefined>;

  /** The verified TLS client certificate of the connection, when there is one. */
  clientCertificate(): PluginClientCert | undefined;

  /** Overrides where the request goes (DirectEndpoint, DynamicUpstream). */
  setUpstream(target: UpstreamOverride): void;
  /** backendRefs of the matched rule (for plugins that choose among them). */
  backends(): readonly BackendChoice[];

  /** Adds a short line to this plugin's access-log entry. */
  log(message: string): void;

  /** The access-log line of this request as known now (DebugAccessLogToHeader). */
  debugAccessLog(): string;
}

export interface PluginClientCert {
  subject: string;
  issuer: string;
  cn?: string;
  sans: string[];
  fingerprint256: string;
  raw: Buffer;
}

export interface BackendChoice {
  namespace: string;
  name: string;
  port?: number;
  weight: number;
  cluster?: string;
  endpoints: { address: string; port: number; ready: boolean }[];
}

export type UpstreamOverride =
  | { kind: 'backend'; index: number }
  | { kind: 'endpoint'; backend: number; address: string; port: number; /** false: plain connection even if the backend has a BackendTLSPolicy (default true). */ inheritTls?: boolean }
  | { kind: 'external'; host: string; port: number; tls: boolean; servername?: string; hostHeader?: string };

/** Response as a response-stage plugin sees it. */
export interface PluginResponse {
  status: number;
  /** Lower-case names; mutable in upstreamResponseFilterPlugins. */
  headers: Record<string, string | string[] | undefined>;
  setStatus(status: number): void;
}

export interface PluginInstance {
  /** requestPlugins */
  onRequest?(s: PluginSession): RequestResult | Promise<RequestResult>;
  /** upstreamResponseFilterPlugins: status and headers, synchronous, no I/O. */
  onResponseHeaders?(s: PluginSession, res: PluginResponse): void;
  /** upstreamResponsePlugins: after headers, bounded I/O. */
  onResponse?(s: PluginSession, res: PluginResponse): Promise<void>;
  /**
   * upstreamResponseBodyFilterPlugins: each chunk (last = the body ended); may delay (a promise),
   * hold data back (return an empty buffer) or send it in paced pieces (an async iterable: each
   * piece goes on to the next filter and the client as soon as it is yielded).
   */
  onBodyChunk?(s: PluginSession, chunk: Buffer, last: boolean): Buffer | Promise<Buffer> | AsyncIterable<Buffer>;
  /** Log stage (always runs): extra access-log fields. */
  onLog?(s: PluginSession, fields: Record<string, unknown>): void;
  /** The snapshot that used this instance is gone: release connections, timers. */
  close?(): void | Promise<void>;
}

/** Shared services a plugin may use; built once per worker, passed to every create(). */
export interface PluginDeps {
  /** Structured logger for the plugin (already tagged with plugin type and resource). */
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Counters shared by every worker of the gateway (rate limits). */
  counters: SharedCounters;
  /** Resolved secrets of this entry: `ns/name` → key → value (text). */
  secrets: Record<string, Record<string, string>>;
  /** The values of `secrets` that are not valid UTF-8 (binary keys), base64: `ns/name` → key → base64. */
  secretsBinary?: Record<string, Record<string, string>>;
  /** The namespace of the EdgionPlugins resource (default for references). */
  namespace: string;
  /** Resolved LinkSys resources by `ns/name` (config objects). */
  linkSys: Record<string, { type: string; config: Record<string, unknown> }>;
  /** Calls LinkSys webhooks for `webhook` keys: pass it to `compileKeyGet(key, deps.webhook)`. */
  webhook?: WebhookResolver;
  /** Wall clock (tests inject a fake one). */
  now(): number;
  /**
   * Stable identity of this entry (plugin set, position, config hash): the same in every worker,
   * so plugins can name gateway-wide state (rate-limit counters) after it.
   */
  id?: string;
}

/** Gateway-wide counters (fixed or sliding windows), global across worker processes. */
export interface SharedCounters {
  /**
   * Adds `cost` to `key` in the window of `windowMs` containing now (aligned to the epoch) and
   * tells whether the result stays within `limit`.
   */
  take(key: string, cost: number, limit: number, windowMs: number, opts?: CounterOptions): Promise<CounterResult> | CounterResult;
}

export interface CounterOptions {
  /**
   * Count `key` in a count-min sketch of this name (memory bounded whatever the number of keys;
   * collisions can only over-count) instead of an exact per-key counter.
   */
  sketch?: string;
  /** Sketch width in thousands of slots (1..1024, default 64). */
  slotsK?: number;
}

export interface CounterResult {
  allowed: boolean;
  /** Count after this take (or the count that refused it). */
  count: number;
  remaining: number;
  /** Epoch ms when the current window ends. */
  resetAt: number;
}

export interface PluginProblem {
  /** Path inside `config` (`keySources[1].type`); '' for the whole config. */
  path: string;
  message: string;
  severity?: 'error' | 'warning';
}

export interface SecretRefSpec {
  name: string;
  namespace?: string;
}

export interface PluginDefinition<S extends TSchema = TSchema> {
  /** The EdgionPlugins `type` (exact, case-sensitive). */
  type: string;
  /** Stages where the plugin does something. */
  stages: readonly PluginStage[];
  schema: S;
  /** Checks the schema cannot express (regexes compile, exclusive options...). */
  validate?(config: Static<S>): PluginProblem[];
  /** Secrets the controller must resolve for this config (default namespace: the resource's). */
  secretRefs?(config: Static<S>): SecretRefSpec[];
  /** LinkSys references (`ns/name` or `name`) the controller must resolve. */
  linkSysRefs?(config: Static<S>): string[];
  create(config: Static<S>, deps: PluginDeps): PluginInstance;
}

export function definePlugin<S extends TSchema>(def: PluginDefinition<S>): PluginDefinition<S> {
  return def;
}

/** A request-stage plugin gave up because its own configuration cannot work (fail closed). */
export class PluginConfigError extends Error {}
