// The request and response objects of the gateway's own HTTP/1.1 server path: the parts of
// node:http's IncomingMessage and ServerResponse that the proxy uses, without their stream
// machinery. H1Request has no body (requests with one are H1BodyRequest, h1-request-body.ts);
// responses are written straight to the socket: head and a small body in one write, chunked when
// no length is known.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { BAD_HEADER_VALUE, lowerToken } from '../upstream/h1-response-parser.js';
import { headersObject } from './h1-request-head.js';

/** What a response tells its connection. */
export interface ExchangeOwner {
  readonly socket: Socket;
  /** Seconds announced in `Keep-Alive: timeout=`; 0 announces nothing. */
  keepAliveTimeoutSec(): number;
  /** Called before each write: the connection may hold its writes to the end of the event-loop turn (net/write-batch.ts). */
  holdWrites(): void;
  /** The response is complete (written to the socket); `keepAlive` says whether the connection stays. */
  responseDone(res: H1Response, keepAlive: boolean): void;
  /** The response was abandoned: the connection is cut. */
  abort(res: H1Response): void;
  /** The request's body is still arriving: a response written now closes the connection. */
  bodyPending?(): boolean;
}

export class H1Request {
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  /** No body: the whole request has arrived. */
  readonly complete = true;
  readonly readableDidRead = false;
  private headerMap: Record<string, string | string[]> | undefined;

  constructor(
    readonly socket: Socket,
    readonly method: string,
    readonly url: string,
    readonly rawHeaders: string[],
  ) {}

  /** Built on first use: most requests are served from rawHeaders alone. */
  get headers(): Record<string, string | string[]> {
    return (this.headerMap ??= headersObject(this.rawHeaders));
  }

