// Dsl lexer (plugins.md §4.28): tokens, positions, string escapes, comments, and every error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DslError } from '../../../src/plugins/http/utility/dsl/ast.js';
import { lex } from '../../../src/plugins/http/utility/dsl/lexer.js';

const kinds = (src: string) => lex(src).map((t) => (t.kind === 'nl' || t.kind === 'eof' ? t.kind : `${t.kind}:${t.text}`));

test('tokens of every kind', () => {
  assert.deepEqual(kinds('let mut x = 42\nreq.path'), ['kw:let', 'kw:mut', 'ident:x', 'op:=', 'int:42', 'nl', 'ident:req', 'op:.', 'ident:path', 'eof']);
  assert.deepEqual(kinds('true false nil if else for in while return'), ['kw:true', 'kw:false', 'kw:nil', 'kw:if', 'kw:else', 'kw:for', 'kw:in', 'kw:while', 'kw:return', 'eof']);
  assert.deepEqual(kinds('_a1 b_2'), ['ident:_a1', 'ident:b_2', 'eof']);
});

test('every operator', () => {
  assert.deepEqual(kinds('( ) { } , . = == != < > <= >= + - * / ! && ||'), [
    ...['(', ')', '{', '}', ',', '.', '=', '==', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '!', '&&', '||'].map((o) => `op:${o}`),
    'eof',
  ]);
  assert.deepEqual(kinds('a<=b'), ['ident:a', 'op:<=', 'ident:b', 'eof']);
  assert.deepEqual(kinds('!x!=y'), ['op:!', 'ident:x', 'op:!=', 'ident:y', 'eof']);
});

test('string escapes: \\n \\t \\\\ \\" decoded, others kept literally', () => {
  const [t] = lex(String.raw`"a\nb\tc\\d\"e\qf\$"`);
  assert.equal(t!.kind, 'str');
  assert.equal(t!.text, 'a\nb\tc\\d"e\\qf\\$');
  assert.equal(lex('""')[0]!.text, '');
  assert.equal(lex('"héllo ✓"')[0]!.text, 'héllo ✓');
});

test('comments run to the end of the line; newlines are tokens; \\r and tabs are spaces', () => {
  assert.deepEqual(kinds('a // comment "x" ;\r\n\tb'), ['ident:a', 'nl', 'ident:b', 'eof']);
  assert.deepEqual(kinds('// only a comment'), ['eof']);
  assert.deepEqual(kinds('a / b'), ['ident:a', 'op:/', 'ident:b', 'eof']);
});

test('positions are line:column, 1-based', () => {
  const t = lex('let x = 1\n  foo("s")');
  const foo = t.find((x) => x.text === 'foo')!;
  assert.deepEqual(foo.pos, { line: 2, col: 3 });
  assert.deepEqual(t.find((x) => x.kind === 'str')!.pos, { line: 2, col: 7 });
  assert.deepEqual(t.at(-1)!.pos, { line: 2, col: 11 });
});

test('integers: non-negative, up to the 64-bit maximum', () => {
  assert.equal(lex('9223372036854775807')[0]!.text, '9223372036854775807');
  assert.deepEqual(kinds('-5'), ['op:-', 'int:5', 'eof']);
});

const ERRORS: [src: string, message: string][] = [
  ['let x = 1;', 'line 1:10: unexpected ";" (statements are separated by newlines)'],
  ['a & b', 'line 1:3: unexpected "&" (did you mean "&&"?)'],
  ['a | b', 'line 1:3: unexpected "|" (did you mean "||"?)'],
  ["let s = 'x'", 'line 1:9: unexpected "\'" (strings use double quotes)'],
  ['let x = 1 @ 2', 'line 1:11: unexpected character "@"'],
  ['x = #', 'line 1:5: unexpected character "#"'],
  ['let s = "abc', 'line 1:9: unterminated string (strings end on the same line; write \\n for a line break)'],
  ['let s = "ab\ncd"', 'line 1:9: unterminated string (strings end on the same line; write \\n for a line break)'],
  ['let n = 9223372036854775808', 'line 1:9: integer literal 9223372036854775808 does not fit a 64-bit integer'],
  ['let n = 12abc', 'line 1:9: invalid number "12a"'],
  ['\n\n  $', 'line 3:3: unexpected character "$"'],
];
for (const [src, message] of ERRORS) {
  test(`lexer error: ${JSON.stringify(src)}`, () => {
    assert.throws(() => lex(src), (e: unknown) => e instanceof DslError && e.message === message);
  });
}
