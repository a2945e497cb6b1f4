// The demo backend of `edgion-ctl up` (no --conf-dir): answers every request with a
// JSON description of what it received, so a user sees what the gateway sent on
// (paths, added headers) and the header `x-echo: edgion-demo` proves who answered.
//
// Run as its own supervised process:
//   node echo-server.js --port 0 --host 127.0.0.1 --run-file W/run/demo-echo.json
// It writes the run file (with the real port) once listening; SIGTERM/SIGINT stop it.
// This module is a program: importing it starts the server.

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface EchoReply {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const MAX_BODY = 1024 * 1024;

function createEchoServer(): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://echo.local');
      const query: EchoReply['query'] = {};
      for (const key of new Set(url.searchParams.keys())) {
        const all = url.searchParams.getAll(key);
        query[key] = all.length === 1 ? all[0]! : all;
      }
      const reply: EchoReply = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const payload = JSON.stringify(reply, null, 2) + '\n';
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(payload),
        'x-echo': 'edgion-demo',
      });
      res.end(req.method === 'HEAD' ? undefined : payload);
      process.stdout.write(`${reply.method} ${req.url ?? '/'} -> 200\n`);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'run-file': { type: 'string' },
    },
  });
  const server = createEchoServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(values.port), values.host, resolve);
  });
  const address = server.address() as { port: number };
  const runFile = values['run-file'];
  if (runFile) {
    await mkdir(path.dirname(runFile), { recursive: true });
    const tmp = `${runFile}.${process.pid}.tmp`;
    const run = { name: 'demo-echo', pid: process.pid, ports: { http: address.port }, startedAt: new Date().toISOString() };
    await writeFile(tmp, JSON.stringify(run, null, 2) + '\n');
    await rename(tmp, runFile);
  }
  process.stdout.write(`demo echo backend listening on http://${values.host}:${address.port}\n`);
  const stop = () => {
    server.close(() => {
      const done = runFile ? rm(runFile, { force: true }) : Promise.resolve();
      void done.finally(() => process.exit(0));
    });
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo echo backend failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
