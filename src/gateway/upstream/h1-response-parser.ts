// An HTTP/1.1 response parser for upstream connections (RFC 9112), strict where framing is at
// stake: one Content-Length (or identical repeats), Transfer-Encoding with chunked last, never
// both, no obs-fold, token header names, CRLF line ends, bounded head, chunk-size and trailer
// sizes. It works on the buffers the socket hands over, without copying bodies: body chunks are
// sub-views of the socket's buffers. Header values are not checked for control characters here:
// node:http refuses them when the response is written to the client (the proxy answers 502).

export type ResponseHeaderMap = Record<string, string | string[]>;

/**
 * What the parser reports to. `head` and `body` return false to stop parsing (backpressure, or a
 * pause while the head is being processed): `execute` returns and is called again to go on; the end
 * of a response is reported only once parsing goes on after the last body chunk.
 */
export interface ResponseSink {
  head(status: number, headers: ResponseHeaderMap, statusText: string): boolean;
  body(chunk: Buffer): boolean;
  end(trailers: ResponseHeaderMap | undefined): void;
}

export class ResponseParseError extends Error {
  readonly code = 'UND_ERR_RESPONSE_INVALID';
  constructor(reason: string) {
    super(`invalid upstream response: ${reason}`);
  }
}

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  /** Complete; `end` is reported when parsing goes on (it may have been paused on the last chunk). */
  EndPending,
  Done,
}

/** Limits; the defaults match node:http's client (16 KiB head is its default; we allow more). */
export interface ParserLimits {
  maxHeadBytes: number;
  maxTrailerBytes: number;
}

const DEFAULT_LIMITS: ParserLimits = { maxHeadBytes: 64 * 1024, maxTrailerBytes: 16 * 1024 };
const MAX_CHUNK_LINE = 4096;
const EMPTY = Buffer.alloc(0);

/** RFC 9110 token characters (header names). */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/**
 * Raw token -> its lower-case form, for strings already checked to be tokens. Header names (and
 * methods) are the same few strings over and over; the cache spares the check and the case change.
 */
const TOKEN_CACHE = new Map<string, string>();
const TOKEN_CACHE_MAX = 512;

/** `raw` in lower case when it is an RFC 9110 token (a header name, a method), else undefined. */
export function lowerToken(raw: string): string | undefined {
  const known = TOKEN_CACHE.get(raw);
  if (known !== undefined) return known;
  if (!isToken(raw)) return undefined;
  const lower = raw.toLowerCase();
  if (TOKEN_CACHE.size < TOKEN_CACHE_MAX) TOKEN_CACHE.set(raw, lower);
  return lower;
}

/**
 * A header (or trailer) value node:http would refuse to write: a control character other than
 * HTAB, CR and LF above all. Shared by the upstream client and the own server path.
 */
export const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

