// A request of the own HTTP/1.1 server path that carries a body of a known length (one valid
// Content-Length, no Transfer-Encoding): a Readable the connection feeds with the body's bytes, so
// the proxy, the upstream clients and plugins read it exactly as they read node:http's
// IncomingMessage. Chunked bodies, Expect: 100-continue and anything ambiguous stay with node:http
// (h1-request-head.ts).

import { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { headersObject } from './h1-request-head.js';

/** What a body request asks of its connection: bytes again after backpressure. */
export interface BodySource {
  resumeBody(): void;
}

export class H1BodyRequest extends Readable {
  readonly httpVersion = '1.1';
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  /** Every byte of the body arrived (IncomingMessage.complete). */
  complete = false;
  /** The client went away before the body was complete (IncomingMessage.aborted). */
  aborted = false;
  private headerMap: Record<string, string | string[]> | undefined;

  constructor(
    readonly socket: Socket,
    readonly method: string,
    readonly url: string,
    readonly rawHeaders: string[],
    private readonly source: BodySource,
  ) {
    super();
  }

  get headers(): Record<string, string | string[]> {
    return (this.headerMap ??= headersObject(this.rawHeaders));
  }

  /** Body bytes from the connection; false: stop reading the socket until _read asks again. */
  feed(chunk: Buffer): boolean {
    return this.push(chunk);
  }

  /** The last byte arrived. */
  finish(): void {
    this.complete = true;
    this.push(null);
  }

  /** The connection closed before the body was complete. */
  abort(): void {
    if (this.complete || this.destroyed) return;
    this.aborted = true;
    this.emit('aborted');
    this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  }

  override _read(): void {
    this.source.resumeBody();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // As IncomingMessage: an error nobody listens for is not thrown (the proxy learns of the
    // client's close from the response's 'close').
    cb(this.listenerCount('error') > 0 ? err : null);
  }
}
