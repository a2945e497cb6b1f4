// Dsl end to end (plugins.md §4.28): deny and next, request edits upstream, deferred response
// headers on proxied and plugin-made responses, ctx for later plugins and the access log, every
// errorPolicy, runtime limits, and a program that does not compile rejected with line:column.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, waitFor } from '../../helpers/http.js';
import { base, condition, docs, plugins, route } from './util-kit.js';

let e: Edgion;
let echo: EchoServer;
let port: number;

const GUARD = `// require a tenant header on /api, normalise it
let t = req.header("x-tenant")
if req.path.starts_with("/api") {
  if t == nil || len(t) == 0 {
    return deny(401, "missing tenant")
  }
  req.set_header("x-tenant", to_lower(t))
  ctx.set("tenant", to_lower(t))
}
let mut n = 0
for h in req.header_names() {
  if h.starts_with("x-debug") { n = n + 1 }
}
if n > 3 { return deny(431, "too many debug headers") }
resp.set_header("x-dsl", "seen")
return next()
`;

const EDITS = `req.set_uri("/rewritten" + "?from=" + url_encode(req.path))
req.set_method("POST")
req.set_host("internal.example")
req.remove_header("x-secret")
req.append_header("x-list", "b")
resp.append_header("x-trace", "dsl")
if req.query("fail") == "1" { log(to_str(1 / 0)) }
`;

const dsl = (name: string, source: string, extra: Record<string, unknown> = {}) => ({ type: 'Dsl', config: { name, source, ...extra } });

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': base(port, echo.port),
      'plugins.yaml': docs([
        plugins('guard', { requestPlugins: [dsl('tenant-guard', GUARD, { errorPolicy: { denyWith: { status: 400, body: 'bad request' } } })] }),
        plugins('edits', { requestPlugins: [dsl('edits', EDITS)] }),
        plugins('deny-policy', { requestPlugins: [dsl('boom', 'resp.set_header("x-before-error", "1")\nlet x = 1 / 0', { errorPolicy: 'deny' })] }),
        plugins('denywith-policy', { requestPlugins: [dsl('boom', 'let x = 1 / 0', { errorPolicy: { denyWith: { status: 418, body: 'teapot' } } })] }),
        plugins('ignore-policy', { requestPlugins: [dsl('boom', 'req.set_header("x-before", "1")\nlet x = 1 / 0\nreq.set_header("x-after", "1")')] }),
        plugins('limits', { requestPlugins: [dsl('spin', 'let mut i = 0\nwhile true { i = i + 1 }', { maxLoopIterations: 50, errorPolicy: 'deny' })] }),
        plugins('chain', {
          requestPlugins: [
            { type: 'CtxSet', config: { vars: [{ name: 'plan', from: { type: 'query', name: 'plan' }, default: 'free' }] } },
            dsl('plan-gate', 'if ctx.get("plan") == "free" && req.path.starts_with("/pro") { return deny(402, "upgrade: " + ctx.get("plan")) }\nreq.set_header("x-plan", ctx.get("plan"))'),
          ],
        }),
        plugins('broken', { requestPlugins: [dsl('bad', 'let x = 1\nif x > 0 {\n  x = 2\n}\nfoo(x)')] }),
      ]),
      'routes.yaml': docs([
        route('guard', 'guard.test', echo.port, ['guard']),
        route('edits', 'edits.test', echo.port, ['edits']),
        route('deny-policy', 'deny.test', echo.port, ['deny-policy']),
        route('denywith-policy', 'denywith.test', echo.port, ['denywith-policy']),
        route('ignore-policy', 'ignore.test', echo.port, ['ignore-policy']),
        route('limits', 'limits.test', echo.port, ['limits']),
        route('chain', 'chain.test', echo.port, ['chain']),
        route('broken', 'broken.test', echo.port, ['broken']),
      ]),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string, path = '/', headers: Record<string, string> = {}) => request({ port, host, path, headers });

