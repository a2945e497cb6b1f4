// The JSON access log (operations.md §5.1): one object per line per request, written for every
// request including rejections and upstream failures. Lines are built by string concatenation
// (JSON.stringify only on strings) and batched: many lines per write() call, one write in flight
// at a time. When the disk cannot keep up, lines are dropped and counted rather than buffered
// without bound.

import fs from 'node:fs';
import path from 'node:path';
import type { RequestContext, UpstreamAttempt } from '../proxy/context.js';
import { jsonString } from '../../shared/json-string.js';

const q = jsonString;

/** Static per-route and per-backend parts of the line, built once per compiled object. */
const routeParts = new WeakMap<object, string>();
const backendParts = new WeakMap<object, string>();

function routePart(rule: NonNullable<RequestContext['rule']>): string {
  let p = routeParts.get(rule);
  if (p === undefined) {
    p = `,"match_info":{"rns":${q(rule.routeNamespace)},"rn":${q(rule.routeName)},"rule_id":${rule.ruleIndex},"match_id":`;
    routeParts.set(rule, p);
  }
  return p;
}

function backendPart(ref: { name: string; namespace: string }): string {
  let p = backendParts.get(ref);
  if (p === undefined) {
    p = `,"backend_context":{"name":${q(ref.name)},"namespace":${q(ref.namespace)},"upstreams":[`;
    backendParts.set(ref, p);
  }
  return p;
}

function attemptJson(a: UpstreamAttempt): string {
  let s = `{"ip":${q(a.endpoint.address)},"port":${a.endpoint.port}`;
  if (a.status !== undefined) s += `,"status":${a.status}`;
  if (a.connectedAt !== undefined) s += `,"ct":${Math.round(a.connectedAt - a.startedAt)}`;
  if (a.headersAt !== undefined) s += `,"ht":${Math.round(a.headersAt - a.startedAt)}`;
  if (a.firstByteAt !== undefined) s += `,"bt":${Math.round(a.firstByteAt - a.startedAt)}`;
  if (a.endedAt !== undefined) s += `,"et":${Math.round(a.endedAt - a.startedAt)}`;
  s += `,"response_body_size":${a.bytes}`;
  if (a.error !== undefined) s += `,"err":[${q(a.error)}]`;
  return s + '}';
}

/** One access-log line (without the newline). Exported for tests. */
export function formatAccessLine(ctx: RequestContext, syncVersion: number, extra?: string): string {
  const now = performance.now();
  let s = `{"ts":${ctx.startedAt + Math.round(now - ctx.t0)},"request_info":{"client-addr":${q(ctx.clientAddr)},"client-port":${ctx.clientPort},"remote-addr":${q(ctx.remoteAddr || ctx.clientAddr)},"x-trace-id":${ctx.traceId ? q(ctx.traceId) : 'null'},"host":${q(ctx.host)},"path":${q(ctx.path)},"method":"${ctx.method}"`;
  if (ctx.queryString) s += `,"query":${q(ctx.queryString)}`;
  s += `,"status":${ctx.status}`;
  if (ctx.xff !== undefined) s += `,"x-forwarded-for":${q(ctx.xff)}`;
  if (ctx.sni !== undefined) s += `,"sni":${q(ctx.sni)}`;
  if (ctx.tlsId !== undefined) s += `,"tls_id":${q(ctx.tlsId)}`;
  if (ctx.clientCertJson !== undefined) s += `,"client_cert_info":${ctx.clientCertJson}`;
  if (ctx.protocol !== undefined) s += `,"discover_protocol":"${ctx.protocol}"`;
  s += `,"http_version":"${ctx.req.httpVersion}","listener-port":${ctx.listenerPort},"duration_ms":${Math.round((now - ctx.t0) * 1000) / 1000},"bytes_sent":${ctx.responseBytes}}`;
  const rule = ctx.rule;
  if (rule !== undefined) s += `${routePart(rule)}${ctx.matchIndex},"sv":${syncVersion}}`;
  if (ctx.errors !== undefined) s += `,"errors":${JSON.stringify(ctx.errors)}`;
  const b = ctx.backend;
  if (b === undefined) {
    s += ',"backend_context":null';
  } else {
    s += backendPart(b.ref);
    for (let i = 0; i < ctx.attempts.length; i++) s += (i ? ',' : '') + attemptJson(ctx.attempts[i]!);
    s += ']}';
  }
  if (ctx.vars !== undefined) s += `,"ctx":${JSON.stringify(ctx.vars)}`;
  if (extra) s += extra;
  return s + '}';
}

