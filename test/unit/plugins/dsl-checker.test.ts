// Dsl checker (plugins.md §4.28): variables and scopes, the function table with arity, where
// next()/deny()/range() may appear, `matches` regexes, the compile limits, and every message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, CHECK_LIMITS, DslCheckError, GLOBALS, METHODS, NAMESPACED } from '../../../src/plugins/http/utility/dsl/checker.js';
import { lex } from '../../../src/plugins/http/utility/dsl/lexer.js';
import { parse } from '../../../src/plugins/http/utility/dsl/parser.js';
import { compileDsl, MAX_SOURCE_BYTES } from '../../../src/plugins/http/utility/dsl/index.js';

const run = (src: string, limits = CHECK_LIMITS) => check(parse(lex(src)), limits);
function errors(src: string, limits = CHECK_LIMITS): string[] {
  try {
    run(src, limits);
    return [];
  } catch (e) {
    if (e instanceof DslCheckError) return e.errors.map((x) => x.message);
    throw e;
  }
}

test('every function of the table is accepted with its arity', () => {
  const args = (n: number) => Array.from({ length: n }, () => '"a"').join(', ');
  const lines = [
    ...Object.entries(GLOBALS).map(([f, n]) => `log(${f}(${args(n)}))`),
    ...Object.entries(NAMESPACED).flatMap(([ns, fs]) => Object.entries(fs).map(([f, n]) => `log(${ns}.${f}(${args(n)}))`)),
    ...Object.entries(METHODS).map(([m, n]) => `log("s".${m}(${args(n)}))`),
    'return deny(403, "x")',
  ];
  assert.deepEqual(errors(lines.join('\n')), []);
  assert.deepEqual(Object.keys(GLOBALS).sort(), ['base64_decode', 'base64_encode', 'len', 'log', 'md5', 'regex_find', 'regex_replace', 'sha256', 'substr', 'time_now', 'to_int', 'to_lower', 'to_str', 'to_upper', 'url_decode', 'url_encode']);
});

test('zero-argument functions may be written as fields', () => {
  for (const f of Object.entries(NAMESPACED.req!).filter(([, n]) => n === 0).map(([f]) => f)) assert.deepEqual(errors(`log(req.${f})`), [], f);
});

test('variables: block scoped, shadowing allowed, loop variables visible in the body only', () => {
  assert.deepEqual(errors('let x = 1\nif true { let x = "s"\nlog(x) }\nlog(x)'), []);
  assert.deepEqual(errors('if true { let y = 1 }\nlog(y)'), ['line 2:5: unknown variable "y"']);
  assert.deepEqual(errors('for i in range(0, 2) { log(i) }\nlog(i)'), ['line 2:5: unknown variable "i"']);
  assert.deepEqual(errors('let mut n = 0\nwhile n < 3 { n = n + 1 }'), []);
  assert.deepEqual(errors('let x = x'), ['line 1:9: unknown variable "x"']);
});

test('slots: one per declaration; the program records locals, instructions, constants', () => {
  const c = run('let a = 1\nlet b = "x"\nfor i in range(0, 2) { let c = a }');
  assert.equal(c.locals, 4);
  assert.equal(c.constants, 4); // 1, "x", 0, 2
  assert.ok(c.instructions > 0);
});

const ERRORS: [src: string, messages: string[]][] = [
  ['x = 1', ['line 1:1: unknown variable "x" (declare it with "let mut x = ...")']],
  ['let x = 1\nx = 2', ['line 2:1: "x" is not mutable (declare it with "let mut x = ...")']],
  ['for i in range(0, 3) { i = 1 }', ['line 1:24: "i" is not mutable (declare it with "let mut i = ...")']],
  ['let req = 1', ['line 1:1: "req" is a reserved name']],
  ['let mut ctx = 1', ['line 1:1: "ctx" is a reserved name']],
  ['resp = 1', ['line 1:1: "resp" is a reserved name']],
  ['for resp in range(0, 1) {}', ['line 1:1: "resp" is a reserved name']],
  ['log(req)', ['line 1:5: "req" is not a value; call one of its functions (header, has_header, header_names, method, ...)']],
  ['log(len)', ['line 1:5: len is a function: write len(...)']],
  ['foo()', ['line 1:1: unknown function foo']],
  ['let f = 1\nf()', ['line 2:1: "f" is a variable, not a function']],
  ['req.nope()', ['line 1:1: unknown function req.nope (req has header, has_header, header_names, method, path, uri, host, query_string, content_type, query, cookie, path_param, client_ip, remote_ip, scheme, set_header, append_header, remove_header, set_uri, set_host, set_method)']],
  ['resp.get("a")', ['line 1:1: unknown function resp.get (resp has set_header, append_header, remove_header)']],
  ['ctx.put("a", 1)', ['line 1:1: unknown function ctx.put (ctx has get, set, remove)']],
  ['log("a".upper())', ['line 1:9: unknown method .upper (strings have starts_with, ends_with, contains, matches)']],
  ['log(1, 2)', ['line 1:1: log takes 1 argument, got 2']],
  ['log(substr("a", 1))', ['line 1:5: substr takes 3 arguments, got 2']],
  ['log(time_now(1))', ['line 1:5: time_now takes 0 arguments, got 1']],
  ['log(req.header)', ['line 1:5: req.header takes 1 argument: write req.header(...)']],
  ['log(req.header("a", "b"))', ['line 1:5: req.header takes 1 argument, got 2']],
  ['req.set_header("a")', ['line 1:1: req.set_header takes 2 arguments, got 1']],
  ['log("a".starts_with)', ['line 1:9: .starts_with takes 1 argument: write .starts_with(...)']],
  ['log("a".contains("a", "b"))', ['line 1:9: .contains takes 1 argument, got 2']],
  ['let x = "a"\nlog(x.matches(x))', ['line 2:15: .matches needs a string literal regex (it is compiled once, when the program is loaded)']],
  ['log("a".matches("("))', ['line 1:17: invalid regex: Invalid regular expression: /(/: Unterminated group']],
  ['log("a".matches("(?s)a"))', ['line 1:17: invalid regex: inline flag group "(?s)" is not supported (only a leading "(?i)" is)']],
  ['log(next())', ['line 1:5: next() may only be used as "return next()"']],
  ['deny(403, "x")', ['line 1:1: deny() may only be used as "return deny(status, body)"']],
  ['return next(1)', ['line 1:8: next takes 0 arguments, got 1']],
  ['return deny(403)', ['line 1:8: deny takes 2 arguments, got 1']],
  ['return log("a")', ['line 1:8: return needs next() or deny(status, body)']],
  ['return 403', ['line 1:8: return needs next() or deny(status, body)']],
  ['return req.path()', ['line 1:8: return needs next() or deny(status, body)']],
  ['log(range(0, 1))', ['line 1:5: range() may only be used in "for x in range(start, end)"']],
  ['1 + 2', ['line 1:3: a statement must be a function call, an assignment or a declaration (this value would be discarded)']],
  ['"s"', ['line 1:1: a statement must be a function call, an assignment or a declaration (this value would be discarded)']],
  ['foo()\nbar()', ['line 1:1: unknown function foo', 'line 2:1: unknown function bar']],
];
for (const [src, messages] of ERRORS) test(`check error: ${JSON.stringify(src)}`, () => assert.deepEqual(errors(src), messages));