test('the plugins.md example: tenant required on /api and normalised; too many debug headers → 431', async () => {
  let r = await get('guard.test', '/api/orders', { 'x-tenant': 'ACME' });
  assert.equal(r.status, 200);
  assert.equal(r.json.headers['x-tenant'], 'acme');
  assert.equal(r.headers['x-dsl'], 'seen', 'a response header set by the script reaches the proxied response');
  r = await get('guard.test', '/api/orders');
  assert.equal(r.status, 401);
  assert.equal(r.body, 'missing tenant');
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  r = await get('guard.test', '/public', { 'x-debug-a': '1', 'x-debug-b': '1', 'x-debug-c': '1', 'x-debug-d': '1' });
  assert.equal(r.status, 431);
  assert.equal(r.body, 'too many debug headers');
  r = await get('guard.test', '/public', { 'x-debug-a': '1' });
  assert.equal(r.status, 200);
});

test('ctx.set reaches the access log', async () => {
  const path = `/api/log-${Date.now()}`;
  await get('guard.test', path, { 'x-tenant': 'Globex' });
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === path));
  assert.equal(line.ctx.tenant, 'globex');
});

test('request edits go upstream: uri, method, host, headers', async () => {
  const r = await get('edits.test', '/orig/path', { 'x-secret': 's', 'x-list': 'a' });
  assert.equal(r.status, 200);
  assert.equal(r.json.method, 'POST');
  assert.equal(r.json.url, '/rewritten?from=%2Forig%2Fpath');
  assert.equal(r.json.headers.host, 'internal.example');
  assert.equal(r.json.headers['x-secret'], undefined);
  assert.equal(r.json.headers['x-list'], 'a,b');
  assert.equal(r.headers['x-trace'], 'dsl');
});

test('errorPolicy ignore: the request continues with the edits made before the error', async () => {
  const r = await get('ignore.test');
  assert.equal(r.status, 200);
  assert.equal(r.json.headers['x-before'], '1');
  assert.equal(r.json.headers['x-after'], undefined);
});

test('errorPolicy deny: 500 "DSL execution error"; response headers set before the error are kept', async () => {
  const before = echo.seen.length;
  const path = `/deny-${Date.now()}`;
  const r = await get('deny.test', path);
  assert.equal(r.status, 500);
  assert.equal(r.body, 'DSL execution error');
  assert.equal(r.headers['x-before-error'], '1');
  assert.equal(echo.seen.length, before, 'the upstream is not called');
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === path));
  assert.deepEqual(line.errors, ['DslError']);
  const run = line.stage_logs[0].edgion_plugins[0].logs[0];
  assert.equal(run.name, 'Dsl');
  assert.match(run.log[0], /^boom: line 2:11: division by zero$/);
});

test('errorPolicy denyWith: its status and body', async () => {
  const r = await get('denywith.test');
  assert.equal(r.status, 418);
  assert.equal(r.body, 'teapot');
});

test('a runtime limit (maxLoopIterations) applies the errorPolicy', async () => {
  const r = await get('limits.test');
  assert.equal(r.status, 500);
  assert.equal(r.body, 'DSL execution error');
});

test('ctx values from an earlier CtxSet steer the script', async () => {
  let r = await get('chain.test', '/pro/x');
  assert.equal(r.status, 402);
  assert.equal(r.body, 'upgrade: free');
  r = await get('chain.test', '/pro/x?plan=gold');
  assert.equal(r.status, 200);
  assert.equal(r.json.headers['x-plan'], 'gold');
});

test('a program that does not compile rejects the EdgionPlugins with line:column; its routes fail closed', async () => {
  const r = await get('broken.test');
  assert.equal(r.status, 500);
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/broken');
  const acc = condition(st.json, 'Accepted')!;
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /spec\.requestPlugins\[0\]\.config\.source: Dsl: line 3:3: "x" is not mutable/);
  assert.match(acc.message, /line 5:1: unknown function foo/);
});
