// The Dsl language (plugins.md §4.28): source → lexer → parser → checker → closures. Compile
// limits are fixed (as in the original); runtime limits come from the plugin's config.
import { DslError } from './ast.js';
import { check, DslCheckError, type CheckedProgram } from './checker.js';
import { compileProgram, type CompiledDsl } from './interpreter.js';
import { lex } from './lexer.js';
import { parse } from './parser.js';

export { DslError } from './ast.js';
export type { CompiledDsl, Outcome, RuntimeLimits } from './interpreter.js';

export const MAX_SOURCE_BYTES = 64 * 1024;

export type CompileResult =
  | { ok: true; program: CompiledDsl; stats: { nodes: number; instructions: number; locals: number; constants: number } }
  | { ok: false; errors: DslError[] };

export function compileDsl(source: string): CompileResult {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > MAX_SOURCE_BYTES) return { ok: false, errors: [new DslError({ line: 1, col: 1 }, `source is ${bytes} bytes, over the limit of ${MAX_SOURCE_BYTES} (64 KiB)`)] };
  let checked: CheckedProgram;
  try {
    checked = check(parse(lex(source)));
  } catch (err) {
    if (err instanceof DslCheckError) return { ok: false, errors: err.errors };
    if (err instanceof DslError) return { ok: false, errors: [err] };
    throw err;
  }
  return {
    ok: true,
    program: compileProgram(checked),
    stats: { nodes: checked.program.nodes, instructions: checked.instructions, locals: checked.locals, constants: checked.constants },
  };
}
