// Dsl parser (plugins.md §4.28): the grammar, operator precedence and associativity, newline
// rules, the parse limits (nesting, syntax nodes, parser budget) and every syntax error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DslError, type Expr, type Stmt } from '../../../src/plugins/http/utility/dsl/ast.js';
import { lex } from '../../../src/plugins/http/utility/dsl/lexer.js';
import { parse, PARSE_LIMITS } from '../../../src/plugins/http/utility/dsl/parser.js';

function e(x: Expr): string {
  switch (x.k) {
    case 'int':
      return String(x.v);
    case 'str':
      return JSON.stringify(x.v);
    case 'bool':
      return String(x.v);
    case 'nil':
      return 'nil';
    case 'var':
      return x.name;
    case 'unary':
      return `(${x.op}${e(x.e)})`;
    case 'binary':
      return `(${e(x.l)} ${x.op} ${e(x.r)})`;
    case 'call':
      return `${x.ns ? `${x.ns}.` : ''}${x.name}${x.field ? '' : `(${x.args.map(e).join(', ')})`}`;
    case 'method':
      return `${e(x.recv)}.${x.name}${x.field ? '' : `(${x.args.map(e).join(', ')})`}`;
  }
}
function s(x: Stmt): string {
  const b = (list: Stmt[]) => `{ ${list.map(s).join('; ')} }`;
  switch (x.k) {
    case 'let':
      return `let${x.mut ? ' mut' : ''} ${x.name} = ${e(x.init)}`;
    case 'assign':
      return `${x.name} = ${e(x.value)}`;
    case 'if':
      return x.branches.map((br, i) => `${i ? 'else if' : 'if'} ${e(br.cond)} ${b(br.body)}`).join(' ') + (x.otherwise ? ` else ${b(x.otherwise)}` : '');
    case 'forRange':
      return `for ${x.name} in range(${e(x.from)}, ${e(x.to)}) ${b(x.body)}`;
    case 'forList':
      return `for ${x.name} in ${e(x.list)} ${b(x.body)}`;
    case 'while':
      return `while ${e(x.cond)} ${b(x.body)}`;
    case 'return':
      return `return ${e(x.value)}`;
    case 'expr':
      return e(x.e);
  }
}
const show = (src: string) => parse(lex(src)).body.map(s).join('; ');
const expr = (src: string) => show(`let _ = ${src}`).slice('let _ = '.length);

const PRECEDENCE: [src: string, tree: string][] = [
  ['1 + 2 * 3', '(1 + (2 * 3))'],
  ['1 * 2 + 3', '((1 * 2) + 3)'],
  ['1 - 2 - 3', '((1 - 2) - 3)'],
  ['8 / 4 / 2', '((8 / 4) / 2)'],
  ['(1 + 2) * 3', '((1 + 2) * 3)'],
  ['a || b && c', '(a || (b && c))'],
  ['a && b || c', '((a && b) || c)'],
  ['a == b && c != d', '((a == b) && (c != d))'],
  ['a < b == c > d', '((a < b) == (c > d))'],
  ['a <= b + 1', '(a <= (b + 1))'],
  ['a >= b - 1', '(a >= (b - 1))'],
  ['!a && b', '((!a) && b)'],
  ['-a * b', '((-a) * b)'],
  ['- - 1', '(-(-1))'],
  ['!!true', '(!(!true))'],
  ['a + b * c == d || e', '(((a + (b * c)) == d) || e)'],
  ['"x" + 1', '("x" + 1)'],
  ['nil == false', '(nil == false)'],
];
for (const [src, tree] of PRECEDENCE) test(`precedence: ${src}`, () => assert.equal(expr(src), tree));

const FORMS: [src: string, parsed: string][] = [
  ['req.path', 'let _ = req.path'],
  ['req.path()', 'let _ = req.path()'],
  ['req.header("x").starts_with("a")', 'let _ = req.header("x").starts_with("a")'],
  ['ctx.get("k").contains(x)', 'let _ = ctx.get("k").contains(x)'],
  ['"abc".matches("b+")', 'let _ = "abc".matches("b+")'],
  ['len(substr(s, 0, 2))', 'let _ = len(substr(s, 0, 2))'],
  ['time_now()', 'let _ = time_now()'],
  ['f(\n  1,\n  2\n)', 'let _ = f(1, 2)'],
  ['1 +\n 2', 'let _ = (1 + 2)'],
  ['(\n1\n)', 'let _ = 1'],
];
for (const [src, parsed] of FORMS) test(`expression form: ${JSON.stringify(src)}`, () => assert.equal(show(`let _ = ${src}`), parsed));

const STATEMENTS: [src: string, parsed: string][] = [
  ['let x = 1', 'let x = 1'],
  ['let mut x = 1\nx = x + 1', 'let mut x = 1; x = (x + 1)'],
  ['if a { log("a") }', 'if a { log("a") }'],
  ['if a { log("a") } else { log("b") }', 'if a { log("a") } else { log("b") }'],
  ['if a { x() } else if b { y() } else if c { z() } else { w() }', 'if a { x() } else if b { y() } else if c { z() } else { w() }'],
  ['if a {\n  x()\n}\nelse {\n  y()\n}', 'if a { x() } else { y() }'],
  ['for i in range(0, 10) { log(i) }', 'for i in range(0, 10) { log(i) }'],
  ['for h in req.header_names() { log(h) }', 'for h in req.header_names() { log(h) }'],
  ['while x < 3 { x = x + 1 }', 'while (x < 3) { x = (x + 1) }'],
  ['return next()', 'return next()'],
  ['return deny(403, "no")', 'return deny(403, "no")'],
  ['req.set_header("a", "b")', 'req.set_header("a", "b")'],
  ['\n\n// c\nlog(1)\n\n', 'log(1)'],
  ['if a {}', 'if a {  }'],
  ['{', ''],
];
for (const [src, parsed] of STATEMENTS.filter(([x]) => x !== '{')) test(`statement: ${JSON.stringify(src)}`, () => assert.equal(show(src), parsed));

