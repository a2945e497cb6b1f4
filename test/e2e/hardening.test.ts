// Hostile and broken input: smuggling attempts, header limits, slow clients, connection limits,
// hop-by-hop headers in both directions. Every rejection is answered, logged, and never reaches
// an upstream; the gateway keeps serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';

let e: Edgion;
let echo: EchoServer;
let hop: http.Server;
let evil: net.Server;
let port: number;
let connPort: number;

function raw(p: number, data: string, waitMs = 1500): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(p, '127.0.0.1');
    let text = '';
    let closed = false;
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('close', () => {
      closed = true;
      clearTimeout(t);
      resolve({ text, closed });
    });
    s.on('error', () => undefined);
    s.write(data);
    const t = setTimeout(() => {
      s.destroy();
      resolve({ text, closed });
    }, waitMs);
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);

before(async () => {
  echo = await startEcho('echo');
  hop = http.createServer((req, res) => {
    res.writeHead(200, { connection: 'keep-alive, x-up-hop', 'x-up-hop': 'secret', 'keep-alive': 'timeout=5', 'x-seen': JSON.stringify(req.headers) });
    res.end('ok');
  });
  await new Promise<void>((r) => hop.listen(0, '127.0.0.1', r));
  // An upstream that answers with broken or smuggling framing, chosen by the request path.
  evil = net.createServer((sock) => {
    sock.on('error', () => undefined);
    sock.once('data', (d) => {
      const path = /^GET (\S+)/.exec(d.toString('latin1'))?.[1] ?? '';
      const answers: Record<string, string> = {
        '/cl-te': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        '/two-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\nok',
        '/fold': 'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 2\r\n\r\nok',
        '/space': 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok',
        '/garbage': 'SPDY/9 what\r\n\r\n',
        '/nul': 'HTTP/1.1 200 OK\r\nX-Bad: a\u0000b\r\nContent-Length: 2\r\n\r\nok',
        '/extra': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged',
        '/cut': 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc',
      };
      const answer = answers[path] ?? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
      if (path === '/cut') return void sock.end(answer);
      sock.write(answer);
    });
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  port = await freePort();
  connPort = await freePort();
  const cls = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: edgion }
spec:
  controllerName: edgion.io/gateway-controller
  parametersRef: { group: edgion.io, kind: EdgionGatewayConfig, name: strict }
---
apiVersion: edgion.io/v1alpha1
kind: EdgionGatewayConfig
metadata: { name: strict }
spec:
  httpTimeout: { client: { readTimeout: 1s } }
  securityProtect: { maxHeaderCount: 20, maxConnections: 3 }
`;
  const hopPort = (hop.address() as AddressInfo).port;
  const evilPort = (evil.address() as AddressInfo).port;
  e = await Edgion.start({
    conf: {
      'all.yaml': [
        cls,
        yaml.gateway('gw', [{ name: 'http', port }]),
        yaml.gateway('gw-conn', [{ name: 'http', port: connPort }]),
        yaml.service('echo', echo.port),
        yaml.service('hop', hopPort),
        yaml.service('evil', evilPort),
        `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r, namespace: default }\nspec:\n  parentRefs: [{ name: gw }, { name: gw-conn }]\n  hostnames: ["h.test"]\n  rules:\n    - backendRefs: [{ name: echo, port: ${echo.port} }]\n`,
        `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: hop, namespace: default }\nspec:\n  parentRefs: [{ name: gw }]\n  hostnames: ["hop.test"]\n  rules:\n    - backendRefs: [{ name: hop, port: ${hopPort} }]\n`,
        `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: evil, namespace: default }\nspec:\n  parentRefs: [{ name: gw }]\n  hostnames: ["evil.test"]\n  rules:\n    - backendRefs: [{ name: evil, port: ${evilPort} }]\n`,
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
  hop?.close();
  evil?.close();
});

const seen = (path: string) => echo.seen.filter((s) => s.path === path).length;

test('Content-Length with Transfer-Encoding is refused with 400 and nothing reaches the backend', async () => {
  const r = await raw(port, 'POST /smuggle HTTP/1.1\r\nHost: h.test\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h.test\r\n\r\n');
  assert.equal(statusOf(r.text), 400);
  assert.equal((r.text.match(/HTTP\/1\.1/g) ?? []).length, 1, 'one response only');
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(seen('/smuggle') + seen('/smuggled'), 0);
});

test('two different Content-Length values, and a bad chunk size, get 400', async () => {
  assert.equal(statusOf((await raw(port, 'POST /dup HTTP/1.1\r\nHost: h.test\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\nabcdefg')).text), 400);
  assert.equal(statusOf((await raw(port, 'POST /chunk HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nnope\r\n0\r\n\r\n')).text), 400);
  assert.equal(seen('/dup') + seen('/chunk'), 0);
});

test('too many headers get 431, oversize headers get 431', async () => {
  const many = Array.from({ length: 25 }, (_, i) => `X-H${i}: v`).join('\r\n');
  const r = await raw(port, `GET /many HTTP/1.1\r\nHost: h.test\r\n${many}\r\nConnection: close\r\n\r\n`);
  assert.equal(statusOf(r.text), 431);
  const big = await raw(port, `GET /big HTTP/1.1\r\nHost: h.test\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`);
  assert.equal(statusOf(big.text), 431);
  assert.equal(seen('/many') + seen('/big'), 0);
});

test('a client that does not finish its headers gets 408', async () => {
  const r = await raw(port, 'GET /slow HTTP/1.1\r\nHost: h.te', 4000);
  assert.equal(statusOf(r.text), 408);
});

test('every rejection is in the access log', async () => {
  const lines = await waitFor(async () => {
    const l = e.accessLog();
    return l.some((x) => x.request_info?.status === 408) ? l : undefined;
  });
  assert.ok(lines);
  const statuses = lines!.map((l) => l.request_info.status);
  for (const st of [400, 431, 408]) assert.ok(statuses.includes(st), `status ${st} logged`);
  assert.ok(lines!.some((l) => (l.errors ?? []).includes('RequestHeaderTooLarge')));
});

test('hop-by-hop headers are stripped in both directions', async () => {
  const r = await request({ port, host: 'hop.test', path: '/hop', headers: { connection: 'keep-alive, x-client-hop', 'x-client-hop': 'secret', 'keep-alive': 'timeout=5', te: 'trailers', 'proxy-connection': 'keep-alive' } });
  assert.equal(r.status, 200);
  const up = JSON.parse(String(r.headers['x-seen']));
  for (const h of ['x-client-hop', 'keep-alive', 'te', 'proxy-connection']) assert.equal(up[h], undefined, `${h} not forwarded upstream`);
  assert.equal(r.headers['x-up-hop'], undefined, 'upstream hop-by-hop header not forwarded to the client');
});

test('the connection limit closes connections over it; the gateway keeps serving', async () => {
  const socks = await Promise.all([1, 2, 3].map(() => new Promise<net.Socket>((r) => { const s = net.connect(connPort, '127.0.0.1', () => r(s)); })));
  await new Promise((r) => setTimeout(r, 500));
  const over = await raw(connPort, 'GET /over HTTP/1.1\r\nHost: h.test\r\n\r\n', 1000);
  assert.equal(over.text, '');
  assert.equal(over.closed, true);
  for (const s of socks) s.destroy();
  assert.ok(await waitFor(async () => (await request({ port: connPort, host: 'h.test', path: '/after' })).status === 200, 10_000));
  assert.equal((await request({ port, host: 'h.test', path: '/still-fine' })).status, 200);
});

test('an upstream answer with broken or smuggling framing is a 502, named in the log; the next request is clean', async () => {
  for (const path of ['/cl-te', '/two-cl', '/fold', '/space', '/garbage', '/nul']) {
    const r = await request({ port, host: 'evil.test', path });
    assert.equal(r.status, 502, `${path}: ${r.body}`);
    assert.match(r.body, /default\/evil/, `${path}: the body names the backend`);
    if (path === '/nul') assert.match(r.body, /sent an invalid response header/);
  }
  // Bytes after a complete answer never become the answer to another request.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 3; i++) {
    const r = await request({ port, host: 'evil.test', path: '/extra', agent });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
  }
  agent.destroy();
  // A body cut short after the head went out: the client connection is cut, not completed.
  const cut = await raw(port, 'GET /cut HTTP/1.1\r\nHost: evil.test\r\n\r\n', 3000);
  assert.equal(statusOf(cut.text), 200);
  assert.equal(cut.closed, true);
  assert.equal((await request({ port, host: 'h.test', path: '/after-evil' })).status, 200);
  const lines = await waitFor(async () => {
    const l = e.accessLog().filter((x) => x.request_info?.host === 'evil.test' && x.request_info?.path === '/two-cl');
    return l.length ? l : undefined;
  });
  const attempt = lines![0].backend_context.upstreams[0];
  assert.match(String(attempt.err), /conflicting Content-Length/);
});
