// The Dsl plugin: config schema and defaults, errorPolicy forms, compile errors reported by the
// controller with line:column, and the request-stage behaviour (next, deny, runtime errors).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSession } from '../../helpers/fake-session.js';
import { make, problems, validate, warnings } from './plugin-test-kit.js';

const SRC = 'if req.header("x-block") != nil { return deny(403, "blocked") }\nreq.set_header("x-dsl", "1")';

test('defaults: limits and errorPolicy ignore', () => {
  const { problems: p, config } = validate('Dsl', { name: 'g', source: SRC });
  assert.deepEqual(p, []);
  assert.deepEqual(
    { ...config, source: undefined },
    { name: 'g', source: undefined, maxSteps: 10000, maxLoopIterations: 100, maxCallCount: 500, maxStackDepth: 128, maxStringLen: 8192, errorPolicy: 'ignore' },
  );
});

const BAD: [config: unknown, message: string][] = [
  [{ source: SRC }, 'config: required field "name" is missing'],
  [{ name: 'g' }, 'config: source is required'],
  [{ name: 'g', bytecode: 'eyJ9' }, "config.bytecode: bytecode (the original's compiled form) is not supported: give the program as source"],
  [{ name: 'g', source: SRC, maxSteps: 0 }, 'config.maxSteps: must be >= 1 (got 0)'],
  [{ name: 'g', source: SRC, maxSteps: 1_000_001 }, 'config.maxSteps: must be <= 1000000 (got 1000001)'],
  [{ name: 'g', source: SRC, maxLoopIterations: 100_001 }, 'config.maxLoopIterations: must be <= 100000 (got 100001)'],
  [{ name: 'g', source: SRC, maxCallCount: 0 }, 'config.maxCallCount: must be >= 1 (got 0)'],
  [{ name: 'g', source: SRC, maxStackDepth: 1025 }, 'config.maxStackDepth: must be <= 1024 (got 1025)'],
  [{ name: 'g', source: SRC, maxStringLen: 1_048_577 }, 'config.maxStringLen: must be <= 1048576 (got 1048577)'],
  [{ name: 'g', source: SRC, errorPolicy: 'Deny' }, 'config.errorPolicy: "Deny" is not accepted: write "deny" (lowercase)'],
  [{ name: 'g', source: SRC, errorPolicy: 'Ignore' }, 'config.errorPolicy: "Ignore" is not accepted: write "ignore" (lowercase)'],
  [{ name: 'g', source: SRC, errorPolicy: 'DenyWith' }, 'config.errorPolicy: "DenyWith" is not accepted: write {denyWith: {status, body}} (lowercase)'],
  [{ name: 'g', source: SRC, errorPolicy: 'drop' }, 'config.errorPolicy: must be "ignore", "deny" or {denyWith: {status, body}} (got "drop")'],
  [{ name: 'g', source: SRC, errorPolicy: { DenyWith: { status: 400 } } }, 'config.errorPolicy: an object errorPolicy must be {denyWith: {status, body}} (got keys DenyWith): write denyWith'],
  [{ name: 'g', source: SRC, errorPolicy: { denyWith: { status: 99 } } }, 'config.errorPolicy.denyWith.status: must be an integer from 100 to 599 (got 99)'],
  [{ name: 'g', source: SRC, errorPolicy: { denyWith: { body: 'x' } } }, 'config.errorPolicy.denyWith.status: must be an integer from 100 to 599 (got undefined)'],
  [{ name: 'g', source: SRC, errorPolicy: { denyWith: { status: 400, body: 5 } } }, 'config.errorPolicy.denyWith.body: must be a string'],
  [{ name: 'g', source: SRC, errorPolicy: 5 }, 'config.errorPolicy: must be "ignore", "deny" or {denyWith: {status, body}} (got 5)'],
  [{ name: 'g', source: 'let x = 1;' }, 'config.source: line 1:10: unexpected ";" (statements are separated by newlines)'],
  [{ name: 'g', source: 'log(1)\nfoo(2)' }, 'config.source: line 2:1: unknown function foo'],
];
for (const [config, message] of BAD) test(`rejected: ${message}`, () => assert.deepEqual(problems('Dsl', config), [message]));

test('every compile error is reported, each with its line:column', () => {
  assert.deepEqual(problems('Dsl', { name: 'g', source: 'foo()\nlet x = 1\nx = 2' }), ['config.source: line 1:1: unknown function foo', 'config.source: line 3:1: "x" is not mutable (declare it with "let mut x = ...")']);
});

test('bytecode beside source: a warning, source is used', () => {
  assert.deepEqual(warnings('Dsl', { name: 'g', source: SRC, bytecode: 'eyJ9' }), ['config.bytecode: bytecode is ignored; source is compiled']);
  assert.deepEqual(problems('Dsl', { name: 'g', source: SRC, bytecode: 'eyJ9' }), []);
});

