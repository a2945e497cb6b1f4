// The webhook key source against a real HTTP(S) server on 127.0.0.1 (plugins.md §3.3): headers
// sent, success codes, retries with backoff, timeouts, maxResponseBytes, the call rate limit,
// passive and active health, one call per request, LinkSys changes, TLS.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WebhookKeys } from '../../../src/gateway/plugins-engine/webhook.js';
import { LocalCounters } from '../../../src/gateway/plugins-engine/local-counters.js';
import { silentLogger } from '../../../src/shared/logger.js';
import type { LinkSysIR } from '../../../src/ir/index.js';
import { FakeSession } from '../../helpers/fake-session.js';

interface Hit {
  url: string;
  method: string;
  headers: http.IncomingHttpHeaders;
}
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const hits: Hit[] = [];
let handler: Handler = (_req, res) => res.end('{}');
let port = 0;
let server: http.Server;

function listen(s: http.Server): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
}

before(async () => {
  server = http.createServer((req, res) => {
    hits.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers });
    handler(req, res);
  });
  port = await listen(server);
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const keys: WebhookKeys[] = [];
function webhooks(configs: Record<string, Record<string, unknown>>, counters = new LocalCounters()): WebhookKeys {
  const k = new WebhookKeys(counters, silentLogger());
  const linkSys: Record<string, LinkSysIR> = {};
  for (const [ref, config] of Object.entries(configs)) linkSys[ref] = { type: 'webhook', config: { uri: `http://127.0.0.1:${port}/resolve`, ...config } };
  k.update(linkSys);
  keys.push(k);
  return k;
}
after(() => keys.forEach((k) => k.close()));

