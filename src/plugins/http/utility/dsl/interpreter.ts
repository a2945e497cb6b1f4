// Dsl interpreter: the checked syntax tree is compiled once into closures; a run evaluates them
// against one request with fresh locals and counters. Runtime limits: steps (one per evaluated
// expression or executed statement), iterations of each loop, function calls, operand stack depth
// (values held while an expression is evaluated: operands, call arguments) and string length.
// Int is a signed 64-bit integer with checked arithmetic. Every failure is a DslError with the
// line:column of the node that failed; the plugin turns it into its errorPolicy.
import type { PluginSession } from '../../../runtime/define-plugin.js';
import { DslError, type Expr, type Pos, type Stmt } from './ast.js';
import { NOT_IMPLEMENTED, type CheckedProgram } from './checker.js';
import { INT_MAX } from './lexer.js';

export type Value = string | bigint | boolean | null | readonly string[];

export interface RuntimeLimits {
  maxSteps: number;
  maxLoopIterations: number;
  maxCallCount: number;
  maxStackDepth: number;
  maxStringLen: number;
}

export type Outcome = { kind: 'next' } | { kind: 'deny'; status: number; body: string };

const INT_MIN = -(2n ** 63n);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const URI_TEXT = /^[\x21-\x7e\x80-\xff]*$/;

class Frame {
  steps = 0;
  calls = 0;
  sp = 0;
  readonly locals: Value[];
  constructor(
    readonly s: PluginSession,
    readonly limits: RuntimeLimits,
    readonly now: () => number,
    locals: number,
  ) {
    this.locals = Array.from({ length: locals }, () => null);
  }
}

type Eval = (f: Frame) => Value;
type Exec = (f: Frame) => Outcome | undefined;

export function typeName(v: Value): string {
  if (v === null) return 'Nil';
  if (typeof v === 'string') return 'Str';
  if (typeof v === 'bigint') return 'Int';
  if (typeof v === 'boolean') return 'Bool';
  return 'List';
}

export const truthy = (v: Value): boolean => v !== null && v !== false;

function tick(f: Frame, pos: Pos): void {
  if (++f.steps > f.limits.maxSteps) throw new DslError(pos, `step limit of ${f.limits.maxSteps} exceeded`);
}

function hold(f: Frame, pos: Pos): void {
  if (++f.sp > f.limits.maxStackDepth) throw new DslError(pos, `stack depth limit of ${f.limits.maxStackDepth} exceeded`);
}

function checkedInt(v: bigint, pos: Pos): bigint {
  if (v > INT_MAX || v < INT_MIN) throw new DslError(pos, 'integer overflow');
  return v;
}

function checkedStr(f: Frame, v: string, pos: Pos): string {
  if (v.length > f.limits.maxStringLen) throw new DslError(pos, `string of ${v.length} characters is longer than maxStringLen (${f.limits.maxStringLen})`);
  return v;
}

/** `+` and to_str(): Int as decimal, Bool as true/false, nil as `nil`, List items joined by `,`. */
export function toText(v: Value): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return v.join(',');
}

/** Code point order (the order of UTF-8 bytes), not UTF-16 units. */
function compareStr(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

export function equal(a: Value, b: Value): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => x === b[i]);
  }
  return a === b;
}

function chars(s: string): string[] {
  return Array.from(s);
}

// ---- arguments -------------------------------------------------------------------------------

function str(v: Value, fn: string, n: number, pos: Pos): string {
  if (typeof v !== 'string') throw new DslError(pos, `${fn}: argument ${n} must be a Str (got ${typeName(v)})`);
  return v;
}

function int(v: Value, fn: string, n: number, pos: Pos): bigint {
  if (typeof v !== 'bigint') throw new DslError(pos, `${fn}: argument ${n} must be an Int (got ${typeName(v)})`);
  return v;
}

/** A value written into a header or ctx variable: Str, Int or Bool (as text). */
function scalar(v: Value, fn: string, n: number, pos: Pos): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  throw new DslError(pos, `${fn}: argument ${n} must be a Str, Int or Bool (got ${typeName(v)})`);
}

function headerName(v: Value, fn: string, pos: Pos): string {
  const n = str(v, fn, 1, pos);
  if (!HEADER_NAME.test(n)) throw new DslError(pos, `${fn}: ${JSON.stringify(n)} is not a valid header name`);
  return n;
}