test('Dsl runs only in requestPlugins', () => {
  assert.deepEqual(problems('Dsl', { name: 'g', source: SRC }, 'upstreamResponseFilterPlugins'), ['type: Dsl does not run in upstreamResponseFilterPlugins (it runs in requestPlugins)']);
});

test('next: the request continues with the edits made', async () => {
  const s = new FakeSession();
  assert.equal(await make('Dsl', { name: 'g', source: SRC }).onRequest!(s), undefined);
  assert.equal(s.headers.get('x-dsl'), '1');
});

test('deny: status and body, text/plain, logged', async () => {
  const s = new FakeSession({ headers: { 'x-block': '1' } });
  const r = await make('Dsl', { name: 'g', source: SRC }).onRequest!(s);
  assert.deepEqual(r, { status: 403, body: 'blocked', headers: { 'content-type': 'text/plain' }, error: 'DslDeny' });
  assert.deepEqual(s.logs, ['g: deny 403']);
});

test('deny with a success status is not an error', async () => {
  const r = await make('Dsl', { name: 'g', source: 'return deny(200, "ok")' }).onRequest!(new FakeSession());
  assert.deepEqual(r, { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } });
});

const BOOM = 'req.set_header("x-before", "1")\nlog(to_str(1 / 0))';
test('errorPolicy ignore: a runtime error continues to the next plugin (edits made before it stay)', async () => {
  const s = new FakeSession();
  assert.equal(await make('Dsl', { name: 'g', source: BOOM }).onRequest!(s), undefined);
  assert.equal(s.headers.get('x-before'), '1');
  assert.deepEqual(s.logs, ['g: line 2:14: division by zero']);
});

test('errorPolicy deny: 500 "DSL execution error"', async () => {
  const r = await make('Dsl', { name: 'g', source: BOOM, errorPolicy: 'deny' }).onRequest!(new FakeSession());
  assert.deepEqual(r, { status: 500, body: 'DSL execution error', headers: { 'content-type': 'text/plain' }, error: 'DslError' });
});

test('errorPolicy denyWith: its status and body (body optional)', async () => {
  const r = await make('Dsl', { name: 'g', source: BOOM, errorPolicy: { denyWith: { status: 400, body: 'bad request' } } }).onRequest!(new FakeSession());
  assert.deepEqual(r, { status: 400, body: 'bad request', headers: { 'content-type': 'text/plain' }, error: 'DslError' });
  const r2 = await make('Dsl', { name: 'g', source: BOOM, errorPolicy: { denyWith: { status: 503 } } }).onRequest!(new FakeSession());
  assert.deepEqual(r2, { status: 503, body: '', headers: { 'content-type': 'text/plain' }, error: 'DslError' });
});

test('runtime limits from the config apply (errorPolicy on a limit)', async () => {
  const p = make('Dsl', { name: 'loop', source: 'let mut i = 0\nwhile true { i = i + 1 }', maxLoopIterations: 5, errorPolicy: 'deny' });
  const s = new FakeSession();
  assert.equal(((await p.onRequest!(s)) as { status: number }).status, 500);
  assert.deepEqual(s.logs, ['loop: line 2:1: loop ran more than 5 iterations (maxLoopIterations)']);
});

test('the example of plugins.md §4.28 works as described', async () => {
  const source = `// require a tenant header on /api, normalise it
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
return next()
`;
  const p = make('Dsl', { name: 'tenant-guard', errorPolicy: { denyWith: { status: 400, body: 'bad request' } }, source });
  const ok = new FakeSession({ path: '/api/orders', headers: { 'x-tenant': 'ACME' } });
  assert.equal(await p.onRequest!(ok), undefined);
  assert.equal(ok.headers.get('x-tenant'), 'acme');
  assert.equal(ok.vars.get('tenant'), 'acme');
  assert.equal(((await p.onRequest!(new FakeSession({ path: '/api/x' }))) as { status: number }).status, 401);
  assert.equal(((await p.onRequest!(new FakeSession({ path: '/api/x', headers: { 'x-tenant': '' } }))) as { status: number }).status, 401);
  assert.equal(await p.onRequest!(new FakeSession({ path: '/public' })), undefined);
  const debug = new FakeSession({ path: '/x', headers: { 'x-debug-a': '1', 'x-debug-b': '1', 'x-debug-c': '1', 'x-debug-d': '1' } });
  assert.deepEqual(await p.onRequest!(debug), { status: 431, body: 'too many debug headers', headers: { 'content-type': 'text/plain' }, error: 'DslDeny' });
});

test('an unknown field is accepted (the original ignores it) with a warning naming it', () => {
  assert.deepEqual(problems('Dsl', { name: 'g', source: SRC, extra: 1 }), []);
  assert.deepEqual(warnings('Dsl', { name: 'g', source: SRC, extra: 1 }), ['config.extra: unknown field "extra" is ignored']);
});