const json = (obj: unknown, status = 200, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(obj));
};
const body = { source: 'body' as const, path: 'tenant.id' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('calls the webhook with the request headers asked for and the X-Forwarded-* headers; extracts from the JSON body', async () => {
  hits.length = 0;
  handler = json({ tenant: { id: 't-42' } });
  const k = webhooks({ 'infra/t': { requestHeaders: ['Authorization', 'X-Missing', 'Host'], requestMethod: 'POST' } });
  const s = new FakeSession({ method: 'PUT', path: '/orders/7', query: 'a=1', host: 'shop.example', clientIp: '203.0.113.5', headers: { authorization: 'Bearer abc', host: 'shop.example', 'x-other': 'no' } });
  assert.equal(await k.resolve('infra/t', body, s), 't-42');
  assert.equal(hits.length, 1);
  const h = hits[0]!;
  assert.equal(h.method, 'POST');
  assert.equal(h.url, '/resolve');
  assert.equal(h.headers.authorization, 'Bearer abc');
  assert.equal(h.headers['x-forwarded-for'], '203.0.113.5');
  assert.equal(h.headers['x-forwarded-method'], 'PUT');
  assert.equal(h.headers['x-forwarded-uri'], '/orders/7?a=1');
  assert.equal(h.headers['x-forwarded-host'], 'shop.example');
  assert.equal(h.headers.host, `127.0.0.1:${port}`, 'the Host header is the webhook\'s own');
  assert.equal(h.headers['x-other'], undefined);
});

test('one call per request and LinkSys, shared by every key that reads it', async () => {
  hits.length = 0;
  handler = json({ tenant: { id: 't-1', plan: 'gold' } }, 200, { 'x-region': 'eu', 'set-cookie': 'sid=s-9; Path=/' });
  const k = webhooks({ 'infra/t': {} });
  const s = new FakeSession();
  const [a, b, c, d] = await Promise.all([
    k.resolve('infra/t', body, s),
    k.resolve('infra/t', { source: 'body', path: 'tenant.plan' }, s),
    k.resolve('infra/t', { source: 'header', name: 'X-Region' }, s),
    k.resolve('infra/t', { source: 'cookie', name: 'sid' }, s),
  ]);
  assert.deepEqual([a, b, c, d], ['t-1', 'gold', 'eu', 's-9']);
  assert.equal(hits.length, 1);
  assert.equal(await k.resolve('infra/t', body, new FakeSession()), 't-1');
  assert.equal(hits.length, 2, 'another request calls again');
});

test('a status that is not a success makes the key missing; successStatusCodes widen or narrow it', async () => {
  handler = json({ tenant: { id: 'x' } }, 404);
  assert.equal(await webhooks({ 'a/w': {} }).resolve('a/w', body, new FakeSession()), undefined);
  assert.equal(await webhooks({ 'a/w': { successStatusCodes: [404] } }).resolve('a/w', body, new FakeSession()), 'x');
  handler = json({ tenant: { id: 'y' } }, 201);
  assert.equal(await webhooks({ 'a/w': {} }).resolve('a/w', body, new FakeSession()), 'y', 'any 2xx by default');
  assert.equal(await webhooks({ 'a/w': { successStatusCodes: [200] } }).resolve('a/w', body, new FakeSession()), undefined);
});

test('the reason lands in the calling plugin\'s log', async () => {
  handler = json({}, 500);
  const s = new FakeSession();
  assert.equal(await webhooks({ 'a/w': { retry: { maxRetries: 0 } } }).resolve('a/w', body, s), undefined);
  assert.deepEqual(s.logs, ['webhook a/w: status 500']);
  const s2 = new FakeSession();
  handler = json({ other: 1 });
  assert.equal(await webhooks({ 'a/w': {} }).resolve('a/w', body, s2), undefined);
  assert.deepEqual(s2.logs, ['webhook a/w: body tenant.id missing']);
});

test('a body over maxResponseBytes is not read: body extracts are missing, headers still work', async () => {
  handler = json({ tenant: { id: 'z' }, pad: 'x'.repeat(2000) }, 200, { 'x-t': 'from-header' });
  const k = webhooks({ 'a/w': {} });
  const s = new FakeSession();
  assert.equal(await k.resolve('a/w', body, s), undefined);
  assert.equal(await k.resolve('a/w', { source: 'header', name: 'x-t' }, s), 'from-header');
  assert.equal(await webhooks({ 'a/w': { maxResponseBytes: 4096 } }).resolve('a/w', body, new FakeSession()), 'z');
});

test('bodyText is the whole body', async () => {
  handler = (_req, res) => res.end('tenant-77');
  assert.equal(await webhooks({ 'a/w': {} }).resolve('a/w', { source: 'bodyText' }, new FakeSession()), 'tenant-77');
});

test('timeouts are retried (retryOnTimeout), then the key is missing', async () => {
  hits.length = 0;
  handler = (_req, res) => setTimeout(() => res.end('{"tenant":{"id":"late"}}'), 400);
  const t0 = Date.now();
  assert.equal(await webhooks({ 'a/w': { timeoutMs: 100, retry: { maxRetries: 2, retryDelayMs: 10 } } }).resolve('a/w', body, new FakeSession()), undefined);
  assert.equal(hits.length, 3);
  assert.ok(Date.now() - t0 < 1000);
  hits.length = 0;
  assert.equal(await webhooks({ 'a/w': { timeoutMs: 100, retry: { maxRetries: 2, retryOnTimeout: false } } }).resolve('a/w', body, new FakeSession()), undefined);
  assert.equal(hits.length, 1);
});

test('a status in retryOnStatus is retried; a later success wins', async () => {
  hits.length = 0;
  let n = 0;
  handler = (req, res) => (++n < 3 ? json({}, 503)(req, res) : json({ tenant: { id: 'third' } })(req, res));
  assert.equal(await webhooks({ 'a/w': { retry: { maxRetries: 3, retryDelayMs: 5, retryOnStatus: [503] } } }).resolve('a/w', body, new FakeSession()), 'third');
  assert.equal(hits.length, 3);
  hits.length = 0;
  handler = json({}, 503);
  assert.equal(await webhooks({ 'a/w': { retry: { maxRetries: 3, retryDelayMs: 5 } } }).resolve('a/w', body, new FakeSession()), undefined);
  assert.equal(hits.length, 1, 'a status not listed is not retried');
});

test('connection errors are retried (retryOnConnectError) and make the key missing', async () => {
  const dead = http.createServer();
  const deadPort = await listen(dead);
  await new Promise((r) => dead.close(r));
  const k = new WebhookKeys(new LocalCounters(), silentLogger());
  keys.push(k);
  k.update({ 'a/dead': { type: 'webhook', config: { uri: `http://127.0.0.1:${deadPort}/`, retry: { maxRetries: 1, retryDelayMs: 5 } } } });
  const s = new FakeSession();
  assert.equal(await k.resolve('a/dead', body, s), undefined);
  assert.match(s.logs[0] ?? '', /^webhook a\/dead: connection error ECONNREFUSED$/);
});

test('rateLimit: calls over the rate make the key missing without a call', async () => {
  hits.length = 0;
  handler = json({ tenant: { id: 'r' } });
  // Counters at a fixed instant: four calls that straddled the minute's end would count in two windows.
  const k = webhooks({ 'a/w': { rateLimit: { rate: 2, windowSec: 60 } } }, new LocalCounters(() => 1_000_000_000_500));
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await k.resolve('a/w', body, new FakeSession()));
  assert.deepEqual(results, ['r', 'r', undefined, undefined]);
  assert.equal(hits.length, 2);
});

