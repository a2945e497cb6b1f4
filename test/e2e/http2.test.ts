// HTTP/2: h2c with prior knowledge on a plain listener, HTTP/1.1 on the same port, and the
// Gateway annotation that turns HTTP/2 off.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { request } from '../helpers/http.js';

let e: Edgion;
let a: EchoServer;
let port: number;
let portNoH2: number;

function h2get(p: number, path: string, authority: string): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string; error?: string }> {
  return new Promise((resolve) => {
    const client = http2.connect(`http://127.0.0.1:${p}`);
    client.on('error', (err) => resolve({ status: 0, headers: {}, body: '', error: err.message }));
    const req = client.request({ ':path': path, ':authority': authority });
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      headers = h;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      client.close();
      resolve({ status, headers, body: Buffer.concat(chunks).toString('utf8') });
    });
    req.on('error', (err) => resolve({ status, headers, body: '', error: err.message }));
    req.end();
  });
}

before(async () => {
  a = await startEcho('a');
  port = await freePort();
  portNoH2 = await freePort();
  const route = (gw: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r-${gw}, namespace: default }
spec:
  parentRefs: [{ name: ${gw} }]
  rules: [{ backendRefs: [{ name: svc-a, port: ${a.port} }] }]
`;
  const noH2 = yaml.gateway('gw-no-h2', [{ name: 'http', port: portNoH2 }]).replace('  name: gw-no-h2\n', '  name: gw-no-h2\n  annotations: { edgion.io/enable-http2: "false" }\n');
  e = await Edgion.start({
    conf: { 'all.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), noH2, yaml.service('svc-a', a.port), route('gw'), route('gw-no-h2')].join('---\n') },
  });
});

after(async () => {
  await e?.stop();
  await a?.close();
});

test('h2c prior knowledge is proxied to an HTTP/1.1 backend', async () => {
  const r = await h2get(port, '/h2/path?x=1', 'h2.test');
  assert.equal(r.status, 200, r.error ?? '');
  const seen = JSON.parse(r.body);
  assert.equal(seen.url, '/h2/path?x=1');
  assert.equal(seen.headers.host, 'h2.test');
  assert.equal(r.headers.server, 'edgion');
});

test('HTTP/1.1 still works on the same port', async () => {
  const r = await request({ port, host: 'h1.test', path: '/h1' });
  assert.equal(r.status, 200);
  assert.equal(r.json.headers.host, 'h1.test');
});

test('edgion.io/enable-http2: "false" refuses h2c but serves HTTP/1.1', async () => {
  const r = await h2get(portNoH2, '/x', 'h2.test');
  assert.notEqual(r.status, 200);
  assert.equal((await request({ port: portNoH2, host: 'h1.test', path: '/h1' })).status, 200);
});