test('an empty program parses to nothing', () => {
  assert.equal(show(''), '');
  assert.equal(show('\n// nothing\n'), '');
});

const ERRORS: [src: string, message: string][] = [
  ['let = 1', 'line 1:5: expected a variable name after "let", found "="'],
  ['let if = 1', 'line 1:5: expected a variable name after "let", found keyword "if"'],
  ['let x 1', 'line 1:7: expected "=" after the variable name, found number 1'],
  ['let x =', 'line 1:8: expected an expression, found end of program'],
  ['let x = \n1', 'line 1:9: expected an expression, found end of line'],
  ['let x = 1 2', 'line 1:11: expected a new line after the statement, found number 2'],
  ['log(1) log(2)', 'line 1:8: expected a new line after the statement, found "log"'],
  ['if x log(1)', 'line 1:6: expected "{", found "log"'],
  ['if x { log(1)', 'line 1:14: expected "}" before the end of the program'],
  ['if x { log(1) }}', 'line 1:16: expected a new line after the statement, found "}"'],
  ['}', 'line 1:1: expected an expression, found "}"'],
  ['else { }', 'line 1:1: "else" without "if"'],
  ['for in range(0, 1) {}', 'line 1:5: expected a loop variable after "for", found keyword "in"'],
  ['for i range(0, 1) {}', 'line 1:7: expected "in" after the loop variable, found "range"'],
  ['for i in range(1) {}', 'line 1:10: range takes 2 arguments (start, end), got 1'],
  ['while { }', 'line 1:7: expected an expression, found "{"'],
  ['return', 'line 1:7: return needs next() or deny(status, body)'],
  ['if x { return }', 'line 1:15: return needs next() or deny(status, body)'],
  ['f(1, 2', 'line 1:7: expected "," or ")", found end of program'],
  ['f(', 'line 1:3: expected an expression, found end of program'],
  ['let x = (1 + 2', 'line 1:15: expected ")", found end of program'],
  ['req.', 'line 1:5: expected a function name after ".", found end of program'],
  ['req.5', 'line 1:5: expected a function name after ".", found number 5'],
  ['let x = mut', 'line 1:9: expected an expression, found keyword "mut"'],
  ['let x = "a" "b"', 'line 1:13: expected a new line after the statement, found string "b"'],
];
for (const [src, message] of ERRORS) {
  test(`syntax error: ${JSON.stringify(src)}`, () => {
    assert.throws(() => parse(lex(src)), (x: unknown) => x instanceof DslError && x.message === message);
  });
}

test('limit: nesting of blocks deeper than 64 is rejected, 64 is accepted', () => {
  const nest = (n: number) => `${'if true {\n'.repeat(n)}let x = 1\n${'}\n'.repeat(n)}`;
  assert.doesNotThrow(() => parse(lex(nest(64))));
  assert.throws(() => parse(lex(nest(65))), /line 65:9: nesting deeper than 64 levels/);
});

test('limit: nesting of parentheses and unary operators counts too', () => {
  assert.doesNotThrow(() => parse(lex(`let x = ${'('.repeat(64)}1${')'.repeat(64)}`)));
  assert.throws(() => parse(lex(`let x = ${'('.repeat(65)}1${')'.repeat(65)}`)), /nesting deeper than 64 levels/);
  assert.throws(() => parse(lex(`let x = ${'-'.repeat(65)}1`)), /nesting deeper than 64 levels/);
  assert.throws(() => parse(lex(`let x = ${'f('.repeat(65)}1${')'.repeat(65)}`)), /nesting deeper than 64 levels/);
});

test('limit: more than 2000 syntax nodes is rejected', () => {
  // `log(1)` is 3 nodes (statement, call, literal).
  const ok = Array.from({ length: 666 }, () => 'log(1)').join('\n');
  assert.equal(parse(lex(ok)).nodes, 1998);
  const big = Array.from({ length: 667 }, () => 'log(1)').join('\n');
  assert.throws(() => parse(lex(big)), /line 667:5: program too large: more than 2000 syntax nodes/);
  assert.equal(PARSE_LIMITS.maxNodes, 2000);
});

test('limit: the parser budget (50,000 steps) stops pathological programs', () => {
  assert.equal(PARSE_LIMITS.maxSteps, 50_000);
  assert.throws(() => parse(lex('let x = 1 + 2 + 3'), { ...PARSE_LIMITS, maxSteps: 10 }), /program too complex: the parser budget of 10 steps is exhausted/);
  // Within the node limit, deep operator descents still stay under the real budget.
  const long = Array.from({ length: 400 }, () => 'let a = (((1)))').join('\n');
  assert.doesNotThrow(() => parse(lex(long)));
});

test('nodes are counted: parentheses make none', () => {
  assert.equal(parse(lex('let x = (1)')).nodes, 2);
  assert.equal(parse(lex('let x = 1 + 2')).nodes, 4);
});
