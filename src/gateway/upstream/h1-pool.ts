// A lean HTTP/1.1 client pool for plain-text upstreams: one origin, keep-alive connections, one
// request per connection at a time. It speaks undici's dispatch interface (the proxy's
// RequestContext is the handler, unchanged), so a pool of either kind serves the same proxy; it
// exists because undici's general-purpose client costs more per request than the whole rest of
// the gateway (bench/README.md). TLS, HTTP/2 and Upgrade requests stay with undici.
//
// Timeouts run on one coarse ticker per pool (TICK_MS) instead of a timer per request: a request
// carries the tick it last made progress on, the ticker compares. Error codes are undici's, so
// the proxy's error mapping (503 connect / 504 timeout / 502 other) treats both pools alike.

import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { BAD_HEADER_VALUE, H1ResponseParser, lowerToken, type ResponseHeaderMap, type ResponseSink } from './h1-response-parser.js';
import type { WriteBatch } from '../net/write-batch.js';

export interface H1PoolOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** Idle time after which a kept-alive connection is closed (a server's shorter Keep-Alive wins). */
  keepAliveTimeoutMs: number;
  /** Upper bound for a server's `Keep-Alive: timeout=N`. */
  keepAliveMaxTimeoutMs: number;
  maxConnections: number;
  /** Largest response head accepted. */
  maxHeadBytes?: number;
  /** Requests leave together at the end of each event-loop turn (absent: at once). */
  writes?: WriteBatch | undefined;
}

/** The subset of an undici Pool the proxy uses; undici's Pool satisfies it too. */
export interface UpstreamDispatcher {
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
  readonly closed: boolean;
  readonly destroyed: boolean;
}

const TICK_MS = 100;

class UpstreamClientError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Field values: no CR, LF, NUL or other controls but tab. */
/** Request target: visible characters only (no space, no controls). */
const BAD_PATH_RE = /[^\x21-\x7e\x80-\xff]/;
/** Methods that always send a Content-Length, even for an empty body. */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/**
 * RFC 9110 idempotent methods: a stale kept-alive connection may re-send them on a fresh one (and
 * the proxy may retry them on a status code).
 */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** One request: also its dispatch controller (pause, resume, abort). */
class H1Request implements Dispatcher.DispatchController {
  conn: H1Connection | undefined;
  paused = false;
  aborted = false;
  reason: Error | null = null;
  /** The response is complete or failed: nothing more reaches the handler. */
  settled = false;
  headersReceived = false;
  /** The request (head and body) is fully written. */
  sent = false;
  /** Tick of the last progress (sent bytes, head, body chunk): timeouts count from it. */
  lastTick = 0;
  /** The head was already re-sent once on a fresh connection after a stale keep-alive one failed. */
  replayed = false;
  /** A streamed body's Content-Length as sent upstream; -1: sent chunked. */
  bodyLength = -1;
  /** Body stream listeners, removed when the request is done with the stream. */
  bodyCleanup: (() => void) | undefined;

  constructor(
    readonly pool: H1Pool,
    readonly opts: Dispatcher.DispatchOptions,
    readonly handler: Dispatcher.DispatchHandler,
  ) {}

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn?.resumeReading();
  }

  abort(reason: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.aborted = true;
    this.reason = reason;
    const conn = this.conn;
    this.conn = undefined;
    this.bodyCleanup?.();
    if (conn !== undefined) conn.drop(this);
    else this.pool.unqueue(this);
    this.handler.onResponseError?.(this, reason);
  }

  /** The request failed (connection error, timeout, bad response). */
  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.conn = undefined;
    this.bodyCleanup?.();
    this.handler.onResponseError?.(this, err);
  }
}

class H1Connection implements ResponseSink {
  readonly socket: Socket;
  readonly parser: H1ResponseParser;
  req: H1Request | undefined;
  /** Responses completed on this connection. */
  served = 0;
  idleSinceTick = 0;
  /** From the server's Keep-Alive header, in ticks (undefined: the pool's default). */
  idleLimitTicks: number | undefined;
  /** The TCP connection is established (until then the connect timer, not the ticker, watches it). */
  connected = false;
  private connectTimer: NodeJS.Timeout | undefined;
  /** Bytes received while the request was paused, parsed on resume. */
  private pending: Buffer | undefined;
  private parsing = false;
  /** The server's end arrived while bytes were held for a paused request. */
  private eofSeen = false;
  closed = false;