function headerValue(v: Value, fn: string, pos: Pos): string {
  const t = scalar(v, fn, 2, pos);
  if (!HEADER_VALUE.test(t)) throw new DslError(pos, `${fn}: the value contains a line break, a control character or a character beyond U+00FF`);
  return t;
}

// ---- builtins --------------------------------------------------------------------------------

type Builtin = (f: Frame, a: Value[], pos: Pos) => Value;

const orNil = (v: string | undefined): Value => (v === undefined ? null : v);

function strOrNil(fn: string, g: (f: Frame, s: string, a: Value[], pos: Pos) => Value): Builtin {
  return (f, a, pos) => (a[0] === null ? null : g(f, str(a[0]!, fn, 1, pos), a, pos));
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(b: Uint8Array): string | null {
  try {
    return utf8.decode(b);
  } catch {
    return null;
  }
}

export function urlEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const isHex = (b: number | undefined) => b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));

/** `+` is a space, `%XX` a byte; a `%` not followed by two hex digits stays; invalid UTF-8 → nil. */
export function urlDecode(s: string): string | null {
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0x2b) out[n++] = 0x20;
    else if (b === 0x25 && isHex(src[i + 1]) && isHex(src[i + 2])) {
      out[n++] = parseInt(String.fromCharCode(src[i + 1]!, src[i + 2]!), 16);
      i += 2;
    } else out[n++] = b;
  }
  return decodeUtf8(out.subarray(0, n));
}

export function base64Decode(s: string): string | null {
  const t = s.length % 4 === 0 ? s : s + '='.repeat(4 - (s.length % 4));
  if (s.length % 4 === 1 || !B64.test(t)) return null;
  return decodeUtf8(Buffer.from(t, 'base64'));
}

export function toInt(v: Value): Value {
  if (typeof v === 'bigint') return v;
  if (typeof v !== 'string' || !/^[+-]?\d+$/.test(v)) return null;
  const n = BigInt(v);
  return n > INT_MAX || n < INT_MIN ? null : n;
}

const GLOBAL_IMPL: Record<string, Builtin> = {
  log: (f, a) => {
    f.s.log(toText(a[0]!));
    return null;
  },
  len: (_f, a, pos) => {
    const v = a[0]!;
    if (v === null) return 0n;
    if (typeof v === 'string') return BigInt(chars(v).length);
    if (Array.isArray(v)) return BigInt(v.length);
    throw new DslError(pos, `len: argument 1 must be a Str (got ${typeName(v)})`);
  },
  substr: strOrNil('substr', (_f, s, a, pos) => {
    const cs = chars(s);
    const clamp = (n: bigint) => Number(n < 0n ? 0n : n > BigInt(cs.length) ? BigInt(cs.length) : n);
    const start = clamp(int(a[1]!, 'substr', 2, pos));
    const end = clamp(int(a[2]!, 'substr', 3, pos));
    return start >= end ? '' : cs.slice(start, end).join('');
  }),
  to_int: (_f, a) => toInt(a[0]!),
  to_str: (f, a, pos) => checkedStr(f, toText(a[0]!), pos),
  to_upper: strOrNil('to_upper', (f, s, _a, pos) => checkedStr(f, s.toUpperCase(), pos)),
  to_lower: strOrNil('to_lower', (f, s, _a, pos) => checkedStr(f, s.toLowerCase(), pos)),
  base64_encode: strOrNil('base64_encode', (f, s, _a, pos) => checkedStr(f, Buffer.from(s, 'utf8').toString('base64'), pos)),
  base64_decode: strOrNil('base64_decode', (_f, s) => base64Decode(s)),
  url_encode: strOrNil('url_encode', (f, s, _a, pos) => checkedStr(f, urlEncode(s), pos)),
  url_decode: strOrNil('url_decode', (_f, s) => urlDecode(s)),
  time_now: (f) => BigInt(Math.floor(f.now() / 1000)),
};
for (const n of NOT_IMPLEMENTED) {
  GLOBAL_IMPL[n] = (_f, _a, pos) => {
    throw new DslError(pos, `${n} is not yet implemented`);
  };
}

