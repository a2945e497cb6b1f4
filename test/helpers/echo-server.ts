// A real HTTP backend for tests on 127.0.0.1: answers every request with JSON describing what it
// received, and records requests so tests can assert what the upstream saw.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface EchoServer {
  name: string;
  port: number;
  seen: Seen[];
  /** What `/health` answers (tests flip it to 503). */
  health: { status: number };
  server: http.Server;
  close(): Promise<void>;
}

export async function startEcho(name: string, port = 0): Promise<EchoServer> {
  const seen: Seen[] = [];
  // `/flaky/<key>/<n>`: the first n requests with that key get 503. `/health` answers health.status.
  const flakyCounts = new Map<string, number>();
  const health = { status: 200 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: Seen = { method: req.method ?? '', url: req.url ?? '', path: url.pathname, headers: req.headers, body };
      if (url.pathname !== '/health') seen.push(entry);
      const m = /\/status\/(\d{3})$/.exec(url.pathname);
      const delay = /\/delay\/(\d+)$/.exec(url.pathname);
      const bytes = /\/bytes\/(\d+)$/.exec(url.pathname);
      const flaky = /\/flaky\/([^/]+)\/(\d+)$/.exec(url.pathname);
      const send = () => {
        if (res.destroyed) return;
        if (bytes) {
          const n = Number(bytes[1]);
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n, 'x-backend': name });
          res.end(Buffer.alloc(n, 0x61));
          return;
        }
        let status = m ? Number(m[1]) : 200;
        if (flaky) {
          const n = (flakyCounts.get(flaky[1]!) ?? 0) + 1;
          flakyCounts.set(flaky[1]!, n);
          if (n <= Number(flaky[2])) status = 503;
        }
        if (url.pathname === '/health') status = health.status;
        const text = JSON.stringify({ server: name, method: req.method, path: url.pathname, url: req.url, query: Object.fromEntries(url.searchParams), headers: req.headers, body });
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-backend': name });
        res.end(req.method === 'HEAD' ? undefined : text);
      };
      if (delay) setTimeout(send, Number(delay[1]));
      else send();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    seen,
    health,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
