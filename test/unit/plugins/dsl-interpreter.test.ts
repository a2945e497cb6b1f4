// Dsl interpreter (plugins.md §4.28): operator semantics, truthiness, checked Int arithmetic,
// every function, control flow, every runtime limit and every runtime error message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileDsl, type Outcome, type RuntimeLimits } from '../../../src/plugins/http/utility/dsl/index.js';
import { FakeSession, type FakeRequest } from '../../helpers/fake-session.js';

const LIMITS: RuntimeLimits = { maxSteps: 10_000, maxLoopIterations: 100, maxCallCount: 500, maxStackDepth: 128, maxStringLen: 8192 };

function program(src: string) {
  const r = compileDsl(src);
  if (!r.ok) throw new Error(`does not compile: ${r.errors.map((e) => e.message).join('; ')}`);
  return r.program;
}

function exec(src: string, req: FakeRequest = {}, limits: Partial<RuntimeLimits> = {}, now?: () => number): { out: Outcome; s: FakeSession } {
  const s = new FakeSession(req);
  return { out: program(src).run(s, { ...LIMITS, ...limits }, now), s };
}

/** The runtime error message of a program. */
function failure(src: string, req: FakeRequest = {}, limits: Partial<RuntimeLimits> = {}): string {
  try {
    exec(src, req, limits);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

/** The text of an expression (to_str of its value). */
const text = (expr: string, req: FakeRequest = {}) => {
  const { out } = exec(`return deny(200, to_str(${expr}))`, req);
  return out.kind === 'deny' ? out.body : '(next)';
};
/** Truthiness of an expression. */
const holds = (expr: string, req: FakeRequest = {}) => exec(`if ${expr} { return deny(200, "yes") }\nreturn deny(200, "no")`, req).out.kind === 'deny' && (exec(`if ${expr} { return deny(200, "yes") }\nreturn deny(200, "no")`, req).out as { body: string }).body === 'yes';

const TRUE: string[] = [
  // truthiness: only nil and false are falsy
  '0', '""', '"false"', 'true', '!nil', '!false', '!!0', '!!""',
  // && and ||
  '(true && 5) == 5', '(nil && 5) == false', '(false && 5) == false', '(0 && "x") == "x"',
  '(1 || 5) == true', '(nil || 5) == 5', '(false || nil) == nil', '("" || 1) == true',
  // + on Int and Str
  '1 + 2 == 3', '"a" + "b" == "ab"', '"a" + 1 == "a1"', '1 + "a" == "1a"', '"x" + true == "xtrue"', '"x" + false == "xfalse"', '"x" + nil == "xnil"', 'nil + "x" == "nilx"', '"n" + -5 == "n-5"',
  // - * /
  '5 - 7 == -2', '6 * 7 == 42', '7 / 2 == 3', '-7 / 2 == -3', '7 / -2 == -3', '0 / 5 == 0',
  // precedence
  '1 + 2 * 3 == 7', '(1 + 2) * 3 == 9', '10 - 2 - 3 == 5', '-2 * 3 == -6',
  // comparisons
  '1 < 2', '2 > 1', '2 <= 2', '2 >= 2', '!(2 < 2)', '-1 < 0', '"a" < "b"', '"abc" < "abd"', '"ab" < "abc"', '"b" > "abc"', '"a" <= "a"', '"Z" < "a"', '"é" > "z"', '"\uffff" < "😀"',
  // == and != across types
  '1 == 1', '"1" != 1', '1 != "1"', 'nil == nil', 'nil != false', 'false != 0', 'true == true', '"" != nil', 'req.header_names() == req.header_names()', 'req.header_names() != "a"',
  // 64-bit range
  '9223372036854775807 > 0', '-9223372036854775807 - 1 < 0', '(-9223372036854775807 - 1) / 1 < 0',
];
for (const e of TRUE) test(`true: ${e}`, () => assert.equal(holds(e), true));

const FALSE = ['nil', 'false', '!0', '!""', '!true', '1 > 2', '"b" < "a"', '1 == "1"', 'nil == false', '0 == false', '"a" == "A"'];
for (const e of FALSE) test(`false: ${e}`, () => assert.equal(holds(e), false));

const TEXT: [expr: string, text: string, req?: FakeRequest][] = [
  ['42', '42'],
  ['-42', '-42'],
  ['"s"', 's'],
  ['true', 'true'],
  ['nil', 'nil'],
  ['9223372036854775807', '9223372036854775807'],
  ['"line\\nbreak\\ttab\\\\ \\"q\\" \\x"', 'line\nbreak\ttab\\ "q" \\x'],
  // len: characters, nil → 0
  ['len("héllo")', '5'],
  ['len("😀a")', '2'],
  ['len("")', '0'],
  ['len(nil)', '0'],
  ['len(req.header_names())', '2', { headers: { a: '1', b: '2' } }],
  // substr: character indices, end exclusive, clamped
  ['substr("abcdef", 1, 3)', 'bc'],
  ['substr("abcdef", 0, 100)', 'abcdef'],
  ['substr("abcdef", 4, 2)', ''],
  ['substr("abcdef", -3, 2)', 'ab'],
  ['substr("h😀llo", 1, 2)', '😀'],
  ['substr(nil, 0, 1)', 'nil'],
  // to_int: nil if not a number
  ['to_int("42")', '42'],
  ['to_int("-7")', '-7'],
  ['to_int("+7")', '7'],
  ['to_int(" 7")', 'nil'],
  ['to_int("7x")', 'nil'],
  ['to_int("")', 'nil'],
  ['to_int("9223372036854775808")', 'nil'],
  ['to_int(12)', '12'],
  ['to_int(true)', 'nil'],
  ['to_int(nil)', 'nil'],
  // to_str
  ['to_str(5)', '5'],
  ['to_str(false)', 'false'],
  ['to_str(nil)', 'nil'],
  ['to_str("x")', 'x'],
  ['to_str(req.header_names())', 'a,b', { headers: { a: '1', b: '2' } }],
  // case
  ['to_upper("abé")', 'ABÉ'],
  ['to_lower("ABÉ")', 'abé'],
  ['to_upper(nil)', 'nil'],
  // base64
  ['base64_encode("hello")', 'aGVsbG8='],
  ['base64_encode("é")', 'w6k='],
  ['base64_decode("aGVsbG8=")', 'hello'],
  ['base64_decode("aGVsbG8")', 'hello'],
  ['base64_decode("w6k=")', 'é'],
  ['base64_decode("!!!")', 'nil'],
  ['base64_decode("a")', 'nil'],
  ['base64_decode("/w==")', 'nil'],
  ['base64_decode(nil)', 'nil'],
  // url
  ['url_encode("a b&c=d/é~_.-")', 'a%20b%26c%3Dd%2F%C3%A9~_.-'],
  ['url_decode("a+b%20c%3D%c3%a9")', 'a b c=é'],
  ['url_decode("100%")', '100%'],
  ['url_decode("%zz")', '%zz'],
  ['url_decode("%ff")', 'nil'],
  // methods
  ['"abc".starts_with("ab")', 'true'],
  ['"abc".starts_with("bc")', 'false'],
  ['"abc".ends_with("bc")', 'true'],
  ['"abc".contains("b")', 'true'],
  ['"abc".contains("x")', 'false'],
  ['nil.starts_with("a")', 'false'],
  ['5.contains("5")', 'false'],
  ['"abc".contains(5)', 'false'],
  ['"Hello".matches("^h")', 'false'],
  ['"Hello".matches("(?i)^h")', 'true'],
  ['"a1b2".matches("[0-9]")', 'true'],
  ['nil.matches("x")', 'false'],
  // req
  ['req.header("X-Tenant")', 'acme', { headers: { 'x-tenant': 'acme' } }],
  ['req.header("missing")', 'nil'],
  ['req.has_header("x-a")', 'true', { headers: { 'x-a': '' } }],
  ['req.has_header("x-b")', 'false'],
  ['req.method()', 'POST', { method: 'POST' }],
  ['req.method', 'PUT', { method: 'PUT' }],
  ['req.path', '/a/b', { path: '/a/b', query: 'x=1' }],
  ['req.uri', '/a/b?x=1', { path: '/a/b', query: 'x=1' }],
  ['req.host', 'shop.example', { host: 'shop.example' }],
  ['req.query_string', 'x=1&y=2', { query: 'x=1&y=2' }],
  ['req.query_string', 'nil'],
  ['req.content_type', 'application/json', { headers: { 'content-type': 'application/json' } }],
  ['req.content_type', 'nil'],
  ['req.query("y")', '2', { query: 'x=1&y=2' }],
  ['req.query("z")', 'nil', { query: 'x=1' }],
  ['req.cookie("sid")', 'abc', { headers: { cookie: 'a=1; sid=abc' } }],
  ['req.cookie("no")', 'nil', { headers: { cookie: 'a=1' } }],
  ['req.path_param("id")', '42', { params: { id: '42' } }],
  ['req.path_param("x")', 'nil'],
  ['req.client_ip', '10.0.0.1', { peerIp: '10.0.0.1', clientIp: '1.2.3.4' }],
  ['req.remote_ip', '1.2.3.4', { peerIp: '10.0.0.1', clientIp: '1.2.3.4' }],
  ['req.scheme', 'https', { headers: { 'x-forwarded-proto': 'https' } }],
  ['req.scheme', 'wss', { headers: { 'x-scheme': 'wss' } }],
  ['req.scheme', 'http'],
  // ctx
  ['ctx.get("tenant")', 'acme', { vars: { tenant: 'acme' } }],
  ['ctx.get("none")', 'nil'],
  // time
  ['time_now() > 1700000000', 'true'],
];
for (const [expr, want, req] of TEXT) test(`value: ${expr} → ${JSON.stringify(want)}`, () => assert.equal(text(expr, req), want));

test('time_now() is Unix seconds of the plugin clock', () => {
  const { out } = exec('return deny(200, to_str(time_now()))', {}, {}, () => 1_700_000_123_999);
  assert.deepEqual(out, { kind: 'deny', status: 200, body: '1700000123' });
});

test('req edits: set/append/remove headers, uri, host, method', () => {
  const { s } = exec(
    'req.set_header("x-a", "1")\nreq.append_header("x-b", 2)\nreq.append_header("x-b", true)\nreq.remove_header("x-c")\nreq.set_uri("/new?q=1")\nreq.set_host("up.example")\nreq.set_method("patch")',
    { headers: { 'x-c': 'gone' } },
  );
  assert.equal(s.headers.get('x-a'), '1');
  assert.equal(s.headers.get('x-b'), '2,true');
  assert.equal(s.headers.has('x-c'), false);
  assert.equal(s.uri, '/new?q=1');
  assert.equal(s.headers.get('host'), 'up.example');
  assert.equal(s.upstreamMethod, 'PATCH');
});

test('resp edits: set/append/remove response headers', () => {
  const { s } = exec('resp.set_header("x-a", "1")\nresp.append_header("x-b", "2")\nresp.append_header("x-b", "3")\nresp.remove_header("x-c")');
  assert.equal(s.responseHeaders.get('x-a'), '1');
  assert.deepEqual(s.responseHeaders.get('x-b'), ['2', '3']);
  assert.deepEqual(s.removedResponseHeaders, ['x-c']);
});

test('ctx: set (Str, Int, Bool as text; nil removes), get, remove', () => {
  const { s } = exec('ctx.set("a", "x")\nctx.set("b", 5)\nctx.set("c", false)\nctx.set("d", nil)\nctx.remove("e")\nctx.set("f", ctx.get("a") + "y")', { vars: { d: '1', e: '2' } });
  assert.deepEqual(Object.fromEntries(s.vars), { a: 'x', b: '5', c: 'false', f: 'xy' });
});

test('log writes to the plugin log', () => {
  const { s } = exec('log("hello")\nlog(5)\nlog(nil)');
  assert.deepEqual(s.logs, ['hello', '5', 'nil']);
});

test('control flow: if / else if / else, while, for range, for list, return', () => {
  const classify = 'let n = to_int(req.query("n"))\nif n == nil { return deny(400, "nan") } else if n < 0 { return deny(200, "neg") } else if n == 0 { return deny(200, "zero") } else { return deny(200, "pos") }';
  assert.deepEqual(exec(classify, { query: 'n=-3' }).out, { kind: 'deny', status: 200, body: 'neg' });
  assert.deepEqual(exec(classify, { query: 'n=0' }).out, { kind: 'deny', status: 200, body: 'zero' });
  assert.deepEqual(exec(classify, { query: 'n=9' }).out, { kind: 'deny', status: 200, body: 'pos' });
  assert.deepEqual(exec(classify, { query: 'n=x' }).out, { kind: 'deny', status: 400, body: 'nan' });
  assert.deepEqual(exec('let mut s = 0\nfor i in range(1, 5) { s = s + i }\nreturn deny(200, to_str(s))').out, { kind: 'deny', status: 200, body: '10' });
  assert.deepEqual(exec('let mut s = ""\nfor i in range(3, 1) { s = s + "x" }\nreturn deny(200, s)').out, { kind: 'deny', status: 200, body: '' });
  assert.deepEqual(exec('let mut i = 0\nwhile i < 5 { i = i + 2 }\nreturn deny(200, to_str(i))').out, { kind: 'deny', status: 200, body: '6' });
  assert.deepEqual(exec('let mut s = ""\nfor h in req.header_names() { s = s + h + ";" }\nreturn deny(200, s)', { headers: { 'x-a': '1', 'x-b': '2' } }).out, { kind: 'deny', status: 200, body: 'x-a;x-b;' });
  assert.deepEqual(exec('for i in range(0, 10) { if i == 3 { return deny(200, to_str(i)) } }').out, { kind: 'deny', status: 200, body: '3' });
  assert.deepEqual(exec('log(1)').out, { kind: 'next' }, 'falling off the end = next()');
  assert.deepEqual(exec('return next()\nreturn deny(500, "never")').out, { kind: 'next' });
  assert.deepEqual(exec('let mut x = 1\nif true { let x = 2\nlog(to_str(x)) }\nreturn deny(200, to_str(x))').out, { kind: 'deny', status: 200, body: '1' }, 'shadowing in a block');
});

test('the loop range bounds are evaluated once', () => {
  assert.deepEqual(exec('let mut n = 3\nlet mut c = 0\nfor i in range(0, n) { n = n + 1\nc = c + 1 }\nreturn deny(200, to_str(c))').out, { kind: 'deny', status: 200, body: '3' });
});

test('deny: status 100..599 kept, anything else 500; nil body empty; other bodies as text', () => {
  const d = (args: string) => exec(`return deny(${args})`).out;
  assert.deepEqual(d('403, "no"'), { kind: 'deny', status: 403, body: 'no' });
  assert.deepEqual(d('100, nil'), { kind: 'deny', status: 100, body: '' });
  assert.deepEqual(d('599, 5'), { kind: 'deny', status: 599, body: '5' });
  assert.deepEqual(d('600, "x"'), { kind: 'deny', status: 500, body: 'x' });
  assert.deepEqual(d('99, "x"'), { kind: 'deny', status: 500, body: 'x' });
  assert.deepEqual(d('"403", "x"'), { kind: 'deny', status: 500, body: 'x' });
  assert.deepEqual(d('nil, "x"'), { kind: 'deny', status: 500, body: 'x' });
});

const RUNTIME_ERRORS: [src: string, message: string, req?: FakeRequest][] = [
  ['log(to_str(9223372036854775807 + 1))', 'line 1:32: integer overflow'],
  ['log(to_str(-9223372036854775807 - 2))', 'line 1:33: integer overflow'],
  ['log(to_str(4611686018427387904 * 2))', 'line 1:32: integer overflow'],
  ['let m = -9223372036854775807 - 1\nlog(to_str(m / -1))', 'line 2:14: integer overflow'],
  ['let m = -9223372036854775807 - 1\nlog(to_str(-m))', 'line 2:12: integer overflow'],
  ['log(to_str(1 / 0))', 'line 1:14: division by zero'],
  ['log(to_str(1 - "a"))', 'line 1:14: operator - needs Int operands (got Int and Str)'],
  ['log(to_str("a" * 2))', 'line 1:16: operator * needs Int operands (got Str and Int)'],
  ['log(to_str(nil / 2))', 'line 1:16: operator / needs Int operands (got Nil and Int)'],
  ['log(to_str(1 + true))', 'line 1:14: cannot add Int and Bool'],
  ['log(to_str(nil + nil))', 'line 1:16: cannot add Nil and Nil'],
  ['log(to_str(req.header_names() + "x"))', 'line 1:31: cannot add List and Str'],
  ['log(to_str(-"a"))', 'line 1:12: unary - needs an Int (got Str)'],
  ['log(to_str(1 < "2"))', 'line 1:14: cannot compare Int with Str (< needs two Int or two Str)'],
  ['log(to_str(nil >= nil))', 'line 1:16: cannot compare Nil with Nil (>= needs two Int or two Str)'],
  ['log(to_str(true > false))', 'line 1:17: cannot compare Bool with Bool (> needs two Int or two Str)'],
  ['for i in range(0, "3") { log(1) }', 'line 1:1: range bounds must be Int (got Int and Str)'],
  ['for h in "abc" { log(h) }', 'line 1:1: for ... in needs a list such as req.header_names() (got Str)'],
  ['log(len(5))', 'line 1:5: len: argument 1 must be a Str (got Int)'],
  ['log(substr(5, 0, 1))', 'line 1:5: substr: argument 1 must be a Str (got Int)'],
  ['log(substr("a", "0", 1))', 'line 1:5: substr: argument 2 must be an Int (got Str)'],
  ['log(to_upper(1))', 'line 1:5: to_upper: argument 1 must be a Str (got Int)'],
  ['log(base64_encode(true))', 'line 1:5: base64_encode: argument 1 must be a Str (got Bool)'],
  ['log(req.header(5))', 'line 1:5: req.header: argument 1 must be a Str (got Int)'],
  ['log(req.query(nil))', 'line 1:5: req.query: argument 1 must be a Str (got Nil)'],
  ['req.set_header("bad name", "v")', 'line 1:1: req.set_header: "bad name" is not a valid header name'],
  ['req.set_header("x-a", "a\\nb")', 'line 1:1: req.set_header: the value contains a line break, a control character or a character beyond U+00FF'],
  ['resp.set_header("x-a", "☃")', 'line 1:1: resp.set_header: the value contains a line break, a control character or a character beyond U+00FF'],
  ['req.set_header("x-a", nil)', 'line 1:1: req.set_header: argument 2 must be a Str, Int or Bool (got Nil)'],
  ['resp.append_header(1, "v")', 'line 1:1: resp.append_header: argument 1 must be a Str (got Int)'],
  ['req.set_uri("/a b")', 'line 1:1: req.set_uri: the URI is empty or contains spaces or control characters'],
  ['req.set_uri("")', 'line 1:1: req.set_uri: the URI is empty or contains spaces or control characters'],
  ['req.set_host("a\\tb")', 'line 1:1: req.set_host: the host is empty or contains spaces or control characters'],
  ['req.set_method("GE T")', 'line 1:1: req.set_method: "GE T" is not a valid method'],
  ['ctx.set(1, "v")', 'line 1:1: ctx.set: argument 1 must be a Str (got Int)'],
  ['ctx.set("k", req.header_names())', 'line 1:1: ctx.set: argument 2 must be a Str, Int or Bool (got List)'],
  ['log(sha256("a"))', 'line 1:5: sha256 is not yet implemented'],
  ['log(md5("a"))', 'line 1:5: md5 is not yet implemented'],
  ['log(regex_find("a", "b"))', 'line 1:5: regex_find is not yet implemented'],
  ['log(regex_replace("a", "b", "c"))', 'line 1:5: regex_replace is not yet implemented'],
];
for (const [src, message, req] of RUNTIME_ERRORS) test(`runtime error: ${src}`, () => assert.equal(failure(src, req), message));

test('statements before a runtime error keep their effect', () => {
  const s = new FakeSession();
  assert.throws(() => program('req.set_header("x-done", "1")\nlog(to_str(1 / 0))').run(s, LIMITS));
  assert.equal(s.headers.get('x-done'), '1');
});

test('limit: maxSteps', () => {
  const src = 'let mut i = 0\nwhile true { i = i + 1 }';
  assert.equal(failure(src, {}, { maxSteps: 50, maxLoopIterations: 1000 }), 'line 2:20: step limit of 50 exceeded');
  // Straight-line code counts too: each statement and expression node is one step.
  assert.equal(failure('log(1)\nlog(2)', {}, { maxSteps: 5 }), 'line 2:5: step limit of 5 exceeded');
  assert.equal(failure('log(1)\nlog(2)', {}, { maxSteps: 4 }), 'line 2:1: step limit of 4 exceeded');
  assert.equal(failure('log(1)\nlog(2)', {}, { maxSteps: 6 }), 'no error');
});

test('limit: maxLoopIterations, per loop', () => {
  assert.equal(failure('for i in range(0, 100) { log(1) }'), 'no error');
  assert.equal(failure('for i in range(0, 101) { log(1) }', {}, { maxCallCount: 1000, maxSteps: 100_000 }), 'line 1:1: loop ran more than 100 iterations (maxLoopIterations)');
  assert.equal(failure('let mut i = 0\nwhile i < 11 { i = i + 1 }', {}, { maxLoopIterations: 10 }), 'line 2:1: loop ran more than 10 iterations (maxLoopIterations)');
  assert.equal(failure('for h in req.header_names() { log(h) }', { headers: { a: '1', b: '2', c: '3' } }, { maxLoopIterations: 2 }), 'line 1:1: loop ran more than 2 iterations (maxLoopIterations)');
  // Each loop has its own count: two loops of 10 with a limit of 10.
  assert.equal(failure('for i in range(0, 10) { log(1) }\nfor j in range(0, 10) { log(1) }', {}, { maxLoopIterations: 10 }), 'no error');
  // A nested loop restarts its count each time it starts.
  assert.equal(failure('for i in range(0, 5) { for j in range(0, 5) { log(1) } }', {}, { maxLoopIterations: 5 }), 'no error');
});

test('limit: maxCallCount', () => {
  assert.equal(failure('for i in range(0, 10) { log(1) }', {}, { maxCallCount: 10 }), 'no error');
  assert.equal(failure('for i in range(0, 11) { log(1) }', {}, { maxCallCount: 10 }), 'line 1:25: call limit of 10 exceeded');
  assert.equal(failure('log(to_str(len("a")))', {}, { maxCallCount: 2 }), 'line 1:1: call limit of 2 exceeded');
});

test('limit: maxStackDepth (operands and arguments held while evaluating)', () => {
  const deep = 'log(to_str(1 + (2 + (3 + 4))))';
  assert.equal(failure(deep, {}, { maxStackDepth: 3 }), 'no error');
  assert.equal(failure(deep, {}, { maxStackDepth: 2 }), 'line 1:24: stack depth limit of 2 exceeded');
  assert.equal(failure('log(substr("abc", 0, 1))', {}, { maxStackDepth: 3 }), 'no error');
  assert.equal(failure('log(substr("abc", 0, 1))', {}, { maxStackDepth: 2 }), 'line 1:5: stack depth limit of 2 exceeded');
});

test('limit: maxStringLen on strings the program builds', () => {
  const src = 'let mut s = "x"\nfor i in range(0, 20) { s = s + s }';
  assert.equal(failure(src, {}, { maxStringLen: 1024 }), 'line 2:31: string of 2048 characters is longer than maxStringLen (1024)');
  assert.equal(failure('log(to_str(len(to_upper(req.header("h")))))', { headers: { h: 'a'.repeat(100) } }, { maxStringLen: 10 }), 'line 1:16: string of 100 characters is longer than maxStringLen (10)');
  assert.equal(failure('log(base64_encode("abcdefghij"))', {}, { maxStringLen: 10 }), 'line 1:5: string of 16 characters is longer than maxStringLen (10)');
  assert.equal(failure('log(url_encode("é é"))', {}, { maxStringLen: 8 }), 'line 1:5: string of 15 characters is longer than maxStringLen (8)');
  assert.equal(failure('log(to_str(12345))', {}, { maxStringLen: 4 }), 'line 1:5: string of 5 characters is longer than maxStringLen (4)');
  assert.equal(failure('log("ab" + "c")', {}, { maxStringLen: 3 }), 'no error');
});

test('compiled once, run many times with fresh state', () => {
  const p = program('let mut n = 0\nn = n + 1\nctx.set("n", n)');
  for (let i = 0; i < 3; i++) {
    const s = new FakeSession();
    p.run(s, LIMITS);
    assert.equal(s.vars.get('n'), '1');
  }
});