function headerName(raw: string, what: string): string {
  const name = lowerToken(raw);
  if (name === undefined) throw new ResponseParseError(`invalid ${what} name ${JSON.stringify(raw)}`);
  if (name === '__proto__') throw new ResponseParseError(`${what} name __proto__`);
  return name;
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Parses `name: value` lines of `text` from `pos` to its end into `into`; throws on a bad line. */
function parseFields(text: string, pos: number, into: ResponseHeaderMap, what: string): void {
  const n = text.length;
  while (pos < n) {
    let eol = text.indexOf('\r\n', pos);
    if (eol === -1) eol = n;
    const c0 = text.charCodeAt(pos);
    if (c0 === 32 || c0 === 9) throw new ResponseParseError(`obsolete line folding in ${what}`);
    const colon = text.indexOf(':', pos);
    if (colon === -1 || colon > eol) throw new ResponseParseError(`${what} line without a colon`);
    const name = headerName(text.slice(pos, colon), what);
    // OWS around the value: usually exactly one space before it and none after.
    let a = colon + 1;
    let b = eol;
    while (a < b && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
    while (b > a && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
    const value = text.slice(a, b);
    const cur = into[name];
    if (cur === undefined) into[name] = value;
    else if (typeof cur === 'string') into[name] = [cur, value];
    else cur.push(value);
    pos = eol + 2;
  }
}

function onlyDigits(s: string): boolean {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Comma-separated list values, lower-cased and trimmed, over every line of a header. */
function listTokens(v: string | string[]): string[] {
  if (typeof v === 'string' && v.indexOf(',') === -1) return [trimOws(v).toLowerCase()];
  const out: string[] = [];
  for (const line of typeof v === 'string' ? [v] : v) {
    for (const part of line.split(',')) {
      const t = trimOws(part).toLowerCase();
      if (t !== '') out.push(t);
    }
  }
  return out;
}

export class H1ResponseParser {
  private state = State.Done;
  private headOnly = false;
  /** Bytes of an incomplete head (or chunk-size / trailer line) carried over from earlier buffers. */
  private carry: Buffer | undefined;
  private remaining = 0;
  private trailers: ResponseHeaderMap | undefined;
  private trailerBytes = 0;
  /** The head just parsed, handed to the sink by `execute`. */
  private status = 0;
  private statusText = '';
  private headers: ResponseHeaderMap | undefined;
  /** Whether the connection may carry another request once this response is complete. */
  keepAlive = true;
  /** Seconds from a `Keep-Alive: timeout=N` response header, when given. */
  keepAliveTimeoutSec: number | undefined;
  /** True once any byte of the current response arrived. */
  started = false;
  private readonly limits: ParserLimits;
  /** What `find` searched last (the socket's buffer, or carried bytes joined with it) and where its bytes begin. */
  private data: Buffer = EMPTY;
  private start = 0;

  constructor(
    private readonly sink: ResponseSink,
    limits?: Partial<ParserLimits>,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Expects a new response; `headOnly` for the answer to a HEAD request (no body whatever it says). */
  reset(headOnly: boolean): void {
    this.state = State.Head;
    this.headOnly = headOnly;
    this.carry = undefined;
    this.remaining = 0;
    this.trailers = undefined;
    this.trailerBytes = 0;
    this.headers = undefined;
    this.keepAlive = true;
    this.keepAliveTimeoutSec = undefined;
    this.started = false;
  }

  /**
   * Parses `buf` from `offset`. Returns where it stopped: `buf.length` when everything was used,
   * earlier when the sink asked to stop or the response ended (bytes after the end are the
   * caller's to judge). Throws ResponseParseError on a malformed response.
   */
  execute(buf: Buffer, offset = 0): number {
    let pos = offset;
    if (pos < buf.length) this.started = true;
    for (;;) {
      const state = this.state;
      if (state === State.EndPending) {
        this.state = State.Done;
        this.sink.end(this.trailers);
        return pos;
      }
      if (state === State.Done || pos >= buf.length) return pos;
      switch (state) {
        case State.Head: {
          const r = this.readHead(buf, pos);
          if (r === -1) return buf.length;
          pos = r;
          if (this.state === State.Head) break; // a 1xx head was dropped: the final one follows
          if (!this.sink.head(this.status, this.headers!, this.statusText)) {
            this.headers = undefined;
            return pos;
          }
          this.headers = undefined;
          break;
        }
        case State.Length: {
          const take = Math.min(this.remaining, buf.length - pos);
          const chunk = buf.subarray(pos, pos + take);
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = State.EndPending;
          if (!this.sink.body(chunk)) return pos;
          break;
        }
        case State.ChunkSize: {
          const r = this.readChunkSize(buf, pos);
          if (r === -1) return buf.length;
          pos = r;
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, buf.length - pos);
          const chunk = buf.subarray(pos, pos + take);
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          if (!this.sink.body(chunk)) return pos;
          break;
        }
        case State.ChunkDataEnd: {
          // The CRLF after a chunk's data, possibly split across buffers.
          const expect = this.remaining === 2 ? 13 : 10;
          if (buf[pos] !== expect) throw new ResponseParseError('chunk data not followed by CRLF');
          pos++;
          if (--this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const r = this.readTrailers(buf, pos);
          if (r === -1) return buf.length;
          pos = r;
          break;
        }
        case State.UntilClose: {
          const chunk = pos === 0 ? buf : buf.subarray(pos);
          pos = buf.length;
          if (!this.sink.body(chunk)) return pos;
          break;
        }
      }
    }
  }

  /** Stops parsing the current response (the request was aborted). */
  halt(): void {
    this.state = State.Done;
    this.carry = undefined;
  }

  /** The connection closed: completes a close-delimited body; anything else was cut short. */
  eof(): void {
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      this.sink.end(undefined);
      return;
    }
    if (this.state !== State.Done && this.state !== State.EndPending) throw new ResponseParseError(this.started ? 'connection closed before the response was complete' : 'connection closed before any response');
  }

  /**
   * Finds `terminator` in the bytes from `pos` on, after any carried over from earlier buffers
   * (rare: heads and lines usually arrive whole). Found: sets `data` (the buffer searched: `buf`,
   * or carry + the rest of `buf`), `start` (where the bytes begin in it) and returns the
   * terminator's index in `data`. Not found: carries the bytes (at most `limit`) and returns -1.
   */
  private find(buf: Buffer, pos: number, terminator: string, limit: number, what: string): number {
    const carry = this.carry;
    let data = buf;
    let start = pos;
    let from = pos;
    if (carry !== undefined) {
      this.carry = undefined;
      data = Buffer.concat([carry, buf.subarray(pos)]);
      start = 0;
      from = Math.max(0, carry.length - terminator.length + 1); // it may straddle the seam
    }
    const at = data.indexOf(terminator, from, 'latin1');
    if ((at === -1 ? data.length : at) - start > limit) throw new ResponseParseError(`${what} over ${limit} bytes`);
    if (at === -1) {
      this.carry = start === 0 ? data : data.subarray(start);
      return -1;
    }
    this.data = data;
    this.start = start;
    return at;
  }

  /** Where in `buf` the parse goes on, for an index in the `data` that `find` searched. */
  private resume(buf: Buffer, at: number): number {
    const data = this.data;
    this.data = EMPTY;
    return data === buf ? at : buf.length - (data.length - at); // carried bytes came before `pos`
  }

  private readHead(buf: Buffer, pos: number): number {
    const end = this.find(buf, pos, '\r\n\r\n', this.limits.maxHeadBytes, 'response head');
    if (end === -1) return -1;
    const text = this.data.toString('latin1', this.start, end + 2);
    const next = this.resume(buf, end + 4);
    this.onHead(text);
    return next;
  }

  private onHead(text: string): void {
    // Status line: HTTP/1.x SP 3DIGIT [SP reason]
    const eol = text.indexOf('\r\n');
    if (eol < 12 || !text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 32) throw new ResponseParseError(`bad status line ${JSON.stringify(text.slice(0, Math.min(eol < 0 ? 40 : eol, 40)))}`);
    const minor = text.charCodeAt(7) - 48;
    if (minor !== 0 && minor !== 1) throw new ResponseParseError('unsupported HTTP version');
    const s1 = text.charCodeAt(9) - 48;
    const s2 = text.charCodeAt(10) - 48;
    const s3 = text.charCodeAt(11) - 48;
    if (s1 < 1 || s1 > 5 || s2 < 0 || s2 > 9 || s3 < 0 || s3 > 9 || (eol > 12 && text.charCodeAt(12) !== 32)) throw new ResponseParseError('bad status code');
    const status = s1 * 100 + s2 * 10 + s3;
    const statusText = eol > 13 ? text.slice(13, eol) : '';
    const headers: ResponseHeaderMap = {};
    parseFields(text, eol + 2, headers, 'header');

    if (status < 200) {
      // 1xx informational: dropped; the final response follows on the same connection.
      if (status === 101) throw new ResponseParseError('101 Switching Protocols to a request that did not ask for an upgrade');
      this.state = State.Head;
      return;
    }

    const conn = headers.connection;
    if (conn === undefined) this.keepAlive = minor === 1;
    else if (typeof conn === 'string' && conn.length === 10 && conn.toLowerCase() === 'keep-alive') this.keepAlive = true;
    else {
      const tokens = listTokens(conn);
      this.keepAlive = minor === 1 ? !tokens.includes('close') : tokens.includes('keep-alive') && !tokens.includes('close');
    }
    const ka = headers['keep-alive'];
    if (ka !== undefined) {
      const m = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(typeof ka === 'string' ? ka : ka.join(','));
      if (m) this.keepAliveTimeoutSec = Number(m[1]);
    }

    const te = headers['transfer-encoding'];
    const cl = headers['content-length'];
    if (te !== undefined && cl !== undefined) throw new ResponseParseError('both Transfer-Encoding and Content-Length');
    let length = -1;
    if (cl !== undefined) {
      const first = typeof cl === 'string' ? cl : cl[0]!;
      if (typeof cl !== 'string' && cl.some((v) => v !== first)) throw new ResponseParseError('conflicting Content-Length values');
      if (!onlyDigits(first)) throw new ResponseParseError(`bad Content-Length ${JSON.stringify(first)}`);
      length = Number(first);
    }

    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    if (this.headOnly || status === 204 || status === 304) return this.complete();
    if (te !== undefined) {
      const codings = listTokens(te);
      if (codings[codings.length - 1] === 'chunked') {
        if (codings.indexOf('chunked') !== codings.length - 1) throw new ResponseParseError('chunked applied more than once');
        this.state = State.ChunkSize;
        return;
      }
      // Another final coding: the body runs until the connection closes.
      this.keepAlive = false;
      this.state = State.UntilClose;
      return;
    }
    if (length === 0) return this.complete();
    if (length > 0) {
      this.remaining = length;
      this.state = State.Length;
      return;
    }
    this.keepAlive = false;
    this.state = State.UntilClose;
  }

  private complete(): void {
    this.state = State.EndPending;
  }

  private readChunkSize(buf: Buffer, pos: number): number {
    const eol = this.find(buf, pos, '\r\n', MAX_CHUNK_LINE, 'chunk-size line');
    if (eol === -1) return -1;
    const data = this.data;
    const start = this.start;
    let size = 0;
    let digits = 0;
    let i = start;
    for (; i < eol; i++) {
      const c = data[i]!;
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d === -1) break;
      if (++digits > 13) throw new ResponseParseError('chunk size too large');
      size = size * 16 + d;
    }
    if (digits === 0) throw new ResponseParseError('bad chunk size');
    // Only chunk extensions (`;name=value`, optionally after whitespace) may follow the size.
    while (i < eol && (data[i] === 32 || data[i] === 9)) i++;
    if (i < eol && data[i] !== 59 /* ; */) throw new ResponseParseError('bad chunk size');
    const next = this.resume(buf, eol + 2);
    if (size === 0) {
      this.state = State.Trailers;
      return next;
    }
    this.remaining = size;
    this.state = State.ChunkData;
    return next;
  }

  /** After the last chunk: trailer fields, a line at a time, then an empty line. Returns -1 for more input. */
  private readTrailers(buf: Buffer, pos: number): number {
    const max = this.limits.maxTrailerBytes;
    const eol = this.find(buf, pos, '\r\n', max, 'trailers');
    if (eol === -1) return -1;
    const start = this.start;
    if (eol === start) this.state = State.EndPending; // the empty line: the message is complete
    else {
      this.trailerBytes += eol - start + 2;
      if (this.trailerBytes > max) throw new ResponseParseError(`trailers over ${max} bytes`);
      parseFields(this.data.toString('latin1', start, eol + 2), 0, (this.trailers ??= {}), 'trailer');
    }
    return this.resume(buf, eol + 2);
  }
}
