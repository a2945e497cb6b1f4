// WebSocket through the gateway: upgrade proxied, messages both ways, closes propagate both ways,
// idle timeout, gateway-made answers to upgrade requests, access log lines.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { Edgion, yaml } from '../helpers/edgion.js';
import { freePort } from '../helpers/free-port.js';
import { waitFor } from '../helpers/http.js';

let e: Edgion;
let server: http.Server;
let wss: WebSocketServer;
let backendPort: number;
let port: number;
const serverSide: WebSocket[] = [];

before(async () => {
  server = http.createServer((_req, res) => res.end('plain'));
  wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    serverSide.push(ws);
    ws.on('message', (data, binary) => {
      const text = data.toString();
      if (!binary && text === 'info') ws.send(JSON.stringify({ url: req.url, headers: req.headers }));
      else if (!binary && text === 'close-me') ws.close(4001, 'server says bye');
      else ws.send(binary ? data : `echo:${text}`, { binary });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  backendPort = (server.address() as AddressInfo).port;
  port = await freePort();
  const route = (name: string, host: string, extra = '') => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["${host}"]
  rules:
    - backendRefs: [{ name: ws, port: ${backendPort} }]${extra}
`;
  e = await Edgion.start({
    conf: {
      'all.yaml': [
        yaml.gatewayClass(),
        yaml.gateway('gw', [{ name: 'http', port }]),
        yaml.service('ws', backendPort),
        route('ws', 'ws.test'),
        route('ws-short', 'short.test', '\n      timeouts: { backendRequest: 500ms }'),
        route('ws-denied', 'denied.test', '\n      filters: [{ type: ExtensionRef, extensionRef: { group: edgion.io, kind: EdgionPlugins, name: deny } }]'),
        `apiVersion: edgion.io/v1\nkind: EdgionPlugins\nmetadata: { name: deny, namespace: default }\nspec:\n  requestPlugins: [{ type: Mock, config: { statusCode: 403, body: "no websockets for you" } }]\n`,
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  wss?.close();
  server?.close();
});

function connect(host: string, path = '/socket'): Promise<{ ws: WebSocket; error?: string; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host } });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ ws, status: res.statusCode ?? 0 }));
    ws.once('error', (err) => resolve({ ws, error: err.message }));
  });
}

const next = (ws: WebSocket) => new Promise<{ data: Buffer; binary: boolean }>((r) => ws.once('message', (data, binary) => r({ data: data as Buffer, binary })));

test('text and binary messages go both ways; the backend sees the path and Host', async () => {
  const { ws, error } = await connect('ws.test', '/socket?room=1');
  assert.equal(error, undefined);
  ws.send('hello');
  assert.equal((await next(ws)).data.toString(), 'echo:hello');
  ws.send(Buffer.from([1, 2, 3]));
  const bin = await next(ws);
  assert.equal(bin.binary, true);
  assert.deepEqual([...bin.data], [1, 2, 3]);
  ws.send('info');
  const info = JSON.parse((await next(ws)).data.toString());
  assert.equal(info.url, '/socket?room=1');
  assert.equal(info.headers.host, 'ws.test');
  assert.equal(info.headers['x-forwarded-for'], '127.0.0.1');
  ws.close();
});

test('a close from the server reaches the client with its code', async () => {
  const { ws } = await connect('ws.test');
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.send('close-me');
  assert.equal(await closed, 4001);
});

test('a close from the client reaches the server', async () => {
  const { ws } = await connect('ws.test');
  ws.send('x');
  await next(ws);
  const peer = serverSide[serverSide.length - 1]!;
  const closed = new Promise<number>((r) => peer.once('close', (code) => r(code)));
  ws.close(4002, 'client bye');
  assert.equal(await closed, 4002);
});

test('an idle connection is closed after the route timeout', async () => {
  const { ws } = await connect('short.test');
  const t0 = Date.now();
  await new Promise((r) => ws.once('close', r));
  const took = Date.now() - t0;
  assert.ok(took >= 400 && took < 10000, `closed after ${took} ms`);
});

test('gateway-made answers to upgrade requests: 404 and a plugin rejection', async () => {
  assert.equal((await connect('nowhere.test')).status, 404);
  assert.equal((await connect('denied.test')).status, 403);
});

test('the access log has the established line and the final one', async () => {
  const { ws } = await connect('ws.test', '/logged');
  ws.send('x');
  await next(ws);
  ws.close();
  const lines = await waitFor(async () => {
    const l = e.accessLog().filter((x) => x.request_info?.path === '/logged');
    return l.length >= 2 ? l : undefined;
  });
  assert.ok(lines);
  assert.equal(lines!.filter((l) => l.conn_est === true).length, 1);
  assert.ok(lines!.every((l) => l.request_info.status === 101 && l.request_info.discover_protocol === 'websocket'));
});
