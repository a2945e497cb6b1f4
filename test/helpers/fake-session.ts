// A PluginSession over plain data, for unit tests of plugin handlers (no sockets).
import type { BackendChoice, PluginClientCert, PluginSession, UpstreamOverride } from '../../src/plugins/runtime/define-plugin.js';
import { cookieValue } from '../../src/plugins/runtime/key-get.js';

export interface FakeRequest {
  method?: string;
  path?: string;
  query?: string;
  host?: string;
  headers?: Record<string, string>;
  clientIp?: string;
  peerIp?: string;
  scheme?: string;
  params?: Record<string, string>;
  matchedPrefix?: string;
  body?: Buffer | string;
  vars?: Record<string, string>;
  clientCert?: PluginClientCert;
  backends?: BackendChoice[];
  grpc?: boolean;
}

export class FakeSession implements PluginSession {
  readonly headers: Map<string, string>;
  readonly responseHeaders = new Map<string, string | string[]>();
  readonly removedResponseHeaders: string[] = [];
  readonly vars: Map<string, string>;
  readonly logs: string[] = [];
  uri: string;
  upstreamMethod: string;
  upstream: UpstreamOverride | undefined;
  remoteIp: string | undefined;

  constructor(private readonly r: FakeRequest = {}) {
    this.headers = new Map(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.vars = new Map(Object.entries(r.vars ?? {}));
    this.uri = (r.path ?? '/') + (r.query ? `?${r.query}` : '');
    this.upstreamMethod = r.method ?? 'GET';
  }

  get method() {
    return this.r.method ?? 'GET';
  }
  get path() {
    return this.r.path ?? '/';
  }
  get queryString() {
    return this.r.query ?? '';
  }
  get host() {
    return this.r.host ?? 'test.local';
  }
  get scheme() {
    return this.r.scheme ?? 'http';
  }
  get clientIp() {
    return this.remoteIp ?? this.r.clientIp ?? '127.0.0.1';
  }
  get peerIp() {
    return this.r.peerIp ?? '127.0.0.1';
  }
  get listenerPort() {
    return 8080;
  }
  get traceId() {
    return 'trace-test';
  }
  get params() {
    return this.r.params ?? {};
  }
  get matchedPrefix() {
    return this.r.matchedPrefix;
  }
  get grpc() {
    return this.r.grpc ?? false;
  }

  header(name: string) {
    return this.headers.get(name.toLowerCase());
  }
  headerNames() {
    return [...this.headers.keys()];
  }
  query(name: string) {
    return new URLSearchParams(this.r.query ?? '').get(name) ?? undefined;
  }
  cookie(name: string) {
    return cookieValue(this.header('cookie'), name);
  }
  setHeader(name: string, value: string) {
    this.headers.set(name.toLowerCase(), value);
  }
  appendHeader(name: string, value: string) {
    const n = name.toLowerCase();
    const cur = this.headers.get(n);
    this.headers.set(n, cur === undefined ? value : `${cur},${value}`);
  }
  removeHeader(name: string) {
    this.headers.delete(name.toLowerCase());
  }
  setUri(uri: string) {
    this.uri = uri;
  }
  setMethod(method: string) {
    this.upstreamMethod = method;
  }
  setHost(host: string) {
    this.headers.set('host', host);
  }
  setRemoteIp(ip: string) {
    this.remoteIp = ip;
  }
  setResponseHeader(name: string, value: string) {
    this.responseHeaders.set(name.toLowerCase(), value);
  }
  appendResponseHeader(name: string, value: string) {
    const n = name.toLowerCase();
    const cur = this.responseHeaders.get(n);
    this.responseHeaders.set(n, cur === undefined ? value : Array.isArray(cur) ? [...cur, value] : [cur, value]);
  }
  removeResponseHeader(name: string) {
    this.removedResponseHeaders.push(name.toLowerCase());
    this.responseHeaders.delete(name.toLowerCase());
  }
  getVar(name: string) {
    return this.vars.get(name);
  }
  setVar(name: string, value: string) {
    this.vars.set(name, value);
  }
  removeVar(name: string) {
    this.vars.delete(name);
  }
  async readBody(maxBytes: number) {
    const b = Buffer.from(this.r.body ?? '');
    return b.length <= maxBytes ? b : undefined;
  }
  clientCertificate() {
    return this.r.clientCert;
  }
  setUpstream(target: UpstreamOverride) {
    this.upstream = target;
  }
  backends() {
    return this.r.backends ?? [];
  }
  log(message: string) {
    this.logs.push(message);
  }
  debugAccessLog() {
    return JSON.stringify({ request_info: { path: this.path, host: this.host } });
  }
}