const NS_IMPL: Record<string, Record<string, Builtin>> = {
  req: {
    header: (f, a, pos) => orNil(f.s.header(str(a[0]!, 'req.header', 1, pos))),
    has_header: (f, a, pos) => f.s.header(str(a[0]!, 'req.has_header', 1, pos)) !== undefined,
    header_names: (f) => f.s.headerNames(),
    method: (f) => f.s.method,
    path: (f) => f.s.path,
    uri: (f) => f.s.uri,
    host: (f) => f.s.host || null,
    query_string: (f) => f.s.queryString || null,
    content_type: (f) => orNil(f.s.header('content-type')),
    query: (f, a, pos) => orNil(f.s.query(str(a[0]!, 'req.query', 1, pos))),
    cookie: (f, a, pos) => orNil(f.s.cookie(str(a[0]!, 'req.cookie', 1, pos))),
    path_param: (f, a, pos) => orNil(f.s.params[str(a[0]!, 'req.path_param', 1, pos)]),
    client_ip: (f) => f.s.peerIp,
    remote_ip: (f) => f.s.clientIp,
    scheme: (f) => f.s.header('x-forwarded-proto') ?? f.s.header('x-scheme') ?? 'http',
    set_header: (f, a, pos) => {
      f.s.setHeader(headerName(a[0]!, 'req.set_header', pos), headerValue(a[1]!, 'req.set_header', pos));
      return null;
    },
    append_header: (f, a, pos) => {
      f.s.appendHeader(headerName(a[0]!, 'req.append_header', pos), headerValue(a[1]!, 'req.append_header', pos));
      return null;
    },
    remove_header: (f, a, pos) => {
      f.s.removeHeader(headerName(a[0]!, 'req.remove_header', pos));
      return null;
    },
    set_uri: (f, a, pos) => {
      const u = str(a[0]!, 'req.set_uri', 1, pos);
      if (!u || !URI_TEXT.test(u)) throw new DslError(pos, 'req.set_uri: the URI is empty or contains spaces or control characters');
      f.s.setUri(u);
      return null;
    },
    set_host: (f, a, pos) => {
      const h = str(a[0]!, 'req.set_host', 1, pos);
      if (!h || !URI_TEXT.test(h)) throw new DslError(pos, 'req.set_host: the host is empty or contains spaces or control characters');
      f.s.setHost(h);
      return null;
    },
    set_method: (f, a, pos) => {
      const m = str(a[0]!, 'req.set_method', 1, pos);
      if (!HEADER_NAME.test(m)) throw new DslError(pos, `req.set_method: ${JSON.stringify(m)} is not a valid method`);
      f.s.setMethod(m.toUpperCase());
      return null;
    },
  },
  resp: {
    set_header: (f, a, pos) => {
      f.s.setResponseHeader(headerName(a[0]!, 'resp.set_header', pos), headerValue(a[1]!, 'resp.set_header', pos));
      return null;
    },
    append_header: (f, a, pos) => {
      f.s.appendResponseHeader(headerName(a[0]!, 'resp.append_header', pos), headerValue(a[1]!, 'resp.append_header', pos));
      return null;
    },
    remove_header: (f, a, pos) => {
      f.s.removeResponseHeader(headerName(a[0]!, 'resp.remove_header', pos));
      return null;
    },
  },
  ctx: {
    get: (f, a, pos) => orNil(f.s.getVar(str(a[0]!, 'ctx.get', 1, pos))),
    set: (f, a, pos) => {
      const k = str(a[0]!, 'ctx.set', 1, pos);
      if (a[1] === null) f.s.removeVar(k);
      else f.s.setVar(k, scalar(a[1]!, 'ctx.set', 2, pos));
      return null;
    },
    remove: (f, a, pos) => {
      f.s.removeVar(str(a[0]!, 'ctx.remove', 1, pos));
      return null;
    },
  },
};

const STRING_METHODS: Record<string, (s: string, x: Value) => boolean> = {
  starts_with: (s, x) => typeof x === 'string' && s.startsWith(x),
  ends_with: (s, x) => typeof x === 'string' && s.endsWith(x),
  contains: (s, x) => typeof x === 'string' && s.includes(x),
};

// ---- compilation -----------------------------------------------------------------------------

