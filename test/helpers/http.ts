// A small HTTP client for tests: never throws for network errors (status 0 + error).
import http from 'node:http';

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  error?: string;
  reusedSocket?: boolean;
}

export interface ReqOpts {
  port: number;
  path?: string;
  host?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  agent?: http.Agent | false;
  timeout?: number;
}

export function request(o: ReqOpts): Promise<Res> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.host) headers.host = o.host;
    if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body);
    const req = http.request({ host: '127.0.0.1', port: o.port, path: o.path ?? '/', method: o.method ?? 'GET', headers, agent: o.agent ?? false, setHost: !o.host }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = body ? JSON.parse(body) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json, reusedSocket: req.reusedSocket });
      });
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '', json: undefined, error: e.message }));
    });
    req.setTimeout(o.timeout ?? 10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, headers: {}, body: '', json: undefined, error: e.message }));
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

// Generous by default: it only waits that long when something is wrong, and CI machines are loaded.
export async function waitFor<T>(fn: () => Promise<T | undefined | false>, ms = 15_000, every = 50): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, every));
  }
}