  /** Readers of the body get its end at once (there is none); other events never come. */
  on(event: string, fn: () => void): this {
    if (event === 'end') queueMicrotask(fn);
    return this;
  }
  once(event: string, fn: () => void): this {
    return this.on(event, fn);
  }
  off(): this {
    return this;
  }
  removeListener(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
}

type Listener = (...args: unknown[]) => void;

/** Bodies up to this size leave with their head as one latin1 string write; larger ones are not copied. */
const JOIN_LIMIT = 4096;

function invalid(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

let dateSecond = 0;
let dateText = '';
/** The Date header value, formatted once per second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

export class H1Response {
  statusCode = 200;
  headersSent = false;
  chunkedEncoding = false;
  /** Set false before the head is written to close the connection after this response. */
  shouldKeepAlive: boolean;
  writableEnded = false;
  /** The head, built by writeHead, written with the first body bytes (or at end). */
  private head: string | undefined;
  private bodyless: boolean;
  private keepAlive = false;
  private trailers: Record<string, string> | undefined;
  private closed = false;
  private listeners: Array<{ event: string; fn: Listener; once: boolean }> | undefined;

  constructor(
    private readonly owner: ExchangeOwner,
    keepAlive: boolean,
    headRequest: boolean,
  ) {
    this.shouldKeepAlive = keepAlive;
    this.bodyless = headRequest;
  }

  writeHead(status: number, headers?: Record<string, string | string[] | number | undefined>): this {
    if (this.headersSent) throw invalid('ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client');
    let s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let length = false;
    let date = false;
    let connection: string | undefined;
    let chunked = false;
    let te = false;
    for (const k in headers) {
      const v = headers[k];
      if (v === undefined) continue;
      const name = lowerToken(k);
      if (name === undefined) throw invalid('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${k}"]`);
      if (typeof v === 'object') {
        for (const one of v) s += line(k, String(one));
      } else s += line(k, typeof v === 'string' ? v : String(v));
      switch (name) {
        case 'content-length':
          length = true;
          break;
        case 'date':
          date = true;
          break;
        case 'connection':
          connection = String(v).toLowerCase();
          break;
        case 'transfer-encoding':
          te = true;
          chunked = /(?:^|,)\s*chunked\s*$/i.test(String(v));
          break;
      }
    }
    this.statusCode = status;
    if (status === 204 || status === 304 || status < 200) this.bodyless = true;
    // A body with a transfer coding other than chunked ends when the connection does.
    this.keepAlive = this.shouldKeepAlive && (connection === undefined || !connection.includes('close')) && (!te || chunked || this.bodyless) && !this.owner.bodyPending?.();
    if (!this.bodyless && !length && !te) {
      s += 'Transfer-Encoding: chunked\r\n';
      chunked = true;
    }
    this.chunkedEncoding = chunked && !this.bodyless;
    if (connection === undefined) {
      if (this.keepAlive) {
        const t = this.owner.keepAliveTimeoutSec();
        s += t > 0 ? `Connection: keep-alive\r\nKeep-Alive: timeout=${t}\r\n` : 'Connection: keep-alive\r\n';
      } else s += 'Connection: close\r\n';
    }
    if (!date) s += `Date: ${httpDate()}\r\n`;
    this.head = s + '\r\n';
    this.headersSent = true;
    return this;
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const body = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.bodyless || body.length === 0) return this.flushHead();
    if (this.chunkedEncoding) return this.send(`${this.takeHead()}${body.length.toString(16)}\r\n`, body, '\r\n');
    return this.send(this.takeHead(), body, '');
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded) return this;
    if (!this.headersSent) {
      const length = chunk === undefined ? 0 : Buffer.byteLength(chunk);
      this.writeHead(this.statusCode, this.bodyless ? undefined : { 'content-length': length });
    }
    const body = chunk === undefined || this.bodyless ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.chunkedEncoding) {
      let last = '0\r\n';
      if (this.trailers !== undefined) for (const k in this.trailers) last += line(k, this.trailers[k]!);
      last += '\r\n';
      if (body !== undefined && body.length > 0) this.send(`${this.takeHead()}${body.length.toString(16)}\r\n`, body, `\r\n${last}`);
      else this.send(this.takeHead() + last, undefined, '');
    } else if (body !== undefined && body.length > 0) this.send(this.takeHead(), body, '');
    else this.flushHead();
    this.writableEnded = true;
    this.owner.responseDone(this, this.keepAlive);
    // After the caller's own bookkeeping, as node:http does ('close' after 'finish').
    queueMicrotask(() => this.emitClose());
    return this;
  }

  addTrailers(t: Record<string, string>): void {
    for (const k in t) {
      if (lowerToken(k) === undefined) throw invalid('ERR_INVALID_HTTP_TOKEN', `Trailer name must be a valid HTTP token ["${k}"]`);
      if (BAD_HEADER_VALUE.test(t[k]!)) throw invalid('ERR_INVALID_CHAR', `Invalid character in trailer content ["${k}"]`);
    }
    this.trailers = t;
  }

  /** Cuts the connection (a response that cannot be completed). */
  destroy(_err?: Error): void {
    if (this.writableEnded || this.closed) return;
    this.writableEnded = true;
    this.owner.abort(this);
  }

  // The few events the proxy waits for: 'close' (the exchange is over) and 'drain'.
  on(event: string, fn: Listener): this {
    (this.listeners ??= []).push({ event, fn, once: false });
    return this;
  }
  once(event: string, fn: Listener): this {
    (this.listeners ??= []).push({ event, fn, once: true });
    return this;
  }
  off(event: string, fn: Listener): this {
    const ls = this.listeners;
    if (ls !== undefined) {
      const i = ls.findIndex((l) => l.event === event && l.fn === fn);
      if (i !== -1) ls.splice(i, 1);
    }
    return this;
  }
  removeListener(event: string, fn: Listener): this {
    return this.off(event, fn);
  }

  emit(event: string): void {
    const ls = this.listeners;
    if (ls === undefined) return;
    for (const l of ls.slice()) {
      if (l.event !== event) continue;
      if (l.once) this.off(event, l.fn);
      l.fn.call(this);
    }
  }

  /** Once, when the exchange is over: completed, abandoned, or the client went away. */
  emitClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
    this.listeners = undefined;
  }

  private takeHead(): string {
    const h = this.head ?? '';
    this.head = undefined;
    return h;
  }

  private flushHead(): boolean {
    const h = this.takeHead();
    if (h === '') return true;
    this.owner.holdWrites();
    return this.owner.socket.write(h, 'latin1');
  }

  /** `prefix`, `body`, `suffix` in one write when small (latin1 keeps every byte), else corked. */
  private send(prefix: string, body: Buffer | undefined, suffix: string): boolean {
    const socket = this.owner.socket;
    this.owner.holdWrites();
    if (body === undefined) return socket.write(prefix + suffix, 'latin1');
    if (body.length <= JOIN_LIMIT) return socket.write(prefix + body.toString('latin1') + suffix, 'latin1');
    socket.cork();
    if (prefix !== '') socket.write(prefix, 'latin1');
    let ok = socket.write(body);
    if (suffix !== '') ok = socket.write(suffix, 'latin1');
    socket.uncork();
    return ok;
  }
}

function line(name: string, value: string): string {
  if (BAD_HEADER_VALUE.test(value)) throw invalid('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
  return `${name}: ${value}\r\n`;
}
