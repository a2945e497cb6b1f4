// Dsl parser: tokens → syntax tree, by recursive descent. Grammar (newlines separate statements;
// they are also allowed after a binary operator, inside parentheses and before `else`):
//
//   program  = { stmt NEWLINE } EOF
//   block    = "{" { stmt NEWLINE } "}"
//   stmt     = "let" ["mut"] IDENT "=" expr
//            | IDENT "=" expr
//            | "if" expr block { "else" "if" expr block } [ "else" block ]
//            | "for" IDENT "in" expr block        (expr: range(a, b) or a list)
//            | "while" expr block
//            | "return" expr                      (expr: next() or deny(status, body))
//            | expr                               (a function call)
//   expr     = or
//   or       = and { "||" and }
//   and      = eq { "&&" eq }
//   eq       = cmp { ("==" | "!=") cmp }
//   cmp      = add { ("<" | ">" | "<=" | ">=") add }
//   add      = mul { ("+" | "-") mul }
//   mul      = unary { ("*" | "/") unary }
//   unary    = ("!" | "-") unary | postfix
//   postfix  = primary { "." IDENT [ "(" args ")" ] }
//   primary  = INT | STRING | "true" | "false" | "nil" | IDENT [ "(" args ")" ] | "(" expr ")"
//   args     = [ expr { "," expr } ]
//
// Limits checked here: nesting depth, syntax nodes, parser steps.
import { DslError, type BinaryOp, type Expr, type Namespace, type Pos, type Program, type Stmt } from './ast.js';
import type { Token } from './lexer.js';

export interface ParseLimits {
  /** Blocks, parentheses, unary operators and call arguments nested in each other. */
  maxNesting: number;
  maxNodes: number;
  maxSteps: number;
}

export const PARSE_LIMITS: ParseLimits = { maxNesting: 64, maxNodes: 2000, maxSteps: 50_000 };

const NAMESPACES = new Set<string>(['req', 'resp', 'ctx']);
const LEVELS: BinaryOp[][] = [['||'], ['&&'], ['==', '!='], ['<', '>', '<=', '>='], ['+', '-'], ['*', '/']];

