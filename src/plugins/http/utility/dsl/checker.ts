// Dsl checker: what the program means before it runs. Resolves variables to slots (block scoped,
// shadowing allowed), checks every call against the function table (name and arity), where
// next()/deny()/range() may appear, assignments only to `let mut` variables, `matches` regexes
// (string literals ≤ 1024 characters, compiled here once), and the compile limits: instructions
// (counted as a stack machine would execute them), locals, constants and loop nesting.
import { compileUserRegex } from '../../../../shared/regex.js';
import { DslError, type Expr, type Pos, type Program, type Stmt } from './ast.js';

export interface CheckLimits {
  maxInstructions: number;
  maxLocals: number;
  maxConstants: number;
  maxConstantBytes: number;
  maxConstantsTotalBytes: number;
  maxLoopNesting: number;
  maxRegexLength: number;
}

export const CHECK_LIMITS: CheckLimits = {
  maxInstructions: 1000,
  maxLocals: 64,
  maxConstants: 256,
  maxConstantBytes: 4096,
  maxConstantsTotalBytes: 32 * 1024,
  maxLoopNesting: 8,
  maxRegexLength: 1024,
};

/** Global functions and their arity. */
export const GLOBALS: Readonly<Record<string, number>> = {
  log: 1,
  len: 1,
  substr: 3,
  to_int: 1,
  to_str: 1,
  to_upper: 1,
  to_lower: 1,
  base64_encode: 1,
  base64_decode: 1,
  url_encode: 1,
  url_decode: 1,
  time_now: 0,
  sha256: 1,
  md5: 1,
  regex_find: 2,
  regex_replace: 3,
};
/** Names that exist but raise "not yet implemented" when called (as in the original). */
export const NOT_IMPLEMENTED = new Set(['sha256', 'md5', 'regex_find', 'regex_replace']);

/** Functions of the reserved names `req`, `resp`, `ctx`, with their arity. */
export const NAMESPACED: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  req: {
    header: 1,
    has_header: 1,
    header_names: 0,
    method: 0,
    path: 0,
    uri: 0,
    host: 0,
    query_string: 0,
    content_type: 0,
    query: 1,
    cookie: 1,
    path_param: 1,
    client_ip: 0,
    remote_ip: 0,
    scheme: 0,
    set_header: 2,
    append_header: 2,
    remove_header: 1,
    set_uri: 1,
    set_host: 1,
    set_method: 1,
  },
  resp: { set_header: 2, append_header: 2, remove_header: 1 },
  ctx: { get: 1, set: 2, remove: 1 },
};

/** Methods on strings. */
export const METHODS: Readonly<Record<string, number>> = { starts_with: 1, ends_with: 1, contains: 1, matches: 1 };

const RESERVED = new Set(['req', 'resp', 'ctx']);

export interface CheckedProgram {
  program: Program;
  /** Slot of every variable reference, let, assignment and loop variable node. */
  slots: Map<Expr | Stmt, number>;
  /** Compiled regex of every `matches` call. */
  regexes: Map<Expr, RegExp>;
  locals: number;
  instructions: number;
  constants: number;
}

