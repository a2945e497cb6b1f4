// The PluginSession plugins see: a narrow view over the RequestContext. Reads see the request as
// earlier filters and plugins left it; writes change what goes upstream, or the response headers
// of whatever response the client gets.

import type { TLSSocket } from 'node:tls';
import type { BackendChoice, PluginClientCert, PluginSession, UpstreamOverride } from '../../plugins/runtime/define-plugin.js';
import { cookieValue } from '../../plugins/runtime/key-get.js';
import { HeaderEdit, type RequestContext } from '../proxy/context.js';
import { formatAccessLine } from '../observe/access-log.js';
import { stageLogsJson, type LogShape } from './plugin-steps.js';

export interface PluginRun {
  set: string;
  type: string;
  where: string;
  /** Microseconds spent in the plugin (not counting awaited I/O it started). */
  us: number;
  skip?: string | undefined;
  log?: string[] | undefined;
  outcome?: string | undefined;
  /** The compiled entry that ran (its access-log fragments are computed once, on it). */
  entry?: LogFragments | undefined;
}

type LogFragments = { logStage?: string; logPrefix?: string; logShape?: LogShape };

/** The runs the engine records: every field present from the start, so all runs share one shape. */
export class PluginRunRecord implements PluginRun {
  us = 0;
  skip: string | undefined = undefined;
  log: string[] | undefined = undefined;
  outcome: string | undefined = undefined;
  constructor(
    readonly set: string,
    readonly entry: LogFragments & { type: string; where: string },
  ) {}
  get type(): string {
    return this.entry.type;
  }
  get where(): string {
    return this.entry.where;
  }
}

export class PluginSessionImpl implements PluginSession {
  /** The run currently executing (for log()). */
  current: PluginRun | undefined;
  /**
   * When the last synchronously run request plugin ended (performance.now()), within one run; -1
   * when none did (a number, not undefined: the field then holds doubles without boxing each one).
   */
  mark = -1;

  constructor(private readonly ctx: RequestContext) {}

  get method(): string {
    return this.ctx.method;
  }
  get path(): string {
    return this.ctx.path;
  }
  get queryString(): string {
    return this.ctx.queryString;
  }
  get host(): string {
    return this.ctx.host;
  }
  get scheme(): string {
    return this.ctx.upHeaders.get('x-forwarded-proto') ?? (this.ctx.tls ? 'https' : 'http');
  }
  get clientIp(): string {
    return this.ctx.remoteAddr || this.ctx.clientAddr;
  }
  get peerIp(): string {
    return this.ctx.clientAddr;
  }
  get listenerPort(): number {
    return this.ctx.listenerPort;
  }
  get traceId(): string {
    return this.ctx.traceId;
  }
  get params(): Readonly<Record<string, string>> {
    return this.ctx.params ?? {};
  }
  get matchedPrefix(): string | undefined {
    return this.ctx.matchedPrefix;
  }
  get grpc(): boolean {
    return this.ctx.protocol === 'grpc' || this.ctx.protocol === 'grpc-web';
  }
  get uri(): string {
    return this.ctx.upPath;
  }

  header(name: string): string | undefined {
    const n = name.toLowerCase();
    if (n === 'x-forwarded-for') return this.ctx.xff;
    const v = this.ctx.upHeaders.get(n);
    // X-Real-IP is replaced by the gateway on the way up; plugins (RealIp) read the client's.
    return v === undefined && n === 'x-real-ip' ? this.ctx.header(n) : v;
  }

  headerNames(): string[] {
    const a = this.ctx.upHeaders.items;
    const out: string[] = [];
    for (let i = 0; i < a.length; i += 2) if (!out.includes(a[i]!)) out.push(a[i]!);
    return out;
  }

  query(name: string): string | undefined {
    return this.ctx.query(name);
  }

  cookie(name: string): string | undefined {
    return cookieValue(this.header('cookie'), name);
  }