export function parse(tokens: Token[], limits: ParseLimits = PARSE_LIMITS): Program {
  let i = 0;
  let nodes = 0;
  let steps = 0;
  let depth = 0;

  const peek = (): Token => tokens[i]!;
  const step = () => {
    if (++steps > limits.maxSteps) throw new DslError(peek().pos, `program too complex: the parser budget of ${limits.maxSteps} steps is exhausted`);
  };
  const node = (pos: Pos) => {
    if (++nodes > limits.maxNodes) throw new DslError(pos, `program too large: more than ${limits.maxNodes} syntax nodes`);
  };
  const enter = (pos: Pos) => {
    if (++depth > limits.maxNesting) throw new DslError(pos, `nesting deeper than ${limits.maxNesting} levels`);
  };
  const leave = () => {
    depth--;
  };
  const describe = (t: Token) =>
    t.kind === 'eof' ? 'end of program' : t.kind === 'nl' ? 'end of line' : t.kind === 'str' ? `string ${JSON.stringify(t.text)}` : t.kind === 'int' ? `number ${t.text}` : `"${t.text}"`;
  const is = (text: string) => {
    const t = peek();
    return (t.kind === 'op' || t.kind === 'kw') && t.text === text;
  };
  const expect = (text: string, what?: string): Token => {
    const t = peek();
    if (!is(text)) throw new DslError(t.pos, `expected ${what ?? `"${text}"`}, found ${describe(t)}`);
    i++;
    return t;
  };
  const ident = (what: string): Token => {
    const t = peek();
    if (t.kind !== 'ident') throw new DslError(t.pos, t.kind === 'kw' ? `expected ${what}, found keyword "${t.text}"` : `expected ${what}, found ${describe(t)}`);
    i++;
    return t;
  };
  const skipNewlines = () => {
    while (peek().kind === 'nl') i++;
  };

  function statements(closing: 'eof' | '}'): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      skipNewlines();
      const t = peek();
      if (closing === 'eof' ? t.kind === 'eof' : is('}')) return out;
      if (t.kind === 'eof') throw new DslError(t.pos, 'expected "}" before the end of the program');
      out.push(statement());
      const end = peek();
      if (end.kind === 'nl') continue;
      if (closing === 'eof' ? end.kind === 'eof' : is('}')) continue;
      if (end.kind === 'eof') throw new DslError(end.pos, 'expected "}" before the end of the program');
      throw new DslError(end.pos, `expected a new line after the statement, found ${describe(end)}`);
    }
  }

  function block(): Stmt[] {
    const open = expect('{', '"{"');
    enter(open.pos);
    const body = statements('}');
    expect('}');
    leave();
    return body;
  }

  function statement(): Stmt {
    step();
    const t = peek();
    node(t.pos);
    if (t.kind === 'kw') {
      switch (t.text) {
        case 'let': {
          i++;
          let mut = false;
          if (is('mut')) {
            i++;
            mut = true;
          }
          const name = ident('a variable name after "let"');
          expect('=', '"=" after the variable name');
          return { k: 'let', mut, name: name.text, init: expression(), pos: t.pos };
        }
        case 'if': {
          i++;
          const branches = [{ cond: expression(), body: block() }];
          let otherwise: Stmt[] | undefined;
          for (;;) {
            const save = i;
            skipNewlines();
            if (!is('else')) {
              i = save;
              break;
            }
            i++;
            if (is('if')) {
              i++;
              branches.push({ cond: expression(), body: block() });
              continue;
            }
            otherwise = block();
            break;
          }
          return { k: 'if', branches, ...(otherwise ? { otherwise } : {}), pos: t.pos };
        }
        case 'for': {
          i++;
          const name = ident('a loop variable after "for"');
          expect('in', '"in" after the loop variable');
          const iter = expression();
          const body = block();
          if (iter.k === 'call' && !iter.ns && iter.name === 'range' && !iter.field) {
            if (iter.args.length !== 2) throw new DslError(iter.pos, `range takes 2 arguments (start, end), got ${iter.args.length}`);
            return { k: 'forRange', name: name.text, from: iter.args[0]!, to: iter.args[1]!, body, pos: t.pos };
          }
          return { k: 'forList', name: name.text, list: iter, body, pos: t.pos };
        }
        case 'while': {
          i++;
          return { k: 'while', cond: expression(), body: block(), pos: t.pos };
        }
        case 'return': {
          i++;
          const n = peek();
          if (n.kind === 'nl' || n.kind === 'eof' || is('}')) throw new DslError(n.pos, 'return needs next() or deny(status, body)');
          return { k: 'return', value: expression(), pos: t.pos };
        }
        case 'else':
          throw new DslError(t.pos, '"else" without "if"');
        default:
          break; // true/false/nil start an expression statement
      }
    }
    if (t.kind === 'ident' && tokens[i + 1]?.kind === 'op' && tokens[i + 1]!.text === '=') {
      i += 2;
      return { k: 'assign', name: t.text, value: expression(), pos: t.pos };
    }
    return { k: 'expr', e: expression(), pos: t.pos };
  }

  function expression(): Expr {
    return binary(0);
  }

  function binary(level: number): Expr {
    step();
    if (level === LEVELS.length) return unary();
    let left = binary(level + 1);
    const ops = LEVELS[level]!;
    for (;;) {
      const t = peek();
      if (t.kind !== 'op' || !ops.includes(t.text as BinaryOp)) return left;
      i++;
      skipNewlines();
      node(t.pos);
      left = { k: 'binary', op: t.text as BinaryOp, l: left, r: binary(level + 1), pos: t.pos };
    }
  }

  function unary(): Expr {
    step();
    const t = peek();
    if (t.kind === 'op' && (t.text === '!' || t.text === '-')) {
      i++;
      node(t.pos);
      enter(t.pos);
      const e = unary();
      leave();
      return { k: 'unary', op: t.text, e, pos: t.pos };
    }
    return postfix();
  }

  function args(): Expr[] {
    const open = expect('(');
    enter(open.pos);
    const out: Expr[] = [];
    skipNewlines();
    if (!is(')')) {
      for (;;) {
        out.push(expression());
        skipNewlines();
        if (is(',')) {
          i++;
          skipNewlines();
          continue;
        }
        break;
      }
    }
    expect(')', out.length ? '"," or ")"' : '")"');
    leave();
    return out;
  }

  function postfix(): Expr {
    let e = primary();
    while (is('.')) {
      step();
      i++;
      const name = ident('a function name after "."');
      node(name.pos);
      const called = is('(');
      const a = called ? args() : [];
      if (e.k === 'var' && NAMESPACES.has(e.name)) {
        e = { k: 'call', ns: e.name as Namespace, name: name.text, args: a, field: !called, pos: e.pos };
      } else {
        e = { k: 'method', recv: e, name: name.text, args: a, field: !called, pos: name.pos };
      }
    }
    return e;
  }

  function primary(): Expr {
    step();
    const t = peek();
    node(t.pos);
    switch (t.kind) {
      case 'int':
        i++;
        return { k: 'int', v: BigInt(t.text), pos: t.pos };
      case 'str':
        i++;
        return { k: 'str', v: t.text, pos: t.pos };
      case 'kw':
        if (t.text === 'true' || t.text === 'false') {
          i++;
          return { k: 'bool', v: t.text === 'true', pos: t.pos };
        }
        if (t.text === 'nil') {
          i++;
          return { k: 'nil', pos: t.pos };
        }
        throw new DslError(t.pos, `expected an expression, found keyword "${t.text}"`);
      case 'ident':
        i++;
        if (is('(')) return { k: 'call', name: t.text, args: args(), field: false, pos: t.pos };
        return { k: 'var', name: t.text, pos: t.pos };
      case 'op':
        if (t.text === '(') {
          i++;
          enter(t.pos);
          skipNewlines();
          const e = expression();
          skipNewlines();
          expect(')', '")"');
          leave();
          nodes--; // parentheses only group: no node of their own
          return e;
        }
        break;
      default:
        break;
    }
    throw new DslError(t.pos, `expected an expression, found ${describe(t)}`);
  }

  const body = statements('eof');
  return { body, nodes };
}