function arithmetic(op: string, a: Value, b: Value, pos: Pos, f: Frame): Value {
  if (op === '+') {
    if (typeof a === 'bigint' && typeof b === 'bigint') return checkedInt(a + b, pos);
    if ((typeof a === 'string' || typeof b === 'string') && !Array.isArray(a) && !Array.isArray(b)) return checkedStr(f, toText(a) + toText(b), pos);
    throw new DslError(pos, `cannot add ${typeName(a)} and ${typeName(b)}`);
  }
  if (typeof a !== 'bigint' || typeof b !== 'bigint') throw new DslError(pos, `operator ${op} needs Int operands (got ${typeName(a)} and ${typeName(b)})`);
  if (op === '-') return checkedInt(a - b, pos);
  if (op === '*') return checkedInt(a * b, pos);
  if (b === 0n) throw new DslError(pos, 'division by zero');
  return checkedInt(a / b, pos);
}

function compare(op: string, a: Value, b: Value, pos: Pos): boolean {
  let c: number;
  if (typeof a === 'bigint' && typeof b === 'bigint') c = a < b ? -1 : a > b ? 1 : 0;
  else if (typeof a === 'string' && typeof b === 'string') c = compareStr(a, b);
  else throw new DslError(pos, `cannot compare ${typeName(a)} with ${typeName(b)} (${op} needs two Int or two Str)`);
  return op === '<' ? c < 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c >= 0;
}

export interface CompiledDsl {
  run(s: PluginSession, limits: RuntimeLimits, now?: () => number): Outcome;
}

