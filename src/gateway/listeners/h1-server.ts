// The gateway's own HTTP/1.1 server path, for the requests most traffic is made of: HTTP/1.1
// requests on keep-alive connections, without a body or with a body of one Content-Length.
// node:http does more per request than a proxy needs (a stream per request and per response,
// timers per socket); this path parses the head, hands the proxy a light request/response pair
// (a Readable only when a body follows) and writes the answer in one go.
//
// Whatever it does not take (see h1-request-head.ts) goes to node:http: the connection is handed
// over with the bytes read so far and stays there. node:http then applies every limit, timeout
// and error answer as before, so the two paths cannot disagree on what is refused.

import type { Socket } from 'node:net';
import { H1Request, H1Response, type ExchangeOwner } from './h1-exchange.js';
import { H1BodyRequest, type BodySource } from './h1-request-body.js';
import { HAND_OVER, parseRequestHead, type HeadLimits } from './h1-request-head.js';
import type { WriteBatch } from '../net/write-batch.js';

export interface H1ServerSettings extends HeadLimits {
  /** Idle time allowed between requests (0: none). */
  keepAliveTimeoutMs: number;
  /** Time allowed for the first request to arrive on a new connection (0: none). */
  headersTimeoutMs: number;
  /** Requests per connection (0: no limit). */
  maxRequestsPerSocket: number;
  /** Time allowed for a request's body to arrive whole, from its head (0: none; node's requestTimeout). */
  requestTimeoutMs: number;
}

export interface H1ServerHost {
  /** A request for the proxy. */
  onRequest(req: H1Request | H1BodyRequest, res: H1Response): void;
  /** node:http takes the connection from here (the bytes read so far are given back to the socket). */
  handOver(socket: Socket): void;
  /** A new connection sent no request in time (answered like node:http's headers timeout). */
  onHeadersTimeout(socket: Socket): void;
  /** Set while the listener closes: responses end their connection. */
  readonly closing: boolean;
  /** Answers leave together at the end of each event-loop turn (absent: at once). */
  readonly writes?: WriteBatch | undefined;
}

const EMPTY = Buffer.alloc(0);

/** Pipelined bytes held while a response is in progress before the socket is paused. */
const PIPELINE_HOLD = 64 * 1024;

export class H1Server {
  private readonly connections = new Set<H1Connection>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    public settings: H1ServerSettings,
    private readonly host: H1ServerHost,
  ) {}

  accept(socket: Socket): void {
    const c = new H1Connection(socket, this, this.host);
    this.connections.add(c);
    this.sweeper ??= this.startSweeper();
  }

  forget(c: H1Connection): void {
    this.connections.delete(c);
  }

  /** Connections without a response in progress are closed; the others close after it. */
  closeIdle(): void {
    for (const c of this.connections) if (c.idle) closeIdleSocket(c.socket);
  }

  closeAll(): void {
    for (const c of this.connections) c.socket.destroy();
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** One timer for every connection: idle keep-alive connections and silent new ones. */
  private startSweeper(): NodeJS.Timeout {
    const every = () => Math.min(1000, Math.max(25, Math.min(this.settings.keepAliveTimeoutMs || 1000, this.settings.headersTimeoutMs || 1000) / 4));
    let period = every();
    const tick = () => {
      const now = Date.now();
      const { keepAliveTimeoutMs, headersTimeoutMs, requestTimeoutMs } = this.settings;
      for (const c of this.connections) {
        if (!c.idle) {
          // A body that does not arrive in time: the connection is cut (the proxy sees the close and stops).
          if (requestTimeoutMs > 0 && c.bodyPending() && now - c.requestStartedAt > requestTimeoutMs) c.socket.destroy();
          continue;
        }
        if (c.requests === 0) {
          if (headersTimeoutMs > 0 && now - c.idleSince > headersTimeoutMs) {
            c.detach();
            this.host.onHeadersTimeout(c.socket);
          }
        } else if (keepAliveTimeoutMs > 0 && now - c.idleSince > keepAliveTimeoutMs) closeIdleSocket(c.socket);
      }
      const p = every();
      if (p !== period) {
        period = p;
        clearInterval(this.sweeper);
        this.sweeper = setInterval(tick, period).unref();
      }
    };
    return setInterval(tick, period).unref();
  }
}

class H1Connection implements ExchangeOwner, BodySource {
  /** Bytes received and not parsed yet (pipelined requests). */
  private pending: Buffer | undefined;
  private current: H1Response | undefined;
  /** The body being received (the current request's), and how many of its bytes are still to come. */
  private body: H1BodyRequest | undefined;
  private bodyLeft = 0;
  /** Reading stopped because the body's reader is behind. */
  private bodyPaused = false;
  /** When the current request's head arrived (ms). */
  requestStartedAt = 0;
  requests = 0;
  idleSince = Date.now();
  private detached = false;

  constructor(
    readonly socket: Socket,
    private readonly server: H1Server,
    private readonly host: H1ServerHost,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', onSocketError);
    socket.on('drain', this.onDrain);
  }

  get idle(): boolean {
    return this.current === undefined && !this.detached;
  }

