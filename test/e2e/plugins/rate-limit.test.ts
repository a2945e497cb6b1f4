// RateLimit end to end on a gateway with 2 workers: limits hold for the whole gateway (the
// primary's counters lent to workers in batches), headers, rejections, missing keys, windows
// aligned to the clock, a rejected bad config.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, waitFor } from '../../helpers/http.js';
import { awayFromWindowEnd, burst, pluginsYaml, routeYaml, sleep } from '../../helpers/traffic.js';

let e: Edgion;
let a: EchoServer;
let port: number;
const HOUR = 3_600_000;

const rl = (config: Record<string, unknown>) => [{ type: 'RateLimit', config }];

before(async () => {
  a = await startEcho('a');
  port = await freePort();
  const svc = [{ name: 'svc-a', port: a.port }];
  e = await Edgion.start({
    workers: 2,
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('svc-a', a.port)].join('---\n'),
      'plugins.yaml': [
        pluginsYaml('rl-small', { request: rl({ rate: 40, interval: '1h', key: [{ type: 'header', name: 'x-user' }] }) }),
        pluginsYaml('rl-big', { request: rl({ rate: 500, interval: '1h', key: [{ type: 'header', name: 'x-user' }] }) }),
        pluginsYaml('rl-nokey', { request: rl({ rate: 1, interval: '1h' }) }),
        pluginsYaml('rl-deny', { request: rl({ rate: 5, interval: '1h', key: [{ type: 'header', name: 'x-user' }], onMissingKey: 'Deny' }) }),
        pluginsYaml('rl-custom', {
          request: rl({ rate: 1, interval: '1h', key: [{ type: 'header', name: 'x-user' }, { type: 'query', name: 'tenant' }], rejectStatus: 503, rejectMessage: 'slow down', headerNames: { limit: 'X-Quota', retryIn: 'X-Retry-In' } }),
        }),
        pluginsYaml('rl-second', { request: rl({ rate: 2, interval: 1, key: [{ type: 'clientIp' }] }) }),
        pluginsYaml('rl-default-key', { request: rl({ rate: 2, interval: '1h', defaultKey: 'everyone', showLimitHeaders: false }) }),
        pluginsYaml('rl-bad', { request: rl({ rate: 0, interval: 'fast' }) }),
      ].join('---\n'),
      'routes.yaml': [
        routeYaml('small', 'small.test', 'rl-small', svc),
        routeYaml('big', 'big.test', 'rl-big', svc),
        routeYaml('nokey', 'nokey.test', 'rl-nokey', svc),
        routeYaml('deny', 'deny.test', 'rl-deny', svc),
        routeYaml('custom', 'custom.test', 'rl-custom', svc),
        routeYaml('second', 'second.test', 'rl-second', svc),
        routeYaml('dflt', 'dflt.test', 'rl-default-key', svc),
        routeYaml('bad', 'bad.test', 'rl-bad', svc),
        routeYaml('plain', 'plain.test', undefined, svc),
      ].join('---\n'),
    },
  });
  // The hour windows below must not turn during the test.
  await awayFromWindowEnd(HOUR, 60_000);
});

after(async () => {
  await e?.stop();
  await a?.close();
});

/** Pids of the gateway processes holding established connections to the listener. */
function servingPids(): Set<number> | undefined {
  try {
    const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
    return new Set([...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));
  } catch {
    return undefined;
  }
}

test('the limit is global across 2 workers, not per worker', async () => {
  const status = await e.gatewayApi('/api/v1/status');
  const workerPids = status.json.workers.map((w: { pid: number }) => w.pid);
  assert.equal(workerPids.length, 2);

  // Hold 16 connections open so the kernel's view shows which workers serve them.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  await Promise.all(Array.from({ length: 16 }, () => request({ port, host: 'plain.test', path: '/', agent })));
  const pids = servingPids();
  agent.destroy();
  if (pids !== undefined) {
    const serving = workerPids.filter((p: number) => pids.has(p));
    assert.equal(serving.length, 2, `both workers should hold connections (workers ${workerPids}, seen ${[...pids]})`);
  }

  const res = await burst(200, 20, { port, host: 'small.test', path: '/', headers: { 'x-user': 'alice' } });
  const ok = res.filter((r) => r.status === 200).length;
  const limited = res.filter((r) => r.status === 429).length;
  assert.equal(ok + limited, 200, `unexpected statuses: ${[...new Set(res.map((r) => r.status))]}`);
  // Under 200 requests per window the batch is one unit: the limit is exact.
  assert.equal(ok, 40, `allowed ${ok} of 200 with rate 40 (per-worker counters would allow up to 80)`);
  // Another key has its own budget.
  assert.equal((await request({ port, host: 'small.test', path: '/', headers: { 'x-user': 'bob' } })).status, 200);

  // Every allowed request asked the primary (batches of one); the metrics (summed over workers) say so.
  const metrics = (await e.gatewayApi('/metrics')).body;
  const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const leases = value('edgion_rate_limit_leases_total');
  const messages = value('edgion_rate_limit_lease_messages_total');
  assert.ok(leases >= 41, `leases ${leases}: each of the 41 allowed requests needed one`);
  assert.ok(messages >= 2 && messages <= leases, `messages ${messages} for ${leases} leases (one per event-loop turn at most)`);
});

