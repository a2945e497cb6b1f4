// HTTP and gRPC routes after the controller resolved parents, hostnames, backends and plugins.

import type { BackendRefIR } from './backend.js';

export interface HeaderValueIR {
  /** Lower-cased header name (header names are case-insensitive). */
  name: string;
  value: string;
}

export interface HeaderModifierIR {
  set: HeaderValueIR[];
  add: HeaderValueIR[];
  remove: string[];
}

export type PathModifierIR = { type: 'ReplaceFullPath'; value: string } | { type: 'ReplacePrefixMatch'; value: string };

export interface RequestMirrorIR {
  type: 'RequestMirror';
  /** Cluster key of the mirror target; undefined when it does not resolve (mirror skipped). */
  cluster?: string;
  backend: { namespace: string; name: string; port?: number };
  /** 0..100, fractional allowed (fraction numerator/denominator converted). */
  percent: number;
  connectTimeoutMs: number;
  writeTimeoutMs: number;
  maxConcurrent: number;
  /** `mirrorLog: false`: no mirror.log line for this mirror (the metric still counts it). */
  log?: false;
}

export interface CorsFilterIR {
  type: 'CORS';
  allowOrigins: string[];
  allowCredentials: boolean;
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAge?: number;
}

export type FilterIR =
  | ({ type: 'RequestHeaderModifier' } & HeaderModifierIR)
  | ({ type: 'ResponseHeaderModifier' } & HeaderModifierIR)
  | { type: 'RequestRedirect'; scheme?: string; hostname?: string; port?: number; path?: PathModifierIR; statusCode: number }
  | { type: 'URLRewrite'; hostname?: string; path?: PathModifierIR }
  | RequestMirrorIR
  | { type: 'ExtensionRef'; pluginSet: string }
  | CorsFilterIR;

export type PathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';
export type ValueMatchType = 'Exact' | 'RegularExpression';

export interface HttpMatchIR {
  path: { type: PathMatchType; value: string };
  method?: string;
  headers: { name: string; type: ValueMatchType; value: string }[];
  queryParams: { name: string; type: ValueMatchType; value: string }[];
}

export interface RetryIR {
  attempts: number;
  codes: number[];
  backoffMs: number;
}

export interface SessionPersistenceIR {
  type: 'Cookie' | 'Header';
  name: string;
  absoluteTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Cookie: `Permanent` sets Max-Age from absoluteTimeout; `Session` sets no expiry. */
  lifetime: 'Permanent' | 'Session';
}

export interface HttpRuleIR {
  index: number;
  name?: string;
  matches: HttpMatchIR[];
  filters: FilterIR[];
  backends: BackendRefIR[];
  timeouts: { requestMs?: number; backendRequestMs?: number };
  retry?: RetryIR;
  sessionPersistence?: SessionPersistenceIR;
}

/** One accepted parentRef, narrowed to one listener, with the effective hostnames. */
export interface RouteAttachmentIR {
  /** Gateway key `ns/name`. */
  gateway: string;
  listener: string;
  port: number;
  /** Lower-cased effective hostnames (intersection with the listener); `*` = any host. */
  hostnames: string[];
}

export interface RouteMetaIR {
  key: string;
  namespace: string;
  name: string;
  /** Precedence among equals: older first (creationTimestamp, then file order). */
  order: number;
  generation: number;
  annotations: Record<string, string>;
  attachments: RouteAttachmentIR[];
}

export interface HttpRouteIR extends RouteMetaIR {
  rules: HttpRuleIR[];
  /** `edgion.io/max-retries`: connect-failure retries, overriding the gateway config. */
  maxRetries?: number;
}

export interface GrpcMatchIR {
  /** Exact service/method; both undefined = any method. */
  service?: string;
  method?: string;
  headers: { name: string; type: ValueMatchType; value: string }[];
}

export interface GrpcRuleIR {
  index: number;
  name?: string;
  matches: GrpcMatchIR[];
  filters: FilterIR[];
  backends: BackendRefIR[];
  timeouts: { requestMs?: number; backendRequestMs?: number };
  retry?: RetryIR;
  sessionPersistence?: SessionPersistenceIR;
}

export interface GrpcRouteIR extends RouteMetaIR {
  rules: GrpcRuleIR[];
}