  constructor(readonly pool: H1Pool) {
    const o = pool.options;
    const socket = connect({ host: o.host, port: o.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 });
    this.socket = socket;
    this.parser = new H1ResponseParser(this, o.maxHeadBytes === undefined ? undefined : { maxHeadBytes: o.maxHeadBytes });
    // 0 means no connect timeout (as for undici).
    if (o.connectTimeoutMs > 0) {
      this.connectTimer = setTimeout(() => {
        this.connectTimer = undefined;
        this.destroy(new UpstreamClientError(`connect timeout (${o.connectTimeoutMs} ms) to ${o.host}:${o.port}`, 'UND_ERR_CONNECT_TIMEOUT'));
      }, o.connectTimeoutMs);
    }
    socket.once('connect', () => {
      this.connected = true;
      if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    });
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy(undefined));
  }

  /** Sends `r` on this connection. */
  start(r: H1Request): void {
    this.req = r;
    r.conn = this;
    r.lastTick = this.pool.tick;
    this.parser.reset(r.opts.method === 'HEAD');
    const body = r.opts.body as Buffer | Readable | string | null | undefined;
    let head: string;
    try {
      head = requestHead(r, body, this.pool.hostHeader);
    } catch (err) {
      // A header the proxy or a plugin set cannot be sent: nothing was written, the connection stays good.
      this.req = undefined;
      r.conn = undefined;
      this.pool.release(this);
      r.fail(err as Error);
      return;
    }
    const socket = this.socket;
    this.pool.options.writes?.hold(socket);
    if (body == null) {
      socket.write(head, 'latin1');
      r.sent = true;
    } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
      socket.cork();
      socket.write(head, 'latin1');
      socket.write(body);
      socket.uncork();
      r.sent = true;
    } else {
      socket.write(head, 'latin1');
      this.pump(r, body);
    }
  }

  /**
   * Streams a request body with backpressure both ways: chunked when its length is unknown
   * (`r.bodyLength` -1), else exactly that many bytes (a body that turns out longer or shorter fails the
   * request and closes the connection: the framing the backend was promised would be wrong).
   */
  private pump(r: H1Request, body: Readable): void {
    const socket = this.socket;
    const length = r.bodyLength;
    const chunked = length < 0;
    let left = length;
    const onDrain = () => body.resume();
    const onData = (chunk: Buffer) => {
      if (r.settled || r.conn !== this) return;
      r.lastTick = this.pool.tick;
      let ok: boolean;
      if (chunked) {
        if (chunk.length === 0) return;
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else {
        left -= chunk.length;
        if (left < 0) return onError();
        ok = socket.write(chunk);
      }
      if (!ok) {
        body.pause();
        socket.once('drain', onDrain);
      }
    };
    const onEnd = () => {
      cleanup();
      if (r.settled || r.conn !== this) return;
      if (!chunked && left !== 0) return onError();
      if (chunked) socket.write('0\r\n\r\n', 'latin1');
      r.sent = true;
      r.lastTick = this.pool.tick;
    };
    const onError = () => {
      cleanup();
      if (r.settled) return;
      const why = left < 0 ? `the request body is longer than its Content-Length ${length}` : 'the client request body ended before it was complete';
      this.destroy(new UpstreamClientError(why, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'));
    };
    const onClose = () => {
      if (!body.readableEnded) onError();
    };
    const cleanup = () => {
      r.bodyCleanup = undefined;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      socket.off('drain', onDrain);
    };
    r.bodyCleanup = cleanup;
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
    if (body.isPaused()) body.resume();
  }

  // ResponseSink ------------------------------------------------------------------------------

  head(status: number, headers: ResponseHeaderMap, statusText: string): boolean {
    const r = this.req!;
    r.headersReceived = true;
    r.lastTick = this.pool.tick;
    r.handler.onResponseStart?.(r, status, headers as Record<string, string | string[]>, statusText);
    return !r.paused && this.req === r;
  }

  body(chunk: Buffer): boolean {
    const r = this.req!;
    r.lastTick = this.pool.tick;
    r.handler.onResponseData?.(r, chunk);
    return !r.paused && this.req === r;
  }

  end(trailers: ResponseHeaderMap | undefined): void {
    const r = this.req!;
    this.req = undefined;
    r.settled = true;
    r.conn = undefined;
    this.served++;
    const ka = this.parser.keepAliveTimeoutSec;
    if (ka !== undefined) this.idleLimitTicks = Math.max(0, Math.floor((Math.min(ka * 1000, this.pool.options.keepAliveMaxTimeoutMs) - 1000) / TICK_MS));
    const reusable = r.sent && this.parser.keepAlive;
    // The server answered before the whole body was sent (413, say): stop sending; the rest of the
    // exchange is out of step, so the connection is not reused.
    if (!r.sent) r.bodyCleanup?.();
    r.handler.onResponseEnd?.(r, (trailers ?? {}) as Record<string, string | string[]>);
    if (this.closed) return;
    if (!reusable || this.pending !== undefined || this.pool.closed) return this.destroy(undefined);
    this.pool.release(this);
  }

  // Socket events -------------------------------------------------------------------------------

  private onData(d: Buffer): void {
    const r = this.req;
    if (r === undefined) {
      // Bytes nobody asked for (an idle connection, or after a complete response): the stream is
      // out of step; never reuse it.
      return this.destroy(undefined);
    }
    if (r.paused || this.pending !== undefined) {
      this.pending = this.pending === undefined ? d : Buffer.concat([this.pending, d]);
      this.socket.pause();
      return;
    }
    this.feed(d);
  }

  private feed(d: Buffer): void {
    const r = this.req;
    if (r === undefined) return;
    let used: number;
    this.parsing = true;
    try {
      used = this.parser.execute(d);
    } catch (err) {
      this.parsing = false;
      return this.destroy(err as Error);
    }
    this.parsing = false;
    if (this.closed) return;
    if (this.req === r && r.paused) {
      // Stop reading now, also when this buffer was used up: otherwise the next one would be
      // read only to be held (and copied) until the handler resumes.
      if (used < d.length) this.pending = d.subarray(used);
      this.socket.pause();
      return;
    }
    // Bytes after a complete response (no pipelining here): the connection is out of step.
    if (used < d.length) this.destroy(undefined);
  }

  resumeReading(): void {
    if (this.parsing || this.closed) return; // the parse loop in progress sees the flag itself
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined) this.feed(pending);
    else if (this.req !== undefined) this.feed(EMPTY); // a response complete but for its end
    if (this.pending !== undefined || this.closed || this.req?.paused) return; // paused again meanwhile
    if (this.eofSeen) this.onEnd();
    else this.socket.resume();
  }

  private onEnd(): void {
    // Bytes held back for a paused request come first; the end is handled once they are parsed.
    if (this.pending !== undefined) {
      this.eofSeen = true;
      return;
    }
    const r = this.req;
    // Nothing of a response arrived: "other side closed" (a stale keep-alive connection, maybe).
    if (r !== undefined && this.parser.started) {
      try {
        this.parser.eof();
      } catch (err) {
        return this.destroy(err as Error);
      }
    }
    this.destroy(undefined);
  }

  /** Takes `r` off this connection (it was aborted): the connection is not reusable mid-exchange. */
  drop(r: H1Request): void {
    if (this.req !== r) return;
    this.req = undefined;
    this.parser.halt();
    this.destroy(undefined);
  }

  /** Closes the connection; a request on it fails with `err` (or "other side closed"). */
  destroy(err: Error | undefined): void {
    const r = this.req;
    if (this.closed) {
      if (r !== undefined && !r.settled) {
        this.req = undefined;
        r.fail(err ?? closedError(r, this));
      }
      return;
    }
    this.closed = true;
    if (this.connectTimer !== undefined) clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.pending = undefined;
    this.socket.destroy();
    this.req = undefined;
    this.pool.forget(this);
    if (r === undefined || r.settled) return;
    r.conn = undefined;
    const failure = err ?? closedError(r, this);
    // A kept-alive connection the server closed as we reused it: send once more on a fresh one.
    if (this.served > 0 && !this.parser.started && !r.replayed && isReplayable(r) && isStaleClose(failure)) {
      r.replayed = true;
      this.pool.enqueue(r, true);
      return;
    }
    r.fail(failure);
  }

}

const EMPTY = Buffer.alloc(0);

function closedError(r: H1Request, c: H1Connection): Error {
  return new UpstreamClientError(r.headersReceived || c.parser.started ? 'other side closed before the response was complete' : 'other side closed', 'UND_ERR_SOCKET');
}

function isReplayable(r: H1Request): boolean {
  const body = r.opts.body;
  return IDEMPOTENT_METHODS.has(r.opts.method) && (body == null || typeof body === 'string' || Buffer.isBuffer(body));
}

function isStaleClose(err: Error): boolean {
  const code = (err as { code?: string }).code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

/** Headers given as an object, as the flat [name, value, ...] list. */
function flatten(h: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const one of v) out.push(k, one);
    else out.push(k, v);
  }
  return out;
}