/** Size of one batch buffer: lines are encoded into it as they come, and written when it fills. */
const SLAB = 256 * 1024;

/**
 * An append-only log file written in batches. Each line is encoded to UTF-8 straight into a batch
 * buffer when it is written (one small copy while the line is hot, no long string to flatten
 * later); a buffer goes to the file when it is full or after `flushMs`, with at most one write in
 * flight. When the disk cannot keep up, lines are dropped and counted, never buffered without bound.
 */
export class AccessLog {
  private fd: number;
  private buf: Buffer = Buffer.allocUnsafeSlow(SLAB);
  private off = 0;
  /** Full batches waiting for the write in flight. */
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  /** Batch buffers already written, ready to be filled again. */
  private readonly spare: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private waiters: (() => void)[] = [];
  dropped = 0;
  written = 0;

  constructor(
    readonly file: string,
    /** Lines wait at most this long before they are written. */
    private readonly flushMs = 50,
    /** Bytes buffered before lines are dropped. */
    private readonly maxPending = 16 * 1024 * 1024,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'a');
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.queuedBytes > this.maxPending) {
      this.dropped++;
      return;
    }
    const most = line.length * 3 + 1; // UTF-8 bytes of a JS string are at most 3 per code unit
    if (most > SLAB - this.off) {
      this.seal();
      if (most > SLAB) {
        this.enqueue(Buffer.from(line + '\n'));
        return this.flushNow();
      }
    }
    this.off += this.buf.write(line, this.off);
    this.buf[this.off++] = 10;
    if (this.queue.length !== 0) this.flushNow();
    else this.arm();
  }

  /** Moves the filled part of the current batch buffer to the queue. */
  private seal(): void {
    if (this.off === 0) return;
    this.enqueue(this.buf.subarray(0, this.off));
    this.buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(SLAB);
    this.off = 0;
  }

  private enqueue(b: Buffer): void {
    this.queue.push(b);
    this.queuedBytes += b.length;
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.seal();
      this.flushNow();
    }, this.flushMs);
    this.timer.unref();
  }

  private flushNow(): void {
    if (this.writing || this.queue.length === 0) return;
    const bufs = this.queue;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.writing = true;
    fs.writev(this.fd, bufs, (err, n) => {
      this.writing = false;
      // Written batch buffers are used again: a fresh 256 KiB buffer per batch is external memory
      // V8 has to account for and collect, tens of times a second under load.
      for (const b of bufs) if (b.buffer.byteLength === SLAB && this.spare.length < 4) this.spare.push(Buffer.from(b.buffer, 0, SLAB));
      if (err) for (const b of bufs) this.dropped += countLines(b);
      else {
        this.written += n;
        // A short write (disk full...) loses the rest: count it rather than retry forever.
        if (n < bytes) this.dropped++;
      }
      // What arrived meanwhile waits for the timer (or a full batch): writing it right away would
      // mean one small write() per event-loop turn under load, which costs more than the lines.
      if (this.waiters.length !== 0) this.seal();
      if (this.queue.length !== 0) this.flushNow();
      else if (this.off !== 0) this.arm();
      if (!this.writing && this.off === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Resolves once everything buffered so far is on disk. */
  flush(): Promise<void> {
    this.seal();
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.flushNow();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}
