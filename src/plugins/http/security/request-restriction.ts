// RequestRestriction (plugins.md §4.13, DECISIONS.md §35): rules over a request attribute (Header,
// Cookie, Query, Path, Method, Referer) with exact allow/deny lists and regexes. Per rule: a deny
// match denies; else, with allow lists, no allow match denies; else the rule allows. A missing value
// follows `onMissing`. matchMode Any denies when any rule denies; All only when every rule denies.
import { Type, type Static } from 'typebox';
import { definePlugin, type PluginProblem, type PluginSession } from '../../runtime/define-plugin.js';
import { compileUserRegex, regexError } from '../../../shared/regex.js';

const Source = Type.Union([Type.Literal('Header'), Type.Literal('Cookie'), Type.Literal('Query'), Type.Literal('Path'), Type.Literal('Method'), Type.Literal('Referer')]);
const Rule = Type.Object({
  name: Type.Optional(Type.String()),
  source: Source,
  key: Type.Optional(Type.String({ minLength: 1 })),
  allow: Type.Optional(Type.Array(Type.String())),
  allowRegex: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  deny: Type.Optional(Type.Array(Type.String())),
  denyRegex: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  caseSensitive: Type.Boolean({ default: true }),
  onMissing: Type.Union([Type.Literal('Allow'), Type.Literal('Deny'), Type.Literal('Skip')], { default: 'Allow' }),
});

const Schema = Type.Object({
  rules: Type.Array(Rule, { minItems: 1 }),
  matchMode: Type.Union([Type.Literal('Any'), Type.Literal('All')], { default: 'Any' }),
  status: Type.Integer({ minimum: 100, maximum: 599, default: 403 }),
  message: Type.String({ default: 'Access denied by restriction policy' }),
});

type RuleConfig = Static<typeof Rule>;

/** 'deny' | 'allow' | 'skip' */
type Verdict = 0 | 1 | 2;
const DENY: Verdict = 0;
const ALLOW: Verdict = 1;
const SKIP: Verdict = 2;

interface CompiledRule {
  label: string;
  read(s: PluginSession): string | undefined;
  fold: (v: string) => string;
  allow: Set<string> | undefined;
  allowRe: RegExp[];
  deny: Set<string> | undefined;
  denyRe: RegExp[];
  hasAllow: boolean;
  onMissing: Verdict;
}

function reader(r: RuleConfig): (s: PluginSession) => string | undefined {
  const key = r.key ?? '';
  switch (r.source) {
    case 'Header':
      return (s) => s.header(key);
    case 'Cookie':
      return (s) => s.cookie(key);
    case 'Query':
      return (s) => s.query(key);
    case 'Path':
      return (s) => s.path;
    case 'Method':
      return (s) => s.method;
    default:
      return (s) => s.header('referer');
  }
}

function compileRule(r: RuleConfig, i: number): CompiledRule {
  const fold = r.caseSensitive ? (v: string) => v : (v: string) => v.toLowerCase();
  const flags = r.caseSensitive ? '' : 'i';
  const set = (l: string[] | undefined) => (l && l.length ? new Set(l.map(fold)) : undefined);
  return {
    label: r.name ?? `rules[${i}]`,
    read: reader(r),
    fold,
    allow: set(r.allow),
    allowRe: (r.allowRegex ?? []).map((p) => compileUserRegex(p, flags)),
    deny: set(r.deny),
    denyRe: (r.denyRegex ?? []).map((p) => compileUserRegex(p, flags)),
    hasAllow: !!(r.allow?.length || r.allowRegex?.length),
    onMissing: r.onMissing === 'Deny' ? DENY : r.onMissing === 'Skip' ? SKIP : ALLOW,
  };
}

function verdict(rule: CompiledRule, s: PluginSession): Verdict {
  const raw = rule.read(s);
  if (raw === undefined || raw === '') return rule.onMissing;
  const v = rule.fold(raw);
  if (rule.deny?.has(v)) return DENY;
  for (const re of rule.denyRe) if (re.test(raw)) return DENY;
  if (!rule.hasAllow) return ALLOW;
  if (rule.allow?.has(v)) return ALLOW;
  for (const re of rule.allowRe) if (re.test(raw)) return ALLOW;
  return DENY;
}

export const RequestRestriction = definePlugin({
  type: 'RequestRestriction',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const problems: PluginProblem[] = [];
    c.rules.forEach((r, i) => {
      const at = `rules[${i}]`;
      if ((r.source === 'Header' || r.source === 'Cookie' || r.source === 'Query') && !r.key) {
        problems.push({ path: `${at}.key`, message: `key is required for source ${r.source}` });
      }
      if (!r.allow?.length && !r.allowRegex?.length && !r.deny?.length && !r.denyRegex?.length) {
        problems.push({ path: at, message: 'a rule needs at least one of allow, allowRegex, deny, denyRegex' });
      }
      for (const field of ['allowRegex', 'denyRegex'] as const) {
        (r[field] ?? []).forEach((p, j) => {
          const err = regexError(p);
          if (err) problems.push({ path: `${at}.${field}[${j}]`, message: err });
        });
      }
    });
    return problems;
  },
  create(c) {
    const rules = c.rules.map(compileRule);
    const all = c.matchMode === 'All';
    const body = JSON.stringify({ message: c.message });
    return {
      onRequest(s) {
        let denied = 0;
        let first: string | undefined;
        for (const rule of rules) {
          const v = verdict(rule, s);
          if (v === DENY) {
            first ??= rule.label;
            if (!all) break;
            denied++;
          } else if (v === ALLOW && all) {
            return undefined;
          }
        }
        const blocked = all ? denied === rules.length : first !== undefined;
        if (!blocked) return undefined;
        s.log(`denied by ${first}`);
        return { status: c.status, headers: { 'content-type': 'application/json' }, body, error: 'RequestRestricted' };
      },
    };
  },
});