/** The request line and header block; throws when a method, target, name or value cannot be sent. */
function requestHead(r: H1Request, body: Buffer | Readable | string | null | undefined, defaultHost: string): string {
  const o = r.opts;
  const method = o.method;
  if (lowerToken(method) === undefined) throw new UpstreamClientError(`invalid request method ${JSON.stringify(method)}`, 'UND_ERR_INVALID_ARG');
  const path = o.path;
  if (path.length === 0 || BAD_PATH_RE.test(path)) throw new UpstreamClientError(`invalid request target ${JSON.stringify(path)}`, 'UND_ERR_INVALID_ARG');
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let host = false;
  let length: string | undefined;
  const given = o.headers as string[] | Record<string, string | string[] | undefined> | null | undefined;
  const h = given == null ? [] : Array.isArray(given) ? given : flatten(given);
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    const value = h[i + 1]!;
    const lower = lowerToken(name);
    if (lower === undefined) throw new UpstreamClientError(`invalid header name ${JSON.stringify(name)}`, 'UND_ERR_INVALID_ARG');
    // Framing is this client's: it writes Content-Length / Transfer-Encoding itself.
    if (lower === 'content-length') {
      length = value;
      continue;
    }
    if (lower === 'transfer-encoding' || lower === 'connection' || lower === 'keep-alive') continue;
    if (BAD_HEADER_VALUE.test(value)) throw new UpstreamClientError(`invalid value for header ${name}`, 'UND_ERR_INVALID_ARG');
    if (lower === 'host') host = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!host) head += `host: ${defaultHost}\r\n`;
  if (body == null) {
    if (length !== undefined && length !== '0') throw new UpstreamClientError(`Content-Length ${length} without a body`, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
    if (PAYLOAD_METHODS.has(method) || length === '0') head += 'content-length: 0\r\n';
  } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
    head += `content-length: ${Buffer.byteLength(body)}\r\n`;
  } else if (length !== undefined && /^\d+$/.test(length)) {
    head += `content-length: ${length}\r\n`;
    r.bodyLength = Number(length);
  } else {
    head += 'transfer-encoding: chunked\r\n'; // r.bodyLength stays -1
  }
  return head + '\r\n';
}

