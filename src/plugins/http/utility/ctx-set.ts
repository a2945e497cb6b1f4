// CtxSet (plugins.md §4.23): sets context variables that later plugins read (`{type: ctx}` keys,
// Dsl `ctx.get()`, templates). Each variable runs the pipeline
//   value | template | from  →  extract  →  transform  →  mapping  →  default
// in list order, so a variable may read the ones set before it. A value that ends up missing (or
// empty) leaves the variable unset. Everything is compiled once; a `webhook` key makes the plugin
// wait for the webhook, every other source is synchronous.
import { Type, type Static } from 'typebox';
import { compileUserRegex } from '../../../shared/regex.js';
import { definePlugin, type PluginProblem, type PluginSession } from '../../runtime/define-plugin.js';
import { compileKeyGet, keyGetProblems, KeyGetSchema, type KeyAccessor } from '../../runtime/key-get.js';
import { parseTemplate } from './template.js';

const Transform = Type.Object(
  {
    replace: Type.Optional(Type.Object({ pattern: Type.String({ minLength: 1 }), with: Type.String({ default: '' }) })),
    substring: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: 2, description: '[start, end]: character indices, end exclusive' })),
    case: Type.Optional(Type.Enum(['upper', 'lower'])),
    prefix: Type.Optional(Type.String()),
    suffix: Type.Optional(Type.String()),
    trim: Type.Optional(Type.Boolean()),
  },
);

const Var = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    value: Type.Optional(Type.String()),
    template: Type.Optional(Type.String()),
    from: Type.Optional(KeyGetSchema),
    extract: Type.Optional(Type.Object({ regex: Type.String({ minLength: 1 }), group: Type.Integer({ minimum: 0, default: 1 }) })),
    transform: Type.Optional(Transform),
    mapping: Type.Optional(Type.Object({ values: Type.Record(Type.String(), Type.String(), { default: {} }), default: Type.Optional(Type.String()) })),
    default: Type.Optional(Type.String()),
  },
);

const Schema = Type.Object({ vars: Type.Array(Var, { minItems: 1 }) });
type VarConfig = Static<typeof Var>;
type TransformConfig = Static<typeof Transform>;

const TRANSFORMS = ['replace', 'substring', 'case', 'prefix', 'suffix', 'trim'] as const;

function regexProblem(pattern: string, path: string): PluginProblem[] {
  try {
    compileUserRegex(pattern);
    return [];
  } catch (err) {
    return [{ path, message: `invalid regular expression: ${(err as Error).message}` }];
  }
}

function varProblems(v: VarConfig, p: string): PluginProblem[] {
  const out: PluginProblem[] = [];
  const sources = (['value', 'template', 'from'] as const).filter((k) => v[k] !== undefined);
  if (sources.length === 0) out.push({ path: p, message: 'one of value, template or from is required' });
  if (sources.length > 1) out.push({ path: p, message: `${sources.join(' and ')} are all given; only ${sources[0]} is used (priority: value, template, from)`, severity: 'warning' });
  if (v.template !== undefined) {
    try {
      parseTemplate(v.template);
    } catch (err) {
      out.push({ path: `${p}.template`, message: (err as Error).message });
    }
  }
  if (v.from) out.push(...keyGetProblems(v.from, `${p}.from`));
  if (v.extract) {
    out.push(...regexProblem(v.extract.regex, `${p}.extract.regex`));
    if (out.every((x) => x.path !== `${p}.extract.regex`)) {
      const groups = new RegExp(`${compileUserRegex(v.extract.regex).source}|`).exec('')!.length - 1;
      if (v.extract.group > groups) out.push({ path: `${p}.extract.group`, message: `the regex has ${groups} capture group${groups === 1 ? '' : 's'}; group ${v.extract.group} does not exist` });
    }
  }
  if (v.transform) {
    const present = TRANSFORMS.filter((k) => v.transform![k] !== undefined);
    if (present.length > 1) out.push({ path: `${p}.transform`, message: `only one transform applies: ${present[0]} (the others, ${present.slice(1).join(', ')}, are ignored)`, severity: 'warning' });
    if (v.transform.replace) out.push(...regexProblem(v.transform.replace.pattern, `${p}.transform.replace.pattern`));
  }
  return out;
}

