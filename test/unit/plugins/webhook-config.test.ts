// LinkSys webhook (plugins.md §3.3): config validation with paths, defaults, value extraction,
// JSON paths, retry backoff.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeWebhookConfig, webhookConfigProblems } from '../../../src/plugins/runtime/webhook-config.js';
import { jsonPath } from '../../../src/shared/json-path.js';
import { extractValue, retryDelay, type WebhookAnswer } from '../../../src/gateway/plugins-engine/webhook.js';
import { pluginConfigValidator } from '../../../src/controller/validate/plugin-configs.js';
import { registry } from './plugin-test-kit.js';

test('defaults (plugins.md §3.3)', () => {
  assert.deepEqual(normalizeWebhookConfig({ uri: 'http://127.0.0.1:9/x' }), {
    uri: 'http://127.0.0.1:9/x',
    requestMethod: 'GET',
    timeoutMs: 5000,
    tls: { enabled: false, insecureSkipVerify: false },
    requestHeaders: [],
    successStatusCodes: [],
    maxResponseBytes: 1024,
    retry: { maxRetries: 1, retryDelayMs: 100, retryOnTimeout: true, retryOnConnectError: true, retryOnStatus: [] },
  });
  const full = normalizeWebhookConfig({ uri: 'https://a/', healthCheck: { active: {}, passive: {} }, rateLimit: { rate: 5 }, requestHeaders: ['Authorization'] });
  assert.deepEqual(full.active, { path: '/', intervalSec: 10, timeoutMs: 2000, healthyThreshold: 1, unhealthyThreshold: 3 });
  assert.deepEqual(full.passive, { unhealthyThreshold: 3, failureStatusCodes: [500, 502, 503, 504], countTimeout: true, backoff: { initialSec: 5, multiplier: 2, maxSec: 60 } });
  assert.deepEqual(full.rateLimit, { rate: 5, windowSec: 1 });
  assert.deepEqual(full.requestHeaders, ['authorization']);
});

const BAD: [config: unknown, messages: string[]][] = [
  [{}, [': required field "uri" is missing']],
  [{ uri: 'ftp://x' }, ['uri: must be an http:// or https:// URL (got "ftp://x")']],
  [{ uri: 'http://exa mple/' }, ['uri: not a valid URL: http://exa mple/']],
  [{ uri: 'http://u:p@h/' }, ['uri: must not carry credentials (send them with requestHeaders from the request, or use a Secret)']],
  [{ uri: 'http://h/', requestMethod: 'FETCH' }, ['requestMethod: must be one of: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS (got "FETCH")']],
  [{ uri: 'http://h/', timeoutMs: 0 }, ['timeoutMs: must be >= 1 (got 0)']],
  [{ uri: 'http://h/', maxResponseBytes: 16385 }, ['maxResponseBytes: must be <= 16384 (got 16385)']],
  [{ uri: 'http://h/', successStatusCodes: [200, 700] }, ['successStatusCodes[1]: must be <= 599 (got 700)']],
  [{ uri: 'http://h/', requestHeaders: ['bad header'] }, ['requestHeaders[0]: must be a header name (got "bad header")']],
  [{ uri: 'http://h/', retry: { maxRetries: 11 } }, ['retry.maxRetries: must be <= 10 (got 11)']],
  [{ uri: 'http://h/', rateLimit: { windowSec: 1 } }, ['rateLimit: required field "rate" is missing']],
  [{ uri: 'http://h/', healthCheck: { active: { path: 'health' } } }, ['healthCheck.active.path: must start with / (got "health")']],
  [{ uri: 'http://h/', healthCheck: { passive: { backoff: { initialSec: 10, maxSec: 5 } } } }, ['healthCheck.passive.backoff.maxSec: must be ≥ initialSec (10)']],
  [{ uri: 'http://h/', tls: { certs: { clientCert: 'PEM' } } }, ['tls.certs: clientCert and clientKey go together']],
];
for (const [config, messages] of BAD) {
  test(`rejected webhook config: ${messages[0]}`, () => assert.deepEqual(webhookConfigProblems(config).map((p) => `${p.path}: ${p.message}`), messages));
}

test('a valid config has no problems; unknown fields (other LinkSys types) are allowed', () => {
  assert.deepEqual(webhookConfigProblems({ uri: 'https://auth.example/resolve', requestMethod: 'POST', endpoints: [], observability: {} }), []);
});

