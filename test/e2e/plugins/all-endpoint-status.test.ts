// AllEndpointStatus end to end: the JSON summary of every endpoint of the rule's backends, the
// gateway-wide rate limit (429 + Retry-After), the concurrency limit (503), timeouts, truncation,
// a rejected bad config.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, multiPortService, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { pluginsYaml, routeYaml, sleep } from '../../helpers/traffic.js';

let e: Edgion;
let a1: EchoServer;
let a2: EchoServer;
let b: EchoServer;
let dead: number;
let port: number;
const aes = (config: Record<string, unknown>) => [{ type: 'AllEndpointStatus', config }];

before(async () => {
  a1 = await startEcho('a1');
  a2 = await startEcho('a2');
  b = await startEcho('b');
  dead = await freePort();
  port = await freePort();
  const backends = [{ name: 'svc-multi', port: 8080 }, { name: 'svc-b', port: b.port }];
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), multiPortService('svc-multi', [a1.port, a2.port, dead]), yaml.service('svc-b', b.port)].join('---\n'),
      'plugins.yaml': [
        pluginsYaml('status', { request: aes({ pathOverride: '/healthz', timeoutMs: 1000, includeResponseHeaders: true, maxBodySize: 40 }) }),
        pluginsYaml('trunc', { request: aes({ maxEndpoints: 2, methodOverride: 'HEAD' }) }),
        pluginsYaml('slow', { request: aes({ pathOverride: '/delay/4500', timeoutMs: 5000, wallTimeoutMs: 6000, concurrencyLimit: 10 }) }),
        pluginsYaml('wall', { request: aes({ pathOverride: '/delay/2000', timeoutMs: 5000, wallTimeoutMs: 500, concurrencyLimit: 1 }) }),
        pluginsYaml('bad', { request: aes({ timeoutMs: 9000 }) }),
      ].join('---\n'),
      'routes.yaml': [
        routeYaml('status', 'status.test', 'status', backends),
        routeYaml('trunc', 'trunc.test', 'trunc', backends),
        routeYaml('slow', 'slow.test', 'slow', backends),
        routeYaml('wall', 'wall.test', 'wall', backends),
        routeYaml('bad', 'bad.test', 'bad', backends),
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  for (const s of [a1, a2, b]) await s?.close();
});

test('every endpoint is called with Host = service name; the summary counts successes and failures', async () => {
  const r = await request({ port, host: 'status.test', path: '/ignored?x=1' });
  assert.equal(r.status, 200, r.body);
  assert.match(String(r.headers['content-type']), /application\/json/);
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(r.headers.connection, 'close');
  const j = r.json;
  assert.equal(j.summary.total_backends, 2);
  assert.equal(j.summary.total_endpoints, 4);
  assert.equal(j.summary.success_count, 3);
  assert.equal(j.summary.failure_count, 1);
  assert.equal(j.summary.truncated, false);
  assert.equal(j.summary.timeout_ms, 1000);
  assert.equal(j.summary.wall_timeout_ms, 10000);
  assert.equal(j.summary.wall_timeout_hit, false);
  assert.equal(typeof j.summary.total_latency_ms, 'number');
  assert.ok(j.summary.total_response_bytes > 0);
  const multi = j.backends.find((x: { name: string }) => x.name === 'svc-multi');
  assert.equal(multi.namespace, 'default');
  assert.equal(multi.port, 8080);
  assert.equal(multi.endpoint_count, 3);
  const ok = multi.endpoints.find((x: { address: string }) => x.address === `127.0.0.1:${a1.port}`);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.length, 40);
  assert.equal(ok.body_truncated, true);
  assert.equal(ok.headers['x-backend'], 'a1');
  const down = multi.endpoints.find((x: { address: string }) => x.address === `127.0.0.1:${dead}`);
  assert.match(down.error, /ECONNREFUSED/);
  const seen = a1.seen.at(-1)!;
  assert.equal(seen.url, '/healthz');
  assert.equal(seen.headers.host, 'svc-multi');
  assert.equal(b.seen.at(-1)!.headers.host, 'svc-b');
});

test('a second run within a second is refused: 429 with Retry-After', async () => {
  const r = await request({ port, host: 'status.test', path: '/' });
  assert.equal(r.status, 429);
  assert.equal(r.headers['retry-after'], '1');
  assert.match(r.json.error, /^rate limited, retry after \d+s$/);
});

test('maxEndpoints truncates; methodOverride is used', async () => {
  await sleep(1100);
  const r = await request({ port, host: 'trunc.test', path: '/' });
  assert.equal(r.status, 200);
  assert.equal(r.json.summary.truncated, true);
  assert.equal(r.json.summary.total_endpoints, 4);
  assert.equal(r.json.summary.success_count + r.json.summary.failure_count, 2);
  assert.equal(a1.seen.at(-1)!.method, 'HEAD');
});

test('at most 3 runs at once (503)', async () => {
  await sleep(1100);
  const runs = [];
  for (let i = 0; i < 3; i++) {
    runs.push(request({ port, host: 'slow.test', path: '/', timeout: 15_000 }));
    await sleep(1050);
  }
  const fourth = await request({ port, host: 'slow.test', path: '/' });
  assert.equal(fourth.status, 503);
  const done = await Promise.all(runs);
  for (const r of done) assert.equal(r.status, 200);
  // The dead endpoint fails at once; the other three answer after 4.5 s, within the 6 s wall.
  assert.equal(done[0]!.json.summary.success_count, 3);
  assert.equal(done[0]!.json.summary.wall_timeout_hit, false);
});

test('the wall timeout ends a slow run: unfinished endpoints are failures', async () => {
  await sleep(1100);
  const t0 = Date.now();
  const r = await request({ port, host: 'wall.test', path: '/' });
  assert.equal(r.status, 200);
  assert.ok(Date.now() - t0 < 1500, 'answered at the wall timeout');
  assert.equal(r.json.summary.wall_timeout_hit, true);
  assert.equal(r.json.summary.success_count, 0);
  assert.equal(r.json.summary.failure_count, 4);
});

test('a timeout over the maximum is rejected with its path', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((x: { type: string }) => x.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.requestPlugins\[0\]\.config\.timeoutMs/);
});