  setHeader(name: string, value: string): void {
    this.ctx.upHeaders.set(name.toLowerCase(), value);
  }
  appendHeader(name: string, value: string): void {
    this.ctx.upHeaders.append(name.toLowerCase(), value);
  }
  removeHeader(name: string): void {
    this.ctx.upHeaders.remove(name.toLowerCase());
  }
  setUri(uri: string): void {
    this.ctx.upPath = uri.startsWith('/') ? uri : `/${uri}`;
  }
  setMethod(method: string): void {
    this.ctx.upMethod = method.toUpperCase();
  }
  setHost(host: string): void {
    this.ctx.upHeaders.set('host', host);
  }
  setRemoteIp(ip: string): void {
    this.ctx.remoteAddr = ip;
  }

  setResponseHeader(name: string, value: string): void {
    (this.ctx.responseOps ??= []).push(new HeaderEdit('set', name.toLowerCase(), value));
  }
  appendResponseHeader(name: string, value: string): void {
    (this.ctx.responseOps ??= []).push(new HeaderEdit('append', name.toLowerCase(), value));
  }
  removeResponseHeader(name: string): void {
    (this.ctx.responseOps ??= []).push(new HeaderEdit('remove', name.toLowerCase(), ''));
  }

  getVar(name: string): string | undefined {
    return this.ctx.vars?.[name];
  }
  setVar(name: string, value: string): void {
    this.ctx.setVar(name, value);
  }
  removeVar(name: string): void {
    if (this.ctx.vars) delete this.ctx.vars[name];
  }

  readBody(maxBytes: number): Promise<Buffer | undefined> {
    const ctx = this.ctx;
    if (ctx.requestBody !== undefined) return Promise.resolve(ctx.requestBody.length <= maxBytes ? ctx.requestBody : undefined);
    if (!ctx.hasBody) return Promise.resolve(Buffer.alloc(0));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooBig = false;
      ctx.req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) tooBig = true;
        chunks.push(c);
      });
      ctx.req.once('end', () => {
        ctx.requestBody = Buffer.concat(chunks);
        resolve(tooBig ? undefined : ctx.requestBody);
      });
      ctx.req.once('error', reject);
    });
  }

  clientCertificate(): PluginClientCert | undefined {
    const sock = this.ctx.req.socket as TLSSocket;
    if (!this.ctx.tls || typeof sock.getPeerCertificate !== 'function' || !sock.authorized) return undefined;
    const c = sock.getPeerCertificate(false);
    if (!c || !c.raw) return undefined;
    const sans = (c.subjectaltname ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const subject = Object.entries(c.subject ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',');
    const issuer = Object.entries(c.issuer ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',');
    const cn = (c.subject as { CN?: string } | undefined)?.CN;
    return { subject, issuer, ...(cn ? { cn } : {}), sans, fingerprint256: c.fingerprint256, raw: c.raw };
  }

  setUpstream(target: UpstreamOverride): void {
    this.ctx.upstreamOverride = target;
  }

  backends(): readonly BackendChoice[] {
    const rule = this.ctx.rule;
    if (!rule) return [];
    return rule.backends.map((b) => {
      const cluster = b.ref.cluster ? this.ctx.runtime.clusters.get(b.ref.cluster) : undefined;
      return {
        namespace: b.ref.namespace,
        name: b.ref.name,
        ...(b.ref.port !== undefined ? { port: b.ref.port } : {}),
        weight: b.ref.weight,
        ...(b.ref.cluster ? { cluster: b.ref.cluster } : {}),
        endpoints: cluster ? cluster.endpoints.map((e) => ({ address: e.address, port: e.port, ready: e.ready })) : [],
      };
    });
  }

  debugAccessLog(): string {
    const runs = this.ctx.pluginRuns;
    return formatAccessLine(this.ctx, this.ctx.runtime.version, runs ? `,"stage_logs":${stageLogsJson(runs)}` : undefined);
  }

  log(message: string): void {
    const run = this.current;
    if (!run) return;
    (run.log ??= []).push(message.length > 200 ? `${message.slice(0, 200)}…` : message);
  }
}