test('passive health: after unhealthyThreshold failures the webhook is not called until the backoff passes', async () => {
  hits.length = 0;
  handler = json({}, 502);
  const k = webhooks({ 'a/w': { retry: { maxRetries: 0 }, healthCheck: { passive: { unhealthyThreshold: 2, backoff: { initialSec: 0.3, multiplier: 2, maxSec: 5 } } } } });
  for (let i = 0; i < 2; i++) assert.equal(await k.resolve('a/w', body, new FakeSession()), undefined);
  assert.equal(hits.length, 2);
  const s = new FakeSession();
  handler = json({ tenant: { id: 'back' } });
  assert.equal(await k.resolve('a/w', body, s), undefined);
  assert.equal(hits.length, 2, 'ejected: no call');
  assert.deepEqual(s.logs, ['webhook a/w: unhealthy (passive health check)']);
  await sleep(350);
  assert.equal(await k.resolve('a/w', body, new FakeSession()), 'back');
  assert.equal(hits.length, 3);
});

test('passive health: a status not in failureStatusCodes does not count', async () => {
  hits.length = 0;
  handler = json({}, 404);
  const k = webhooks({ 'a/w': { retry: { maxRetries: 0 }, healthCheck: { passive: { unhealthyThreshold: 1 } } } });
  for (let i = 0; i < 3; i++) await k.resolve('a/w', body, new FakeSession());
  assert.equal(hits.length, 3);
});

test('active health: failing probes mark the webhook unhealthy, passing ones bring it back', async () => {
  let healthy = false;
  handler = (req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(healthy ? 200 : 503);
      res.end();
      return;
    }
    json({ tenant: { id: 'active' } })(req, res);
  };
  const k = webhooks({ 'a/w': { healthCheck: { active: { path: '/healthz', intervalSec: 1, timeoutMs: 200, unhealthyThreshold: 1, healthyThreshold: 1 } } } });
  // The first probe runs when the client is created (at first use).
  assert.equal(await k.resolve('a/w', body, new FakeSession()), 'active', 'starts healthy');
  await sleep(100);
  const s = new FakeSession();
  assert.equal(await k.resolve('a/w', body, s), undefined);
  assert.deepEqual(s.logs, ['webhook a/w: unhealthy (active health check)']);
  healthy = true;
  // The next probe (1 s after the first) brings it back; a loaded machine may take a little longer.
  let back: string | undefined;
  for (let waited = 0; waited < 5000 && back === undefined; waited += 100) {
    await sleep(100);
    back = await k.resolve('a/w', body, new FakeSession());
  }
  assert.equal(back, 'active');
});

test('missing LinkSys, another type, or a LinkSys that changed', async () => {
  const k = new WebhookKeys(new LocalCounters(), silentLogger());
  keys.push(k);
  k.update({ 'a/redis': { type: 'redis', config: {} }, 'a/w': { type: 'webhook', config: { uri: `http://127.0.0.1:${port}/v1` } } });
  const s = new FakeSession();
  assert.equal(await k.resolve('a/none', body, s), undefined);
  assert.equal(await k.resolve('a/redis', body, s), undefined);
  assert.deepEqual(s.logs, ['webhook a/none: LinkSys a/none does not exist', 'webhook a/redis: LinkSys a/redis is of type redis, not webhook']);
  hits.length = 0;
  handler = json({ tenant: { id: 'v' } });
  await k.resolve('a/w', body, new FakeSession());
  k.update({ 'a/w': { type: 'webhook', config: { uri: `http://127.0.0.1:${port}/v2` } } });
  await k.resolve('a/w', body, new FakeSession());
  assert.deepEqual(hits.map((h) => h.url), ['/v1', '/v2']);
});

test('HTTPS: trusted through tls.certs.caCert, or insecureSkipVerify; an unknown CA fails', async (t) => {
  let openssl = true;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    openssl = false;
  }
  if (!openssl) {
    if (process.env.CI === 'true') throw new Error('openssl is required for this test in CI');
    return t.skip('openssl CLI not found: cannot make a test certificate');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-webhook-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    const key = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
    const tls = https.createServer({ cert, key }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"tenant":{"id":"secure"}}');
    });
    const tlsPort = await listen(tls);
    try {
      const k = new WebhookKeys(new LocalCounters(), silentLogger());
      keys.push(k);
      const uri = `https://127.0.0.1:${tlsPort}/`;
      k.update({
        'a/ca': { type: 'webhook', config: { uri, tls: { enabled: true, certs: { caCert: cert } } } },
        'a/skip': { type: 'webhook', config: { uri, tls: { insecureSkipVerify: true } } },
        'a/untrusted': { type: 'webhook', config: { uri, retry: { maxRetries: 0 } } },
      });
      assert.equal(await k.resolve('a/ca', body, new FakeSession()), 'secure');
      assert.equal(await k.resolve('a/skip', body, new FakeSession()), 'secure');
      const s = new FakeSession();
      assert.equal(await k.resolve('a/untrusted', body, s), undefined);
      assert.match(s.logs[0] ?? '', /connection error|certificate/i);
    } finally {
      tls.closeAllConnections();
      tls.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
