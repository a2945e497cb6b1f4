// The request heads the gateway's own HTTP/1.1 server path takes: complete, plain HTTP/1.1 heads,
// without a body or with a body of one valid Content-Length. Anything else (Transfer-Encoding, a
// second or malformed Content-Length, Upgrade, Expect, HTTP/1.0, an unknown method, obs-fold,
// control characters, a head over the size or count limits, or a head not complete in the bytes at
// hand) is left to node:http, which has every rule and answer for it (400/408/431/505, smuggling
// checks, chunked bodies, 100-continue, upgrades): the caller hands it the connection.

import { lowerToken } from '../upstream/h1-response-parser.js';

export interface RequestHead {
  method: string;
  url: string;
  /** Names as sent, values without surrounding whitespace: node's IncomingMessage.rawHeaders. */
  rawHeaders: string[];
  /** `Connection: close` was sent. */
  close: boolean;
  /** Bytes of the head, final CRLF CRLF included. */
  size: number;
  /** Bytes of body that follow the head (Content-Length; 0 without one). */
  bodyLength: number;
}

export interface HeadLimits {
  /** Whole head, request line included (node's maxHeaderSize). */
  maxHeaderBytes: number;
  maxHeaderCount: number;
}

/** Not ours: the connection goes to node:http with these bytes. */
export const HAND_OVER = 0;

/** Methods this path takes (with or without a body); anything else goes to node:http. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);

const END_OF_HEAD = Buffer.from('\r\n\r\n');

/** A Content-Length this path takes: digits only, at most 15 of them (a safe integer). */
const LENGTH = /^[0-9]{1,15}$/;

/**
 * A control character other than HTAB anywhere, DEL, or a CR or LF that is not part of a CRLF
 * (bare CR and bare LF are smuggling vectors; node refuses them).
 */
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const BAD_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;

/** Parses the head at the start of `buf`, or returns HAND_OVER. */
export function parseRequestHead(buf: Buffer, limits: HeadLimits): RequestHead | typeof HAND_OVER {
  const end = buf.indexOf(END_OF_HEAD);
  if (end <= 0 || end + 4 > limits.maxHeaderBytes) return HAND_OVER;
  const text = buf.toString('latin1', 0, end);
  if (BAD_CHAR.test(text)) return HAND_OVER;

  let eol = text.indexOf('\r\n');
  if (eol === -1) eol = text.length;
  const sp1 = text.indexOf(' ');
  if (sp1 <= 0 || sp1 > eol) return HAND_OVER;
  const method = text.slice(0, sp1);
  if (!METHODS.has(method)) return HAND_OVER;
  const sp2 = text.indexOf(' ', sp1 + 1);
  if (sp2 === -1 || sp2 > eol || sp2 === sp1 + 1 || eol - sp2 !== 9 || !text.startsWith('HTTP/1.1', sp2 + 1)) return HAND_OVER;
  // The target: visible ASCII only (BAD_CHAR already refused controls; refuse spaces and 8-bit).
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return HAND_OVER;
  }
  const url = text.slice(sp1 + 1, sp2);

  const rawHeaders: string[] = [];
  let close = false;
  let length = false;
  let bodyLength = 0;
  let pos = eol + 2;
  while (pos < text.length) {
    let next = text.indexOf('\r\n', pos);
    if (next === -1) next = text.length;
    const colon = text.indexOf(':', pos);
    if (colon <= pos || colon > next) return HAND_OVER; // no name, or no colon on this line (obs-fold starts with a space: no token)
    const raw = text.slice(pos, colon);
    const name = lowerToken(raw);
    if (name === undefined) return HAND_OVER;
    let a = colon + 1;
    let b = next;
    while (a < b && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
    while (b > a && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
    const value = text.slice(a, b);
    switch (name) {
      case 'content-length':
        // One plain length; a second one (even an equal one), a sign, spaces or a list is node's
        // to judge (it refuses what could smuggle a request).
        if (length || !LENGTH.test(value)) return HAND_OVER;
        length = true;
        bodyLength = Number(value);
        break;
      case 'transfer-encoding':
      case 'upgrade':
      case 'expect':
      case 'http2-settings':
        return HAND_OVER;
      case 'connection': {
        const v = value.toLowerCase();
        if (v === 'close') close = true;
        else if (v !== 'keep-alive') return HAND_OVER;
        break;
      }
    }
    rawHeaders.push(raw, value);
    if (rawHeaders.length > limits.maxHeaderCount * 2) return HAND_OVER; // node counts and the proxy answers 431
    pos = next + 2;
  }
  return { method, url, rawHeaders, close, size: end + 4, bodyLength };
}

/** node's rules for duplicate request headers (joinDuplicateHeaders off): IncomingMessage.headers. */
const FIRST_WINS = new Set([
  'content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization',
  'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag',
  'last-modified', 'server', 'age', 'expires',
]);

export function headersObject(raw: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (let i = 0; i < raw.length; i += 2) {
    const name = lowerToken(raw[i]!) ?? raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const cur = out[name];
    if (cur === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (name === 'set-cookie') (cur as string[]).push(value);
    else if (FIRST_WINS.has(name)) continue;
    else out[name] = `${cur as string}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out;
}