export function compileProgram(checked: CheckedProgram): CompiledDsl {
  const { slots, regexes } = checked;

  function callArgs(args: Expr[]): (f: Frame, pos: Pos) => Value[] {
    const fs = args.map(expr);
    const n = fs.length;
    return (f, pos) => {
      const out: Value[] = [];
      for (let i = 0; i < n; i++) {
        out.push(fs[i]!(f));
        hold(f, pos);
      }
      f.sp -= n;
      if (++f.calls > f.limits.maxCallCount) throw new DslError(pos, `call limit of ${f.limits.maxCallCount} exceeded`);
      return out;
    };
  }

  function expr(e: Expr): Eval {
    const pos = e.pos;
    switch (e.k) {
      case 'int':
      case 'str':
      case 'bool': {
        const v = e.v;
        return (f) => (tick(f, pos), v);
      }
      case 'nil':
        return (f) => (tick(f, pos), null);
      case 'var': {
        const slot = slots.get(e)!;
        return (f) => (tick(f, pos), f.locals[slot]!);
      }
      case 'unary': {
        const inner = expr(e.e);
        if (e.op === '!') return (f) => (tick(f, pos), !truthy(inner(f)));
        return (f) => {
          tick(f, pos);
          const v = inner(f);
          if (typeof v !== 'bigint') throw new DslError(pos, `unary - needs an Int (got ${typeName(v)})`);
          return checkedInt(-v, pos);
        };
      }
      case 'binary': {
        const l = expr(e.l);
        const r = expr(e.r);
        const op = e.op;
        switch (op) {
          case '&&':
            return (f) => (tick(f, pos), truthy(l(f)) ? r(f) : false);
          case '||':
            return (f) => (tick(f, pos), truthy(l(f)) ? true : r(f));
          default: {
            const apply =
              op === '==' ? (a: Value, b: Value) => equal(a, b)
              : op === '!=' ? (a: Value, b: Value) => !equal(a, b)
              : op === '<' || op === '>' || op === '<=' || op === '>=' ? (a: Value, b: Value) => compare(op, a, b, pos)
              : undefined;
            return (f) => {
              tick(f, pos);
              const a = l(f);
              hold(f, pos);
              const b = r(f);
              f.sp--;
              return apply ? apply(a, b) : arithmetic(op, a, b, pos, f);
            };
          }
        }
      }
      case 'call': {
        const args = callArgs(e.args);
        const impl = e.ns ? NS_IMPL[e.ns]![e.name]! : GLOBAL_IMPL[e.name]!;
        return (f) => {
          tick(f, pos);
          return impl(f, args(f, pos), pos);
        };
      }
      case 'method': {
        const recv = expr(e.recv);
        const args = callArgs(e.args);
        if (e.name === 'matches') {
          const re = regexes.get(e)!;
          return (f) => {
            tick(f, pos);
            const s = recv(f);
            hold(f, pos);
            args(f, pos);
            f.sp--;
            return typeof s === 'string' && re.test(s);
          };
        }
        const m = STRING_METHODS[e.name]!;
        return (f) => {
          tick(f, pos);
          const s = recv(f);
          hold(f, pos);
          const [x] = args(f, pos);
          f.sp--;
          return typeof s === 'string' && m(s, x!);
        };
      }
    }
  }

  function block(list: Stmt[]): Exec {
    const fs = list.map(stmt);
    const n = fs.length;
    return (f) => {
      for (let i = 0; i < n; i++) {
        const r = fs[i]!(f);
        if (r) return r;
      }
      return undefined;
    };
  }

  function iterations(f: Frame, pos: Pos, n: number): void {
    if (n > f.limits.maxLoopIterations) throw new DslError(pos, `loop ran more than ${f.limits.maxLoopIterations} iterations (maxLoopIterations)`);
  }

  function stmt(s: Stmt): Exec {
    const pos = s.pos;
    switch (s.k) {
      case 'let':
      case 'assign': {
        const slot = slots.get(s)!;
        const v = expr(s.k === 'let' ? s.init : s.value);
        return (f) => {
          tick(f, pos);
          f.locals[slot] = v(f);
          return undefined;
        };
      }
      case 'if': {
        const branches = s.branches.map((b) => ({ cond: expr(b.cond), body: block(b.body) }));
        const otherwise = s.otherwise ? block(s.otherwise) : undefined;
        return (f) => {
          tick(f, pos);
          for (const b of branches) if (truthy(b.cond(f))) return b.body(f);
          return otherwise?.(f);
        };
      }
      case 'while': {
        const cond = expr(s.cond);
        const body = block(s.body);
        return (f) => {
          tick(f, pos);
          let n = 0;
          while (truthy(cond(f))) {
            iterations(f, pos, ++n);
            const r = body(f);
            if (r) return r;
          }
          return undefined;
        };
      }
      case 'forRange': {
        const from = expr(s.from);
        const to = expr(s.to);
        const body = block(s.body);
        const slot = slots.get(s)!;
        return (f) => {
          tick(f, pos);
          const a = from(f);
          const b = to(f);
          if (typeof a !== 'bigint' || typeof b !== 'bigint') throw new DslError(pos, `range bounds must be Int (got ${typeName(a)} and ${typeName(b)})`);
          let n = 0;
          for (let i = a; i < b; i++) {
            iterations(f, pos, ++n);
            tick(f, pos);
            f.locals[slot] = i;
            const r = body(f);
            if (r) return r;
          }
          return undefined;
        };
      }
      case 'forList': {
        const list = expr(s.list);
        const body = block(s.body);
        const slot = slots.get(s)!;
        return (f) => {
          tick(f, pos);
          const v = list(f);
          if (!Array.isArray(v)) throw new DslError(pos, `for ... in needs a list such as req.header_names() (got ${typeName(v as Value)})`);
          const items = [...(v as string[])];
          let n = 0;
          for (const item of items) {
            iterations(f, pos, ++n);
            tick(f, pos);
            f.locals[slot] = item;
            const r = body(f);
            if (r) return r;
          }
          return undefined;
        };
      }
      case 'return': {
        const call = s.value as Extract<Expr, { k: 'call' }>;
        if (call.name === 'next') {
          const outcome: Outcome = { kind: 'next' };
          return (f) => (tick(f, pos), outcome);
        }
        const args = callArgs(call.args);
        return (f) => {
          tick(f, pos);
          const [st, body] = args(f, call.pos);
          const status = typeof st === 'bigint' && st >= 100n && st <= 599n ? Number(st) : 500;
          return { kind: 'deny', status, body: body === null || body === undefined ? '' : toText(body) };
        };
      }
      case 'expr': {
        const e = expr(s.e);
        return (f) => {
          tick(f, pos);
          e(f);
          return undefined;
        };
      }
    }
  }

  const main = block(checked.program.body);
  const locals = checked.locals;
  const NEXT: Outcome = { kind: 'next' };
  return {
    run(s, limits, now = Date.now) {
      const f = new Frame(s, limits, now, locals);
      try {
        return main(f) ?? NEXT;
      } catch (err) {
        if (err instanceof DslError) throw err;
        throw new DslError({ line: 0, col: 0 }, `internal error: ${(err as Error).message}`);
      }
    },
  };
}