test('batches of 1% keep a larger limit within one batch per worker', async () => {
  const res = await burst(650, 25, { port, host: 'big.test', path: '/', headers: { 'x-user': 'carol' } });
  const ok = res.filter((r) => r.status === 200).length;
  assert.ok(ok <= 500, `allowed ${ok} > 500`);
  assert.ok(ok >= 500 - 2 * 5, `allowed ${ok}: more than one batch (5) per worker went unused`);
  assert.equal(res.filter((r) => r.status !== 200 && r.status !== 429).length, 0);
});

test('allowed responses carry the limit headers; the rejection is JSON with Retry-After', async () => {
  const windowEnd = Math.ceil((Date.now() - (Date.now() % HOUR) + HOUR) / 1000);
  const first = await request({ port, host: 'small.test', path: '/x', headers: { 'x-user': 'dave' } });
  assert.equal(first.status, 200);
  assert.equal(first.headers['x-ratelimit-limit'], '40');
  assert.equal(first.headers['x-ratelimit-remaining'], '39');
  assert.equal(first.headers['x-ratelimit-reset'], String(windowEnd));
  await burst(45, 5, { port, host: 'small.test', path: '/', headers: { 'x-user': 'dave' } });
  const r = await request({ port, host: 'small.test', path: '/x', headers: { 'x-user': 'dave' } });
  assert.equal(r.status, 429);
  assert.match(String(r.headers['content-type']), /application\/json/);
  assert.deepEqual(r.json, { message: 'Rate limit exceeded' });
  assert.equal(r.headers['retry-after'], '3600');
  assert.equal(r.headers['x-ratelimit-remaining'], '0');
  assert.equal(r.headers['x-ratelimit-limit'], '40');
  assert.equal(r.headers['x-ratelimit-reset'], String(windowEnd));
  // The rejected request never reached the backend.
  const log = await waitFor(async () => e.accessLog().some((l) => l.request_info?.host === 'small.test' && l.request_info?.status === 429));
  assert.ok(log, 'rejections are in the access log');
});

test('no key configured: nothing is limited', async () => {
  for (let i = 0; i < 4; i++) assert.equal((await request({ port, host: 'nokey.test', path: '/' })).status, 200);
});

test('defaultKey limits every request together; showLimitHeaders false hides the headers', async () => {
  const r1 = await request({ port, host: 'dflt.test', path: '/' });
  assert.equal(r1.status, 200);
  assert.equal(r1.headers['x-ratelimit-limit'], undefined);
  await request({ port, host: 'dflt.test', path: '/' });
  const r3 = await request({ port, host: 'dflt.test', path: '/' });
  assert.equal(r3.status, 429);
  assert.equal(r3.headers['x-ratelimit-limit'], undefined);
  assert.equal(r3.headers['retry-after'], '3600');
});

test('onMissingKey Deny rejects requests without the key with Retry-After 0', async () => {
  const r = await request({ port, host: 'deny.test', path: '/' });
  assert.equal(r.status, 429);
  assert.equal(r.headers['retry-after'], '0');
  assert.deepEqual(r.json, { message: 'Rate limit exceeded' });
  assert.equal((await request({ port, host: 'deny.test', path: '/', headers: { 'x-user': 'erin' } })).status, 200);
});

test('custom status, message and header names (only the named headers)', async () => {
  const ok = await request({ port, host: 'custom.test', path: '/?tenant=t1', headers: { 'x-user': 'frank' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['x-quota'], '1');
  assert.equal(ok.headers['x-ratelimit-limit'], undefined);
  assert.equal(ok.headers['x-ratelimit-remaining'], undefined);
  // Keys are joined: another tenant is another key.
  assert.equal((await request({ port, host: 'custom.test', path: '/?tenant=t2', headers: { 'x-user': 'frank' } })).status, 200);
  const r = await request({ port, host: 'custom.test', path: '/?tenant=t1', headers: { 'x-user': 'frank' } });
  assert.equal(r.status, 503);
  assert.deepEqual(r.json, { message: 'slow down' });
  assert.equal(r.headers['x-quota'], '1');
  assert.match(String(r.headers['x-retry-in']), /^\d+(\.\d)?(s|ms)$/);
  assert.equal(r.headers['x-ratelimit-reset'], undefined);
});

test('windows are aligned to the clock: a new second has a new budget', async () => {
  await sleep(1000 - (Date.now() % 1000) + 30);
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await request({ port, host: 'second.test', path: '/' })).status);
  assert.deepEqual(statuses, [200, 200, 429]);
  await sleep(1000 - (Date.now() % 1000) + 30);
  assert.equal((await request({ port, host: 'second.test', path: '/' })).status, 200);
});

test('a bad config is rejected in the status with the path and reason; its routes fail closed', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/rl-bad');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.requestPlugins\[0\]\.config\.rate/);
  assert.equal((await request({ port, host: 'bad.test', path: '/' })).status, 500);
});
