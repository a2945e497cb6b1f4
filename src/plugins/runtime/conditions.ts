// Plugin conditions (plugins.md §1.4): `skip` (any true → skip) and `run` (all true → run).
// Compiled once; evaluation may await a webhook key.

import { createHash } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { compileUserRegex } from '../../shared/regex.js';
import type { PluginSession } from './define-plugin.js';
import { compileKeyGet, describeKey, keyGetProblems, KeyGetSchema, type KeyAccessor, type WebhookResolver } from './key-get.js';

const CONDITION_TYPES = ['keyExist', 'keyMatch', 'timeRange', 'probability', 'include', 'exclude'];

const Condition = Type.Object(
  {
    // Optional here so that conditionProblems can explain the externally tagged form.
    type: Type.Optional(Type.Enum(CONDITION_TYPES)),
    key: Type.Optional(KeyGetSchema),
    value: Type.Optional(Type.String()),
    values: Type.Optional(Type.Array(Type.String())),
    regex: Type.Optional(Type.Array(Type.String())),
    after: Type.Optional(Type.String()),
    before: Type.Optional(Type.String()),
    ratio: Type.Optional(Type.Number()),
  },
  { additionalProperties: true },
);

export const ConditionsSchema = Type.Object({ skip: Type.Optional(Type.Array(Condition)), run: Type.Optional(Type.Array(Condition)) }, { additionalProperties: true });
export type Conditions = Static<typeof ConditionsSchema>;
type ConditionSpec = Static<typeof Condition>;

type Check = (s: PluginSession, now: number) => boolean | Promise<boolean>;
interface CompiledCondition {
  label: string;
  check: Check;
}

/** `prefix*`, `*suffix`, `*middle*`, `*`, or exact. */
function wildcard(pattern: string): (v: string) => boolean {
  if (pattern === '*') return () => true;
  const starts = pattern.startsWith('*');
  const ends = pattern.endsWith('*') && pattern.length > 1;
  const core = pattern.slice(starts ? 1 : 0, ends ? -1 : undefined);
  if (starts && ends) return (v) => v.includes(core);
  if (starts) return (v) => v.endsWith(core);
  if (ends) return (v) => v.startsWith(core);
  return (v) => v === pattern;
}

export function conditionProblems(c: Conditions | undefined, path: string): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const list of ['skip', 'run'] as const) {
    (c?.[list] ?? []).forEach((cond, i) => {
      const p = `${path}.${list}[${i}]`;
      if (cond.type === undefined) {
        const tagged = CONDITION_TYPES.find((t) => t in cond);
        out.push({ path: p, message: tagged ? `write "{type: ${tagged}, ...}" with the fields beside type (the form "- ${tagged}: {...}" is not accepted)` : 'required field "type" is missing' });
        return;
      }
      if (['keyExist', 'keyMatch', 'include', 'exclude'].includes(cond.type) && !cond.key) out.push({ path: p, message: `${cond.type} needs a key` });
      if (cond.key) out.push(...keyGetProblems(cond.key, `${p}.key`));
      if (cond.type === 'probability' && cond.ratio === undefined) out.push({ path: p, message: 'probability needs a ratio (0..1)' });
      if (cond.type === 'keyMatch' && cond.value === undefined && !cond.values?.length && !cond.regex?.length) out.push({ path: p, message: 'keyMatch needs value, values or regex' });
      for (const [j, r] of (cond.regex ?? []).entries()) {
        try {
          compileUserRegex(r);
        } catch (err) {
          out.push({ path: `${p}.regex[${j}]`, message: (err as Error).message });
        }
      }
      for (const f of ['after', 'before'] as const) {
        if (cond[f] !== undefined && Number.isNaN(Date.parse(cond[f]!))) out.push({ path: `${p}.${f}`, message: `not an RFC 3339 time: ${cond[f]}` });
      }
    });
  }
  return out;
}

function compileOne(c: ConditionSpec, webhook?: WebhookResolver): CompiledCondition {
  const key: KeyAccessor | undefined = c.key ? compileKeyGet(c.key, webhook) : undefined;
  const label = `${c.type}${c.key ? `,${describeKey(c.key)}` : ''}`;
  const withKey = (f: (v: string | undefined) => boolean): Check => (s) => {
    const v = key ? key(s) : undefined;
    return v instanceof Promise ? v.then(f) : f(v);
  };
  switch (c.type) {
    case 'keyExist':
      return { label, check: withKey((v) => v !== undefined) };
    case 'keyMatch': {
      // Any pattern matching (the original joins them with `|`); compiled one by one so each may
      // carry its own leading `(?i)`.
      const res = (c.regex ?? []).map((r) => compileUserRegex(r));
      const values = new Set(c.values ?? []);
      return { label, check: withKey((v) => v !== undefined && (v === c.value || values.has(v) || res.some((r) => r.test(v)))) };
    }
    case 'include':
    case 'exclude': {
      const pats = (c.values ?? []).map(wildcard);
      const res = (c.regex ?? []).map((r) => compileUserRegex(r));
      const hit = (v: string | undefined) => {
        const x = v ?? '';
        return pats.some((p) => p(x)) || res.some((r) => r.test(x));
      };
      return { label, check: withKey(c.type === 'include' ? hit : (v) => !hit(v)) };
    }
    case 'timeRange': {
      const after = c.after ? Date.parse(c.after) : NaN;
      const before = c.before ? Date.parse(c.before) : NaN;
      return { label, check: (_s, now) => (Number.isNaN(after) || now >= after) && (Number.isNaN(before) || now < before) };
    }
    case 'probability': {
      const ratio = Math.min(1, Math.max(0, c.ratio ?? 0));
      if (!key) return { label, check: () => Math.random() < ratio };
      return {
        label,
        check: withKey((v) => {
          if (v === undefined) return Math.random() < ratio;
          const h = createHash('sha1').update(v).digest().readBigUInt64BE(0);
          return Number(h) / 2 ** 64 < ratio;
        }),
      };
    }
    default:
      return { label, check: () => false };
  }
}

export interface CompiledConditions {
  /** undefined = run; otherwise the reason it is skipped (for the access log's `cond_skip`). */
  evaluate(s: PluginSession, now: number): string | undefined | Promise<string | undefined>;
}

export function compileConditions(c: Conditions | undefined, webhook?: WebhookResolver): CompiledConditions | undefined {
  if (!c || (!c.skip?.length && !c.run?.length)) return undefined;
  const skip = (c.skip ?? []).map((x) => compileOne(x, webhook));
  const run = (c.run ?? []).map((x) => compileOne(x, webhook));
  return {
    async evaluate(s, now) {
      for (const x of skip) if (await x.check(s, now)) return `skip:${x.label}`;
      for (const x of run) if (!(await x.check(s, now))) return `!run:${x.label}`;
      return undefined;
    },
  };
}
