// The Dsl language (plugins.md §4.28): syntax tree, positions and the error type every stage
// (lexer, parser, checker, interpreter) reports with a line:column.

export interface Pos {
  /** 1-based line. */
  line: number;
  /** 1-based column, in characters. */
  col: number;
}

/** A compile or runtime error at a position of the source. */
export class DslError extends Error {
  constructor(
    readonly pos: Pos,
    readonly reason: string,
  ) {
    super(`line ${pos.line}:${pos.col}: ${reason}`);
  }
}

export type BinaryOp = '||' | '&&' | '==' | '!=' | '<' | '>' | '<=' | '>=' | '+' | '-' | '*' | '/';
export type UnaryOp = '!' | '-';
export type Namespace = 'req' | 'resp' | 'ctx';

export type Expr =
  | { k: 'int'; v: bigint; pos: Pos }
  | { k: 'str'; v: string; pos: Pos }
  | { k: 'bool'; v: boolean; pos: Pos }
  | { k: 'nil'; pos: Pos }
  | { k: 'var'; name: string; pos: Pos }
  | { k: 'unary'; op: UnaryOp; e: Expr; pos: Pos }
  | { k: 'binary'; op: BinaryOp; l: Expr; r: Expr; pos: Pos }
  /** `f(a)`, `req.header(a)`; `field` = written without parentheses (`req.path`). */
  | { k: 'call'; ns?: Namespace; name: string; args: Expr[]; field: boolean; pos: Pos }
  /** `s.starts_with(x)` on any expression. */
  | { k: 'method'; recv: Expr; name: string; args: Expr[]; field: boolean; pos: Pos };

export type Stmt =
  | { k: 'let'; mut: boolean; name: string; init: Expr; pos: Pos }
  | { k: 'assign'; name: string; value: Expr; pos: Pos }
  | { k: 'if'; branches: { cond: Expr; body: Stmt[] }[]; otherwise?: Stmt[]; pos: Pos }
  | { k: 'forRange'; name: string; from: Expr; to: Expr; body: Stmt[]; pos: Pos }
  | { k: 'forList'; name: string; list: Expr; body: Stmt[]; pos: Pos }
  | { k: 'while'; cond: Expr; body: Stmt[]; pos: Pos }
  | { k: 'return'; value: Expr; pos: Pos }
  | { k: 'expr'; e: Expr; pos: Pos };

export interface Program {
  body: Stmt[];
  /** Syntax nodes (statements and expressions). */
  nodes: number;
}