test('the controller rejects a LinkSys webhook with a bad config, naming the field', () => {
  const v = pluginConfigValidator(registry);
  const bad = v('LinkSys', { apiVersion: 'edgion.io/v1', kind: 'LinkSys', metadata: { name: 'w' }, spec: { type: 'webhook', config: { uri: 'ftp://x', timeoutMs: -1 } } });
  assert.deepEqual(bad.problems.map((p) => `${p.path}: ${p.message}`), ['spec.config.uri: webhook: must be an http:// or https:// URL (got "ftp://x")', 'spec.config.timeoutMs: webhook: must be >= 1 (got -1)']);
  assert.deepEqual(v('LinkSys', { spec: { type: 'webhook', config: { uri: 'http://127.0.0.1/' } } }).problems, []);
  assert.deepEqual(v('LinkSys', { spec: { type: 'redis', config: { endpoints: ['redis://x'] } } }).problems, [], 'other types are not checked here');
});

const answer = (over: Partial<WebhookAnswer> = {}): WebhookAnswer => ({ status: 200, headers: {}, body: Buffer.alloc(0), ...over });
const BODY = Buffer.from(JSON.stringify({ data: { tenant: { id: 't-1', n: 7, ok: true, tags: ['a', 'b', 3], meta: { x: 1 }, nul: null, empty: '' }, list: [{ id: 'first' }, { id: 'second' }] } }));

const EXTRACT: [name: string, a: WebhookAnswer, extract: Parameters<typeof extractValue>[1], want: string | undefined][] = [
  ['header', answer({ headers: { 'x-tenant': 't-9' } }), { source: 'header', name: 'X-Tenant' }, 't-9'],
  ['header repeated', answer({ headers: { 'x-t': ['a', 'b'] } }), { source: 'header', name: 'x-t' }, 'a, b'],
  ['header missing', answer(), { source: 'header', name: 'x-t' }, undefined],
  ['header empty', answer({ headers: { 'x-t': '' } }), { source: 'header', name: 'x-t' }, undefined],
  ['cookie from Set-Cookie', answer({ headers: { 'set-cookie': ['a=1; Path=/', 'tenant=t-5; HttpOnly'] } }), { source: 'cookie', name: 'tenant' }, 't-5'],
  ['cookie quoted', answer({ headers: { 'set-cookie': 'tenant="t 6"; Path=/' } }), { source: 'cookie', name: 'tenant' }, 't 6'],
  ['cookie missing', answer({ headers: { 'set-cookie': ['a=1'] } }), { source: 'cookie', name: 'tenant' }, undefined],
  ['body string', answer({ body: BODY }), { source: 'body', path: 'data.tenant.id' }, 't-1'],
  ['body number', answer({ body: BODY }), { source: 'body', path: 'data.tenant.n' }, '7'],
  ['body boolean', answer({ body: BODY }), { source: 'body', path: 'data.tenant.ok' }, 'true'],
  ['body array joined', answer({ body: BODY }), { source: 'body', path: 'data.tenant.tags' }, 'a,b,3'],
  ['body object as JSON', answer({ body: BODY }), { source: 'body', path: 'data.tenant.meta' }, '{"x":1}'],
  ['body array index', answer({ body: BODY }), { source: 'body', path: 'data.list.1.id' }, 'second'],
  ['body null', answer({ body: BODY }), { source: 'body', path: 'data.tenant.nul' }, undefined],
  ['body empty string', answer({ body: BODY }), { source: 'body', path: 'data.tenant.empty' }, undefined],
  ['body missing field', answer({ body: BODY }), { source: 'body', path: 'data.nope.id' }, undefined],
  ['body not JSON', answer({ body: Buffer.from('<html>') }), { source: 'body', path: 'a' }, undefined],
  ['body over the limit', answer({ body: undefined }), { source: 'body', path: 'a' }, undefined],
  ['bodyText', answer({ body: Buffer.from('plain-value') }), { source: 'bodyText' }, 'plain-value'],
  ['bodyText empty', answer(), { source: 'bodyText' }, undefined],
  ['no extract', answer(), undefined, undefined],
];
for (const [name, a, ex, want] of EXTRACT) test(`extract ${name}`, () => assert.equal(extractValue(a, ex), want));

test('jsonPath: numeric segments index arrays only', () => {
  assert.equal(jsonPath({ a: [{ b: 1 }] }, 'a.0.b'), 1);
  assert.equal(jsonPath({ a: { 0: 'k' } }, 'a.0'), 'k');
  assert.equal(jsonPath({ a: [1] }, 'a.x'), undefined);
  assert.equal(jsonPath({ a: 'str' }, 'a.length'), undefined);
  assert.equal(jsonPath({ a: {} }, 'a.constructor'), undefined);
});

test('retry backoff: exponential from retryDelayMs with 50–100% jitter, capped at 30 s', () => {
  assert.equal(retryDelay(100, 1, () => 1), 100);
  assert.equal(retryDelay(100, 2, () => 1), 200);
  assert.equal(retryDelay(100, 3, () => 0), 200);
  assert.equal(retryDelay(100, 20, () => 1), 30_000);
  assert.equal(retryDelay(100, 20, () => 0), 15_000);
});
