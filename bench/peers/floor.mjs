// The "Node floor": the least a Node.js reverse proxy can do, so the gateway's row can be read
// against what Node itself costs. node:http server in front of an undici Pool (the project's own
// undici, from its node_modules), hop-by-hop headers dropped, bodies streamed, nothing else: no
// routing, no access log, no metrics.
//
//   PORT=18140 UPSTREAM=http://127.0.0.1:18080 node bench/peers/floor.mjs
import http from 'node:http';
import { Pool } from 'undici';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT);
const UPSTREAM = process.env.UPSTREAM;
if (!PORT || !UPSTREAM) {
  console.error('PORT and UPSTREAM must be set');
  process.exit(2);
}

const pool = new Pool(UPSTREAM, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade',
  'te', 'trailer', 'proxy-authenticate', 'proxy-authorization', 'host']);
const upstreamHost = new URL(UPSTREAM).host;

function handler(req, res) {
  const headers = { host: req.headers.host ?? upstreamHost };
  for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k];
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.stream(
    { path: req.url, method: req.method, headers, body: hasBody ? req : null },
    ({ statusCode, headers: upstreamHeaders }) => {
      const out = {};
      for (const k in upstreamHeaders) if (!HOP.has(k)) out[k] = upstreamHeaders[k];
      res.writeHead(statusCode, out);
      return res;
    },
    (err) => {
      if (err) {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      }
    },
  );
}

const server = http.createServer(handler);
server.listen(PORT, HOST, () => {
  console.log(`node-floor listening on ${HOST}:${PORT} -> ${UPSTREAM}, node ${process.version}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