type Step = (v: string) => string | undefined;

/** The first transform present (plugins.md: at most one is effective). */
function compileTransform(t: TransformConfig | undefined): Step | undefined {
  if (!t) return undefined;
  if (t.replace) {
    const re = compileUserRegex(t.replace.pattern, 'g');
    const w = t.replace.with;
    return (v) => v.replace(re, w);
  }
  if (t.substring) {
    const [a, b] = t.substring;
    // Character (code point) indices, end exclusive, JavaScript substring rules (DECISIONS §30).
    return (v) => {
      const chars = Array.from(v);
      const start = Math.min(a ?? 0, chars.length);
      const end = Math.min(b ?? chars.length, chars.length);
      return chars.slice(Math.min(start, end), Math.max(start, end)).join('');
    };
  }
  if (t.case) return t.case === 'upper' ? (v) => v.toUpperCase() : (v) => v.toLowerCase();
  if (t.prefix !== undefined) {
    const pre = t.prefix;
    return (v) => pre + v;
  }
  if (t.suffix !== undefined) {
    const suf = t.suffix;
    return (v) => v + suf;
  }
  if (t.trim) return (v) => v.trim();
  return undefined;
}

interface CompiledVar {
  name: string;
  source: (s: PluginSession) => string | undefined | Promise<string | undefined>;
  /** extract → transform → mapping → default, on the source value. */
  finish: (v: string | undefined) => string | undefined;
}

function compileVar(v: VarConfig, key: (k: NonNullable<VarConfig['from']>) => KeyAccessor): CompiledVar {
  let source: CompiledVar['source'];
  if (v.value !== undefined) {
    const value = v.value;
    source = () => value;
  } else if (v.template !== undefined) {
    const t = parseTemplate(v.template);
    source = (s) => t.render(s);
  } else {
    source = key(v.from!);
  }
  const steps: Step[] = [];
  if (v.extract) {
    const re = compileUserRegex(v.extract.regex);
    const g = v.extract.group;
    steps.push((x) => re.exec(x)?.[g]);
  }
  const t = compileTransform(v.transform);
  if (t) steps.push(t);
  if (v.mapping) {
    const table = new Map(Object.entries(v.mapping.values));
    const dflt = v.mapping.default;
    steps.push((x) => table.get(x) ?? dflt ?? x);
  }
  const fallback = v.default;
  return {
    name: v.name,
    source,
    finish(x) {
      let cur = x === '' ? undefined : x;
      for (const step of steps) {
        if (cur === undefined) break;
        cur = step(cur);
        if (cur === '') cur = undefined;
      }
      return cur ?? fallback;
    },
  };
}

export const CtxSet = definePlugin({
  type: 'CtxSet',
  stages: ['requestPlugins'],
  schema: Schema,
  validate: (c) => c.vars.flatMap((v, i) => varProblems(v, `vars[${i}]`)),
  create(c, deps) {
    const vars = c.vars.map((v) => compileVar(v, (k) => compileKeyGet(k, deps.webhook)));
    const apply = (s: PluginSession, cv: CompiledVar, raw: string | undefined) => {
      const value = cv.finish(raw);
      if (value !== undefined) s.setVar(cv.name, value);
    };
    const runFrom = (s: PluginSession, start: number): Promise<undefined> | undefined => {
      for (let i = start; i < vars.length; i++) {
        const cv = vars[i]!;
        const raw = cv.source(s);
        if (raw instanceof Promise) {
          return raw.then(
            (r) => {
              apply(s, cv, r);
              return runFrom(s, i + 1);
            },
            () => {
              apply(s, cv, undefined);
              return runFrom(s, i + 1);
            },
          );
        }
        apply(s, cv, raw);
      }
      return undefined;
    };
    return { onRequest: (s) => runFrom(s, 0) };
  },
});