  /** A response written now cannot keep the connection: the rest of its request's body would follow it. */
  bodyPending(): boolean {
    return this.body !== undefined;
  }

  keepAliveTimeoutSec(): number {
    return Math.floor(this.server.settings.keepAliveTimeoutMs / 1000);
  }

  holdWrites(): void {
    this.host.writes?.hold(this.socket);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.body !== undefined) {
      chunk = this.feedBody(chunk);
      if (chunk.length === 0) return;
    }
    if (this.current !== undefined) {
      // Pipelined: served once the response in progress is done.
      this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
      if (this.pending.length > PIPELINE_HOLD) this.socket.pause();
      return;
    }
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    this.serve(buf);
  };

  private serve(buf: Buffer): void {
    const head = parseRequestHead(buf, this.server.settings);
    if (head === HAND_OVER) return this.handOver(buf);
    this.pending = head.size < buf.length ? buf.subarray(head.size) : undefined;
    this.requests++;
    const max = this.server.settings.maxRequestsPerSocket;
    const keepAlive = !head.close && !this.host.closing && (max === 0 || this.requests < max);
    const res = new H1Response(this, keepAlive, head.method === 'HEAD');
    this.current = res;
    if (head.bodyLength === 0) {
      this.host.onRequest(new H1Request(this.socket, head.method, head.url, head.rawHeaders), res);
      return;
    }
    const body = new H1BodyRequest(this.socket, head.method, head.url, head.rawHeaders, this);
    this.body = body;
    this.requestStartedAt = Date.now();
    this.bodyLeft = head.bodyLength;
    // The bytes that came with the head go to the body first (before the proxy reads it, so a
    // small body is whole when the request starts); what follows it is the next request.
    const rest = this.pending;
    this.pending = undefined;
    if (rest !== undefined) {
      const after = this.feedBody(rest);
      if (after.length) this.pending = after;
    }
    this.host.onRequest(body, res);
  }

  /** Gives the body its bytes from `chunk`; returns what follows the body (the next request). */
  private feedBody(chunk: Buffer): Buffer {
    const body = this.body!;
    const n = Math.min(this.bodyLeft, chunk.length);
    this.bodyLeft -= n;
    const more = n > 0 && !body.destroyed ? body.feed(n === chunk.length ? chunk : chunk.subarray(0, n)) : true;
    if (this.bodyLeft === 0) {
      this.body = undefined;
      this.resumeBody();
      if (!body.destroyed) body.finish();
    } else if (!more && !this.bodyPaused) {
      this.bodyPaused = true;
      this.socket.pause();
    }
    return n === chunk.length ? EMPTY : chunk.subarray(n);
  }

  resumeBody(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    if (!this.detached) this.socket.resume();
  }

  responseDone(res: H1Response, keepAlive: boolean): void {
    if (this.current !== res) return;
    this.current = undefined;
    if (this.body !== undefined) {
      // Answered before its body was all read (a 401 to an upload, say): the rest of the body is
      // not a request, and reading it could take long: the connection ends here.
      this.body = undefined;
      keepAlive = false;
    }
    if (!keepAlive || this.host.closing) {
      this.pending = undefined;
      this.detach();
      endSoon(this.socket);
      return;
    }
    this.idleSince = Date.now();
    if (this.pending !== undefined) {
      // The next pipelined request, after the caller has finished with this one.
      setImmediate(() => {
        if (this.current !== undefined || this.detached || this.pending === undefined) return;
        const buf = this.pending;
        this.pending = undefined;
        this.socket.resume();
        this.serve(buf);
      });
    }
  }

  abort(res: H1Response): void {
    if (this.current === res) this.socket.destroy();
  }

  /** Stops reading for this path (the connection is closing, or node:http takes it). */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.server.forget(this);
    const s = this.socket;
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('drain', this.onDrain);
    // 'close' stays for a response in progress; 'error' stays so a late error is not unhandled.
  }

  private handOver(buf: Buffer): void {
    this.detach();
    const s = this.socket;
    s.off('close', this.onClose);
    s.off('error', onSocketError);
    s.pause();
    if (buf.length) s.unshift(buf);
    this.host.handOver(s);
    s.resume();
  }

  private readonly onEnd = (): void => {
    // The client closed its side: a response in progress cannot be delivered (node:http does the same).
    if (this.current !== undefined) this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.detached = true;
    this.server.forget(this);
    const res = this.current;
    const body = this.body;
    this.current = undefined;
    this.body = undefined;
    this.pending = undefined;
    body?.abort();
    res?.emitClose();
  };

  private readonly onDrain = (): void => {
    this.current?.emit('drain');
  };
}

function onSocketError(): void {
  // 'close' follows; the proxy learns of it through the response's 'close'.
}

/** End the socket once written, then destroy it (node's destroySoon). */
/** Closes a connection between requests; an answer still held by the write batch leaves first. */
function closeIdleSocket(socket: Socket): void {
  if (socket.writableLength > 0) endSoon(socket);
  else socket.destroy();
}

function endSoon(socket: Socket): void {
  const s = socket as Socket & { destroySoon?: () => void };
  if (typeof s.destroySoon === 'function') s.destroySoon();
  else socket.end();
}
