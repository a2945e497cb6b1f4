// Requests node's HTTP parser refuses before they become requests: malformed request lines and
// headers, smuggling attempts (Content-Length with Transfer-Encoding, duplicate lengths, bad
// chunks), oversize headers, slow clients. Each gets a short response, a closed connection and an
// access-log line; nothing reaches an upstream.

import type { Socket } from 'node:net';
import { reasonPhrase } from './status-text.js';

export interface RejectInfo {
  port: number;
  clientAddr: string;
  clientPort: number;
  status: number;
  error: string;
  reason: string;
}

export interface RejectLogger {
  reject(info: RejectInfo): void;
}

function classify(code: string | undefined): { status: number; error: string; reason: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: 'RequestHeaderTooLarge', reason: 'request headers are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return { status: 408, error: 'RequestTimeout', reason: 'the request was not received in time' };
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, error: 'BadRequest', reason: 'Content-Length together with Transfer-Encoding is not allowed' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { status: 400, error: 'BadRequest', reason: 'invalid Transfer-Encoding' };
    case 'HPE_INVALID_CONTENT_LENGTH':
      return { status: 400, error: 'BadRequest', reason: 'invalid Content-Length' };
    case 'HPE_INVALID_CHUNK_SIZE':
      return { status: 400, error: 'BadRequest', reason: 'invalid chunk size' };
    case 'HPE_INVALID_VERSION':
      return { status: 505, error: 'BadRequest', reason: 'unsupported HTTP version' };
    case 'HPE_INVALID_HEADER_TOKEN':
      return { status: 400, error: 'BadRequest', reason: 'invalid header name or value' };
    default:
      return { status: 400, error: 'BadRequest', reason: `malformed request (${code ?? 'parse error'})` };
  }
}

export function answerClientError(err: Error & { code?: string }, socket: Socket, port: number, log: RejectLogger): void {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
    socket.destroy();
    return;
  }
  const c = classify(err.code);
  log.reject({ port, clientAddr: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''), clientPort: socket.remotePort ?? 0, ...c });
  if (!socket.writable || (socket as unknown as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const body = `${c.status} ${reasonPhrase(c.status)}: ${c.reason}\n`;
  socket.end(
    `HTTP/1.1 ${c.status} ${reasonPhrase(c.status)}\r\nServer: edgion\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
