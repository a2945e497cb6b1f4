// Dsl lexer: source text → tokens with line:column. Newlines are tokens (they separate
// statements); `//` comments run to the end of the line. Strings take the escapes \n \t \\ \"
// (any other backslash sequence is kept as written); integers are non-negative decimal literals
// that fit a signed 64-bit integer.
import { DslError, type Pos } from './ast.js';

export type TokenKind = 'ident' | 'int' | 'str' | 'kw' | 'op' | 'nl' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Identifier, keyword or operator text; the decoded value for strings; digits for integers. */
  text: string;
  pos: Pos;
}

export const KEYWORDS = new Set(['let', 'mut', 'if', 'else', 'for', 'in', 'while', 'return', 'true', 'false', 'nil']);
export const INT_MAX = 2n ** 63n - 1n;

const TWO_CHAR = new Set(['==', '!=', '<=', '>=', '&&', '||']);
const ONE_CHAR = new Set(['(', ')', '{', '}', ',', '.', '=', '<', '>', '+', '-', '*', '/', '!']);

const isDigit = (c: string) => c >= '0' && c <= '9';
const isIdentStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdent = (c: string) => isIdentStart(c) || isDigit(c);

export function lex(source: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (at: number): Pos => ({ line, col: at - lineStart + 1 });
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      out.push({ kind: 'nl', text: '\n', pos: pos(i) });
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < source.length && isIdent(source[i]!)) i++;
      const text = source.slice(start, i);
      out.push({ kind: KEYWORDS.has(text) ? 'kw' : 'ident', text, pos: pos(start) });
      continue;
    }
    if (isDigit(c)) {
      while (i < source.length && isDigit(source[i]!)) i++;
      if (i < source.length && isIdentStart(source[i]!)) throw new DslError(pos(start), `invalid number "${source.slice(start, i + 1)}"`);
      const text = source.slice(start, i);
      if (BigInt(text) > INT_MAX) throw new DslError(pos(start), `integer literal ${text} does not fit a 64-bit integer`);
      out.push({ kind: 'int', text, pos: pos(start) });
      continue;
    }
    if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length || source[i] === '\n') throw new DslError(pos(start), 'unterminated string (strings end on the same line; write \\n for a line break)');
        const ch = source[i]!;
        if (ch === '"') {
          i++;
          break;
        }
        if (ch === '\\' && i + 1 < source.length && source[i + 1] !== '\n') {
          const e = source[i + 1]!;
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e}`;
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      out.push({ kind: 'str', text: value, pos: pos(start) });
      continue;
    }
    const two = source.slice(i, i + 2);
    if (TWO_CHAR.has(two)) {
      out.push({ kind: 'op', text: two, pos: pos(start) });
      i += 2;
      continue;
    }
    if (ONE_CHAR.has(c)) {
      out.push({ kind: 'op', text: c, pos: pos(start) });
      i++;
      continue;
    }
    if (c === ';') throw new DslError(pos(start), 'unexpected ";" (statements are separated by newlines)');
    if (c === '&' || c === '|') throw new DslError(pos(start), `unexpected "${c}" (did you mean "${c}${c}"?)`);
    if (c === "'") throw new DslError(pos(start), "unexpected \"'\" (strings use double quotes)");
    const cp = source.codePointAt(i)!;
    throw new DslError(pos(start), `unexpected character ${JSON.stringify(String.fromCodePoint(cp))}`);
  }
  out.push({ kind: 'eof', text: '', pos: pos(i) });
  return out;
}