test('matches accepts a leading (?i) and compiles the regex once', () => {
  const c = run('log("A".matches("(?i)^a$"))');
  const [re] = [...c.regexes.values()];
  assert.ok(re instanceof RegExp && re.flags.includes('i'));
});

test('limit: a matches regex longer than 1024 characters', () => {
  assert.deepEqual(errors(`log("a".matches("${'a'.repeat(1024)}"))`), []);
  assert.deepEqual(errors(`log("a".matches("${'a'.repeat(1025)}"))`), ['line 1:17: regex of 1025 characters is over the limit of 1024']);
});

test('limit: more than 64 locals', () => {
  const decl = (n: number) => Array.from({ length: n }, (_, i) => `let v${i} = 1`).join('\n');
  assert.deepEqual(errors(decl(64)), []);
  assert.deepEqual(errors(decl(65)), ['line 65:1: more than 64 local variables']);
});

test('limit: more than 256 constants (distinct literals)', () => {
  const consts = (n: number) => Array.from({ length: n }, (_, i) => `log(${i})`).join('\n');
  assert.deepEqual(errors(consts(256)), []);
  assert.deepEqual(errors(consts(257)), ['line 257:5: more than 256 constants']);
  assert.deepEqual(errors(Array.from({ length: 300 }, () => 'log("same")').join('\n')), [], 'equal literals share one constant');
});

test('limit: a constant over 4096 bytes, constants over 32 KiB in total', () => {
  assert.deepEqual(errors(`log("${'x'.repeat(4096)}")`), []);
  assert.deepEqual(errors(`log("${'x'.repeat(4097)}")`), ['line 1:5: constant of 4097 bytes is over the limit of 4096']);
  assert.deepEqual(errors(`log("${'é'.repeat(2049)}")`), ['line 1:5: constant of 4098 bytes is over the limit of 4096'], 'bytes, not characters');
  const many = Array.from({ length: 9 }, (_, i) => `log("${String(i).repeat(4000)}")`).join('\n');
  assert.deepEqual(errors(many), ['line 9:5: constants take more than 32768 bytes in total']);
});

test('limit: loops nested deeper than 8', () => {
  const nest = (n: number) => `${'while false {\n'.repeat(n)}log(1)\n${'}\n'.repeat(n)}`;
  assert.deepEqual(errors(nest(8)), []);
  assert.deepEqual(errors(nest(9)), ['line 9:1: loops nested deeper than 8']);
  assert.deepEqual(errors('for a in range(0, 1) { for b in req.header_names() { while false { log(1) } } }'), []);
});

test('limit: more than 1000 instructions', () => {
  // log(1) is 3 instructions (literal, call, discard); the program adds 1 (the implicit return).
  assert.deepEqual(errors(Array.from({ length: 333 }, () => 'log(1)').join('\n')), []);
  assert.deepEqual(errors(Array.from({ length: 334 }, () => 'log(1)').join('\n')), ['line 1:1: program too large: 1003 instructions, over the limit of 1000']);
});

test('limit: source over 64 KiB', () => {
  assert.equal(MAX_SOURCE_BYTES, 65536);
  const r = compileDsl(`// ${'x'.repeat(65536)}`);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.errors[0]!.message, 'line 1:1: source is 65539 bytes, over the limit of 65536 (64 KiB)');
  assert.equal(compileDsl(`// ${'x'.repeat(65533)}`).ok, true);
});

test('compileDsl reports lexer, parser and checker errors alike', () => {
  const msg = (src: string) => {
    const r = compileDsl(src);
    return r.ok ? [] : r.errors.map((e) => e.message);
  };
  assert.deepEqual(msg('let x = 1;'), ['line 1:10: unexpected ";" (statements are separated by newlines)']);
  assert.deepEqual(msg('let x ='), ['line 1:8: expected an expression, found end of program']);
  assert.deepEqual(msg('foo()'), ['line 1:1: unknown function foo']);
  assert.deepEqual(msg('return next()'), []);
});
