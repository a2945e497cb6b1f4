// A small HTTP server for the admin APIs of the controller and the gateway: JSON in and out, the
// error envelope of DECISIONS.md §42, and the token rule of CONTRACT.md (loopback by default;
// any other bind address requires a token, and then every request must carry it).

import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { errorBody, ErrorCodes } from './errors.js';

export interface AdminRequest {
  method: string;
  path: string;
  /** Path split on `/`, without empty segments, URL-decoded. */
  segments: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body(): Promise<string>;
}

export interface AdminResponse {
  status: number;
  /** Objects are sent as JSON; strings as text/plain (or `contentType`). */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export type AdminHandler = (req: AdminRequest) => Promise<AdminResponse | undefined> | AdminResponse | undefined;

export interface AdminServerOptions {
  bind: string;
  port: number;
  token?: string;
  handler: AdminHandler;
  maxBodyBytes?: number;
}

export function isLoopback(address: string): boolean {
  return address === '127.0.0.1' || address === '::1' || address === 'localhost' || address.startsWith('127.');
}

export function json(status: number, body: unknown): AdminResponse {
  return { status, body };
}

export function notFound(message: string, details?: unknown): AdminResponse {
  return { status: 404, body: errorBody(ErrorCodes.NOT_FOUND, message, details) };
}

export function badRequest(message: string, details?: unknown): AdminResponse {
  return { status: 400, body: errorBody(ErrorCodes.BAD_REQUEST, message, details) };
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const got = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}

export class AdminServer {
  readonly server: http.Server;
  private boundPort = 0;

  constructor(private readonly opts: AdminServerOptions) {
    if (!isLoopback(opts.bind) && !opts.token) {
      throw new Error(`admin API on ${opts.bind} needs a token (--admin-token or EDGION_ADMIN_TOKEN): only 127.0.0.1 may be served without one`);
    }
    this.server = http.createServer((req, res) => void this.serve(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  get port(): number {
    return this.boundPort;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error & { code?: string }) => {
        reject(err.code === 'EADDRINUSE' ? new Error(`admin port ${this.opts.bind}:${this.opts.port} is already in use`) : err);
      };
      this.server.once('error', onError);
      this.server.listen(this.opts.port, this.opts.bind, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        this.boundPort = typeof addr === 'object' && addr ? addr.port : this.opts.port;
        resolve(this.boundPort);
      });
    });
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let out: AdminResponse;
    try {
      if (this.opts.token && !tokenMatches(req.headers.authorization, this.opts.token)) {
        out = { status: 401, body: errorBody(ErrorCodes.UNAUTHORIZED, 'missing or wrong bearer token'), headers: { 'www-authenticate': 'Bearer realm="edgion-admin"' } };
      } else {
        const url = new URL(req.url ?? '/', 'http://admin');
        const limit = this.opts.maxBodyBytes ?? 8 * 1024 * 1024;
        const request: AdminRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          segments: url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s)),
          query: url.searchParams,
          headers: req.headers,
          body: () => readBody(req, limit),
        };
        out = (await this.opts.handler(request)) ?? notFound(`no admin endpoint ${request.method} ${request.path}`);
      }
    } catch (err) {
      const e = err as Error & { status?: number; code?: string };
      out = { status: e.status ?? 500, body: errorBody(e.code ?? ErrorCodes.INTERNAL, e.message) };
    }
    send(res, out);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(Object.assign(new Error(`request body over ${limit} bytes`), { status: 413, code: ErrorCodes.BAD_REQUEST }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, out: AdminResponse): void {
  const headers: Record<string, string> = { ...out.headers };
  let payload = '';
  if (out.body !== undefined) {
    if (typeof out.body === 'string') {
      payload = out.body;
      headers['content-type'] ??= out.contentType ?? 'text/plain; charset=utf-8';
    } else {
      payload = JSON.stringify(out.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(out.status, headers);
  res.end(payload);
}
