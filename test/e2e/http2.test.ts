// HTTP/2: h2c with prior knowledge on a plain listener, HTTP/1.1 on the same port, and the
// Gateway annotation that turns HTTP/2 off; a Service port with appProtocol kubernetes.io/h2c is
// spoken to in HTTP/2 cleartext.
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
let h2Backend: http2.Http2Server;

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
  // An HTTP/2-only backend (prior knowledge, no HTTP/1.1): it answers with the version it saw.
  h2Backend = http2.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ server: 'h2', httpVersion: req.httpVersion, path: req.url }));
  });
  await new Promise<void>((resolve) => h2Backend.listen(0, '127.0.0.1', resolve));
  const h2Port = (h2Backend.address() as { port: number }).port;
  const h2Service = `apiVersion: v1
kind: Service
metadata: { name: svc-h2c, namespace: default }
spec:
  ports: [{ name: h2c, port: 80, appProtocol: kubernetes.io/h2c }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: svc-h2c-eps, namespace: default, labels: { kubernetes.io/service-name: svc-h2c } }
addressType: IPv4
ports: [{ name: h2c, port: ${h2Port} }]
endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r-h2c, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["h2c.test"]
  rules: [{ backendRefs: [{ name: svc-h2c, port: 80 }] }]
`;
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
    conf: { 'all.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), noH2, yaml.service('svc-a', a.port), route('gw'), route('gw-no-h2'), h2Service].join('---\n') },
  });
});

after(async () => {
  await e?.stop();
  await a?.close();
  await new Promise((resolve) => (h2Backend ? h2Backend.close(resolve) : resolve(undefined)));
});

test('appProtocol kubernetes.io/h2c: an HTTP/1.1 request reaches an HTTP/2-only backend over h2c', async () => {
  const r = await request({ port, host: 'h2c.test', path: '/over-h2c' });
  assert.equal(r.status, 200);
  assert.equal(r.json?.server, 'h2');
  assert.equal(r.json?.httpVersion, '2.0');
  assert.equal(r.json?.path, '/over-h2c');
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