export class H1Pool implements UpstreamDispatcher {
  closed = false;
  destroyed = false;
  tick = 0;
  readonly hostHeader: string;
  private readonly conns = new Set<H1Connection>();
  /** Idle connections, most recently used last (reused first: warm, least likely to be stale). */
  private readonly idle: H1Connection[] = [];
  private readonly queue: H1Request[] = [];
  private ticker: NodeJS.Timeout | undefined;
  private closeWaiters: (() => void)[] = [];
  private upgrades: UpstreamDispatcher | undefined;

  /** `upgradePool` makes the pool Upgrade (WebSocket) requests go to, on first need. */
  constructor(
    readonly options: H1PoolOptions,
    private readonly upgradePool?: () => UpstreamDispatcher,
  ) {
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.hostHeader = `${host}:${options.port}`;
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.closed) throw new UpstreamClientError('the upstream pool is closed', 'UND_ERR_CLOSED');
    if (opts.upgrade && this.upgradePool !== undefined) return (this.upgrades ??= this.upgradePool()).dispatch(opts, handler);
    const r = new H1Request(this, opts, handler);
    handler.onRequestStart?.(r, {});
    if (r.aborted) return true;
    this.enqueue(r);
    return true;
  }

  /** Sends `r` on an idle connection (or a new one: always when `fresh`), or queues it. */
  enqueue(r: H1Request, fresh = false): void {
    if (r.settled) return;
    let conn = fresh ? undefined : this.idle.pop();
    while (conn !== undefined && conn.closed) conn = this.idle.pop();
    if (conn !== undefined) return conn.start(r);
    if (this.conns.size < this.options.maxConnections) {
      conn = new H1Connection(this);
      this.conns.add(conn);
      this.startTicker();
      return conn.start(r);
    }
    this.queue.push(r);
  }

  unqueue(r: H1Request): void {
    const i = this.queue.indexOf(r);
    if (i !== -1) this.queue.splice(i, 1);
  }

  /** A connection is free: the next queued request takes it, else it waits in the idle list. */
  release(conn: H1Connection): void {
    if (conn.closed) return;
    const next = this.queue.shift();
    if (next !== undefined) return conn.start(next);
    conn.idleSinceTick = this.tick;
    this.idle.push(conn);
    if (this.closed) conn.destroy(undefined);
  }

  /** A connection closed: it leaves the pool; a queued request may now open a new one. */
  forget(conn: H1Connection): void {
    if (!this.conns.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    if (this.queue.length && !this.closed) this.enqueue(this.queue.shift()!);
    if (this.conns.size === 0) {
      this.stopTicker();
      if (this.closed) for (const w of this.closeWaiters.splice(0)) w();
    }
  }

  private startTicker(): void {
    if (this.ticker !== undefined) return;
    this.ticker = setInterval(() => this.onTick(), TICK_MS);
    this.ticker.unref();
  }

  private stopTicker(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Request timeouts and idle connections, checked every TICK_MS. */
  private onTick(): void {
    const t = ++this.tick;
    const idleTicks = Math.ceil(this.options.keepAliveTimeoutMs / TICK_MS);
    for (const c of this.conns) {
      const r = c.req;
      if (r === undefined) {
        if (t - c.idleSinceTick > (c.idleLimitTicks ?? idleTicks)) c.destroy(undefined);
        continue;
      }
      if (r.paused || !c.connected) continue; // a paused response waits on the client; connects have their own timer
      const waited = (t - r.lastTick) * TICK_MS;
      if (!r.headersReceived) {
        const limit = r.opts.headersTimeout;
        if (limit && waited > limit) c.destroy(new UpstreamClientError(`no response headers within ${limit} ms`, 'UND_ERR_HEADERS_TIMEOUT'));
      } else {
        const limit = r.opts.bodyTimeout;
        if (limit && waited > limit) c.destroy(new UpstreamClientError(`no response body data within ${limit} ms`, 'UND_ERR_BODY_TIMEOUT'));
      }
    }
  }

  /** No new requests; idle connections close now, busy ones once their response is done. */
  close(): Promise<void> {
    this.closed = true;
    for (const c of this.idle.slice()) c.destroy(undefined); // a copy: destroy() edits the list
    const upgrades = this.upgrades?.close();
    const own = this.conns.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    return upgrades === undefined ? own : Promise.all([own, upgrades]).then(() => undefined);
  }

  /** Everything closes now; requests in flight fail. */
  destroy(): Promise<void> {
    this.closed = true;
    this.destroyed = true;
    const err = new UpstreamClientError('the upstream pool was destroyed', 'UND_ERR_DESTROYED');
    for (const r of this.queue.splice(0)) r.fail(err);
    for (const c of Array.from(this.conns)) c.destroy(err); // a copy: destroy() edits the set
    return this.upgrades?.destroy() ?? Promise.resolve();
  }
}