interface Binding {
  slot: number;
  mut: boolean;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** Checks a parsed program; throws the errors found (sorted by position) as one DslCheckError. */
export function check(program: Program, limits: CheckLimits = CHECK_LIMITS): CheckedProgram {
  const errors: DslError[] = [];
  const slots = new Map<Expr | Stmt, number>();
  const regexes = new Map<Expr, RegExp>();
  const scopes: Map<string, Binding>[] = [new Map()];
  const constants = new Map<string, number>();
  let constantBytes = 0;
  let locals = 0;
  let instructions = 0;
  let loops = 0;
  const err = (pos: Pos, msg: string): void => {
    errors.push(new DslError(pos, msg));
  };

  const lookup = (name: string): Binding | undefined => {
    for (let s = scopes.length - 1; s >= 0; s--) {
      const b = scopes[s]!.get(name);
      if (b) return b;
    }
    return undefined;
  };
  const declare = (node: Stmt, name: string, mut: boolean, pos: Pos) => {
    if (RESERVED.has(name)) err(pos, `"${name}" is a reserved name`);
    const slot = locals++;
    if (locals === limits.maxLocals + 1) err(pos, `more than ${limits.maxLocals} local variables`);
    scopes[scopes.length - 1]!.set(name, { slot, mut });
    slots.set(node, slot);
  };
  const constant = (key: string, bytes: number, pos: Pos) => {
    if (constants.has(key)) return;
    constants.set(key, bytes);
    if (bytes > limits.maxConstantBytes) err(pos, `constant of ${bytes} bytes is over the limit of ${limits.maxConstantBytes}`);
    constantBytes += bytes;
    if (constants.size === limits.maxConstants + 1) err(pos, `more than ${limits.maxConstants} constants`);
    if (constantBytes > limits.maxConstantsTotalBytes && constantBytes - bytes <= limits.maxConstantsTotalBytes) err(pos, `constants take more than ${limits.maxConstantsTotalBytes} bytes in total`);
  };

  function arity(pos: Pos, label: string, want: number, got: number, field: boolean) {
    if (field && want > 0) err(pos, `${label} takes ${plural(want, 'argument')}: write ${label}(...)`);
    else if (want !== got) err(pos, `${label} takes ${plural(want, 'argument')}, got ${got}`);
  }

  function expr(e: Expr, where: 'value' | 'return' = 'value'): void {
    instructions++;
    switch (e.k) {
      case 'int':
        constant(`i:${e.v}`, 8, e.pos);
        return;
      case 'str':
        constant(`s:${e.v}`, Buffer.byteLength(e.v), e.pos);
        return;
      case 'bool':
      case 'nil':
        return;
      case 'var': {
        if (RESERVED.has(e.name)) return err(e.pos, `"${e.name}" is not a value; call one of its functions (${Object.keys(NAMESPACED[e.name]!).slice(0, 4).join(', ')}, ...)`);
        const b = lookup(e.name);
        if (!b) return err(e.pos, GLOBALS[e.name] !== undefined ? `${e.name} is a function: write ${e.name}(...)` : `unknown variable "${e.name}"`);
        slots.set(e, b.slot);
        return;
      }
      case 'unary':
        return expr(e.e);
      case 'binary':
        if (e.op === '&&' || e.op === '||') instructions++;
        expr(e.l);
        expr(e.r);
        return;
      case 'call': {
        for (const a of e.args) expr(a);
        if (e.ns) {
          const table = NAMESPACED[e.ns]!;
          const want = table[e.name];
          if (want === undefined) return err(e.pos, `unknown function ${e.ns}.${e.name} (${e.ns} has ${Object.keys(table).join(', ')})`);
          return arity(e.pos, `${e.ns}.${e.name}`, want, e.args.length, e.field);
        }
        if (e.name === 'next' || e.name === 'deny') {
          if (where !== 'return') return err(e.pos, `${e.name}() may only be used as "return ${e.name === 'next' ? 'next()' : 'deny(status, body)'}"`);
          return arity(e.pos, e.name, e.name === 'next' ? 0 : 2, e.args.length, false);
        }
        if (e.name === 'range') return err(e.pos, 'range() may only be used in "for x in range(start, end)"');
        const want = GLOBALS[e.name];
        if (want === undefined) return err(e.pos, lookup(e.name) ? `"${e.name}" is a variable, not a function` : `unknown function ${e.name}`);
        return arity(e.pos, e.name, want, e.args.length, false);
      }
      case 'method': {
        expr(e.recv);
        for (const a of e.args) expr(a);
        const want = METHODS[e.name];
        if (want === undefined) return err(e.pos, `unknown method .${e.name} (strings have ${Object.keys(METHODS).join(', ')})`);
        arity(e.pos, `.${e.name}`, want, e.args.length, e.field);
        if (e.name === 'matches' && e.args.length === 1) {
          const a = e.args[0]!;
          if (a.k !== 'str') return err(a.pos, '.matches needs a string literal regex (it is compiled once, when the program is loaded)');
          if (a.v.length > limits.maxRegexLength) return err(a.pos, `regex of ${a.v.length} characters is over the limit of ${limits.maxRegexLength}`);
          try {
            regexes.set(e, compileUserRegex(a.v));
          } catch (x) {
            err(a.pos, `invalid regex: ${(x as Error).message}`);
          }
        }
        return;
      }
    }
  }

  function block(body: Stmt[]): void {
    scopes.push(new Map());
    for (const s of body) stmt(s);
    scopes.pop();
  }

  function loop(pos: Pos, f: () => void) {
    loops++;
    if (loops === limits.maxLoopNesting + 1) err(pos, `loops nested deeper than ${limits.maxLoopNesting}`);
    f();
    loops--;
  }

  function stmt(s: Stmt): void {
    switch (s.k) {
      case 'let':
        expr(s.init);
        instructions++;
        declare(s, s.name, s.mut, s.pos);
        return;
      case 'assign': {
        expr(s.value);
        instructions++;
        if (RESERVED.has(s.name)) return err(s.pos, `"${s.name}" is a reserved name`);
        const b = lookup(s.name);
        if (!b) return err(s.pos, `unknown variable "${s.name}" (declare it with "let mut ${s.name} = ...")`);
        if (!b.mut) return err(s.pos, `"${s.name}" is not mutable (declare it with "let mut ${s.name} = ...")`);
        slots.set(s, b.slot);
        return;
      }
      case 'if':
        for (const b of s.branches) {
          expr(b.cond);
          instructions += 2;
          block(b.body);
        }
        if (s.otherwise) block(s.otherwise);
        return;
      case 'while':
        loop(s.pos, () => {
          expr(s.cond);
          instructions += 2;
          block(s.body);
        });
        return;
      case 'forRange':
        loop(s.pos, () => {
          expr(s.from);
          expr(s.to);
          instructions += 6;
          scopes.push(new Map());
          declare(s, s.name, false, s.pos);
          block(s.body);
          scopes.pop();
        });
        return;
      case 'forList':
        loop(s.pos, () => {
          expr(s.list);
          instructions += 5;
          scopes.push(new Map());
          declare(s, s.name, false, s.pos);
          block(s.body);
          scopes.pop();
        });
        return;
      case 'return': {
        const v = s.value;
        if (v.k !== 'call' || v.ns || (v.name !== 'next' && v.name !== 'deny')) return err(v.pos, 'return needs next() or deny(status, body)');
        expr(v, 'return');
        instructions++;
        return;
      }
      case 'expr':
        if (s.e.k !== 'call' && s.e.k !== 'method') err(s.e.pos, 'a statement must be a function call, an assignment or a declaration (this value would be discarded)');
        expr(s.e);
        instructions++;
        return;
    }
  }

  block(program.body);
  instructions++; // the implicit `return next()`
  if (instructions > limits.maxInstructions) err({ line: 1, col: 1 }, `program too large: ${instructions} instructions, over the limit of ${limits.maxInstructions}`);
  if (errors.length) throw new DslCheckError(errors.sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col));
  return { program, slots, regexes, locals, instructions, constants: constants.size };
}

/** Every problem the checker found. */
export class DslCheckError extends Error {
  constructor(readonly errors: DslError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}
