// Dsl (plugins.md §4.28): a small sandboxed script run in the request stage. The language lives
// in ./dsl/ (lexer, parser, checker, interpreter); this file is the plugin: config schema, compile
// errors reported by the controller with line:column (a program that does not compile rejects the
// EdgionPlugins — stricter than the original, which dropped the plugin), runtime limits and the
// errorPolicy applied to runtime errors.
import { Type } from 'typebox';
import { definePlugin, PluginConfigError, type PluginProblem, type PluginReply } from '../../runtime/define-plugin.js';
import { compileDsl, type RuntimeLimits } from './dsl/index.js';

const Schema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'identifier for logs' }),
    source: Type.Optional(Type.String()),
    bytecode: Type.Optional(Type.String({ description: "the original's compiled form: not supported, give source" })),
    maxSteps: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
    maxLoopIterations: Type.Integer({ minimum: 1, maximum: 100_000, default: 100 }),
    maxCallCount: Type.Integer({ minimum: 1, maximum: 100_000, default: 500 }),
    maxStackDepth: Type.Integer({ minimum: 1, maximum: 1024, default: 128 }),
    maxStringLen: Type.Integer({ minimum: 1, maximum: 1024 * 1024, default: 8192 }),
    // Checked in validate() for clearer messages than a schema union gives.
    errorPolicy: Type.Unknown({ default: 'ignore', description: 'ignore | deny | {denyWith: {status, body?}}' }),
  },
);

type ErrorPolicy = 'ignore' | 'deny' | { denyWith: { status: number; body?: string } };

function policyProblems(p: unknown): PluginProblem[] {
  if (p === 'ignore' || p === 'deny') return [];
  if (typeof p === 'string') {
    const lower = p.charAt(0).toLowerCase() + p.slice(1);
    if (lower === 'ignore' || lower === 'deny' || lower === 'denyWith') return [{ path: 'errorPolicy', message: `"${p}" is not accepted: write ${lower === 'denyWith' ? '{denyWith: {status, body}}' : `"${lower}"`} (lowercase)` }];
    return [{ path: 'errorPolicy', message: `must be "ignore", "deny" or {denyWith: {status, body}} (got ${JSON.stringify(p)})` }];
  }
  if (p && typeof p === 'object' && !Array.isArray(p)) {
    const keys = Object.keys(p);
    const dw = (p as Record<string, unknown>).denyWith ?? (p as Record<string, unknown>).DenyWith;
    if (keys.length !== 1 || !('denyWith' in p)) return [{ path: 'errorPolicy', message: `an object errorPolicy must be {denyWith: {status, body}} (got keys ${keys.join(', ') || 'none'})${dw !== undefined ? ': write denyWith' : ''}` }];
    if (!dw || typeof dw !== 'object' || Array.isArray(dw)) return [{ path: 'errorPolicy.denyWith', message: 'must be an object {status, body?}' }];
    const d = dw as Record<string, unknown>;
    const out: PluginProblem[] = [];
    if (!Number.isInteger(d.status) || (d.status as number) < 100 || (d.status as number) > 599) out.push({ path: 'errorPolicy.denyWith.status', message: `must be an integer from 100 to 599 (got ${JSON.stringify(d.status)})` });
    if (d.body !== undefined && d.body !== null && typeof d.body !== 'string') out.push({ path: 'errorPolicy.denyWith.body', message: 'must be a string' });
    for (const k of Object.keys(d)) if (k !== 'status' && k !== 'body') out.push({ path: `errorPolicy.denyWith.${k}`, message: `unknown field "${k}"` });
    return out;
  }
  return [{ path: 'errorPolicy', message: `must be "ignore", "deny" or {denyWith: {status, body}} (got ${JSON.stringify(p)})` }];
}

export const Dsl = definePlugin({
  type: 'Dsl',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out = policyProblems(c.errorPolicy);
    if (c.source === undefined) {
      out.push(
        c.bytecode !== undefined
          ? { path: 'bytecode', message: "bytecode (the original's compiled form) is not supported: give the program as source" }
          : { path: '', message: 'source is required' },
      );
      return out;
    }
    if (c.bytecode !== undefined) out.push({ path: 'bytecode', message: 'bytecode is ignored; source is compiled', severity: 'warning' });
    const r = compileDsl(c.source);
    if (!r.ok) for (const e of r.errors) out.push({ path: 'source', message: e.message });
    return out;
  },
  create(c, deps) {
    const compiled = compileDsl(c.source ?? '');
    // The controller rejects programs that do not compile; this is a safety net (fails closed).
    if (!compiled.ok) throw new PluginConfigError(`Dsl ${c.name}: ${compiled.errors.map((e) => e.message).join('; ')}`);
    const program = compiled.program;
    const limits: RuntimeLimits = { maxSteps: c.maxSteps, maxLoopIterations: c.maxLoopIterations, maxCallCount: c.maxCallCount, maxStackDepth: c.maxStackDepth, maxStringLen: c.maxStringLen };
    const policy = c.errorPolicy as ErrorPolicy;
    const onError: PluginReply | undefined =
      policy === 'deny'
        ? { status: 500, body: 'DSL execution error', headers: { 'content-type': 'text/plain' }, error: 'DslError' }
        : typeof policy === 'object'
          ? { status: policy.denyWith.status, body: policy.denyWith.body ?? '', headers: { 'content-type': 'text/plain' }, error: 'DslError' }
          : undefined;
    const name = c.name;
    return {
      onRequest(s) {
        let out;
        try {
          out = program.run(s, limits, deps.now);
        } catch (err) {
          s.log(`${name}: ${(err as Error).message}`);
          return onError;
        }
        if (out.kind === 'next') return undefined;
        s.log(`${name}: deny ${out.status}`);
        return { status: out.status, body: out.body, headers: { 'content-type': 'text/plain' }, ...(out.status >= 400 ? { error: 'DslDeny' } : {}) };
      },
    };
  },
});
