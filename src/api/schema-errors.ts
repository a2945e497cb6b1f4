// Turns ajv errors into one readable diagnostic per real problem:
// - the failed branches of anyOf/oneOf collapse into the clearest message (the branch that
//   failed for a reason other than "not this form", or a combined "must be A or B");
// - a wrong type hides every other complaint about the same value;
// - paths read `spec.rules[0].matches[1].path.type`; messages name the allowed values and what
//   was given.

import type { ErrorObject } from 'ajv';
import type { Diagnostic, Severity } from '../shared/diagnostics.js';
import { DiagnosticCodes } from './codes.js';
import { MESSAGE_MARK, UNKNOWN_FIELD_MARK } from './openapi.js';
import { joinPath, pointerToPath } from './paths.js';

interface Issue {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  message: string;
  /** Where the diagnostic points when it differs from instancePath (unknown fields). */
  path?: string;
  severity: Severity;
  code: string;
}

const DISCRIMINATORS = new Set(['enum', 'const', 'not']);

const FORMAT_NAMES: Record<string, string> = {
  'date-time': 'RFC 3339 date-time (like 2024-05-01T12:00:00Z)',
  date: 'date (YYYY-MM-DD)',
  time: 'time',
  ipv4: 'IPv4 address',
  ipv6: 'IPv6 address',
  uri: 'URI',
  'uri-reference': 'URI reference',
  hostname: 'hostname',
  email: 'email address',
  uuid: 'UUID',
  regex: 'regular expression',
};

/** A short rendering of a value for "(got ...)". */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  return String(v);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

function typeList(types: readonly string[]): string {
  const names = types.map((t) => TYPE_NAMES[t] ?? t);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function baseMessage(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  const got = `(got ${describeValue(e.data)})`;
  switch (e.keyword) {
    case 'required':
      return `required field "${String(p.missingProperty)}" is missing`;
    case 'additionalProperties':
      return `unknown field "${String(p.additionalProperty)}"`;
    case 'enum':
      return `must be one of: ${(p.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')} ${got}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)} ${got}`;
    case 'type': {
      const t = Array.isArray(e.schema) ? (e.schema as string[]) : [String(e.schema)];
      return `must be ${typeList(t)} ${got}`;
    }
    case 'format':
      return `must be a valid ${FORMAT_NAMES[String(p.format)] ?? String(p.format)} ${got}`;
    case 'pattern': {
      const custom = e.parentSchema?.[MESSAGE_MARK];
      return `${typeof custom === 'string' ? custom : `must match pattern ${String(p.pattern)}`} ${got}`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${String(p.comparison)} ${String(p.limit)} ${got}`;
    case 'minLength': {
      const limit = Number(p.limit);
      return limit === 1 ? 'must not be empty' : `must be at least ${plural(limit, 'character')} long ${got}`;
    }
    case 'maxLength':
      return `must be at most ${plural(Number(p.limit), 'character')} long (got ${typeof e.data === 'string' ? e.data.length : '?'})`;
    case 'minItems': {
      const limit = Number(p.limit);
      return limit === 1 ? 'must not be empty' : `must have at least ${plural(limit, 'item')} (got ${Array.isArray(e.data) ? e.data.length : '?'})`;
    }
    case 'maxItems':
      return `must have at most ${plural(Number(p.limit), 'item')} (got ${Array.isArray(e.data) ? e.data.length : '?'})`;
    case 'minProperties':
      return `must have at least ${plural(Number(p.limit), 'entry')}`.replace('entrys', 'entries');
    case 'maxProperties':
      return `must have at most ${plural(Number(p.limit), 'entry')}`.replace('entrys', 'entries');
    case 'uniqueItems':
      return `must not hold the same value twice (items ${String(p.j)} and ${String(p.i)} are equal)`;
    case 'multipleOf':
      return `must be a multiple of ${String(p.multipleOf)} ${got}`;
    case 'not':
      return `must not have this value ${got}`;
    case 'oneOf':
      return 'must match exactly one of the allowed forms (it matches several)';
    case 'anyOf':
      return 'does not match any of the allowed forms';
    case 'propertyNames': // message set by foldPropertyNames
    default: // includes x-kubernetes-list-type, whose keyword writes its own message
      return e.message ?? `is invalid (${e.keyword})`;
  }
}

function toIssue(e: ErrorObject): Issue {
  if (e.keyword === 'additionalProperties') {
    const field = String((e.params as { additionalProperty?: unknown }).additionalProperty);
    const warn = e.parentSchema?.[UNKNOWN_FIELD_MARK] === 'warn';
    return {
      instancePath: e.instancePath,
      schemaPath: e.schemaPath,
      keyword: e.keyword,
      message: baseMessage(e),
      path: field,
      severity: warn ? 'warning' : 'error',
      code: warn ? DiagnosticCodes.unknownField : DiagnosticCodes.schema,
    };
  }
  return { instancePath: e.instancePath, schemaPath: e.schemaPath, keyword: e.keyword, message: baseMessage(e), severity: 'error', code: DiagnosticCodes.schema };
}

/** Folds propertyNames failures into one issue per bad key: `invalid key "Foo Bar": ...`. */
function foldPropertyNames(errors: ErrorObject[]): ErrorObject[] {
  const out: ErrorObject[] = [];
  const nested = new Map<string, ErrorObject>(); // instancePath + key -> first failure on the key
  for (const e of errors) {
    if (e.propertyName !== undefined) {
      const id = `${e.instancePath}\0${e.propertyName}`;
      if (!nested.has(id)) nested.set(id, e);
    }
  }
  for (const e of errors) {
    if (e.propertyName !== undefined) continue;
    if (e.keyword === 'propertyNames') {
      const key = String((e.params as { propertyName?: unknown }).propertyName);
      const inner = nested.get(`${e.instancePath}\0${key}`);
      const why = inner ? baseMessage({ ...inner, data: key }).replace(/ \(got [^)]*\)$/, '') : 'is not allowed';
      out.push({ ...e, keyword: 'propertyNames', message: `invalid key ${JSON.stringify(key)}: ${why}` });
      continue;
    }
    out.push(e);
  }
  return out;
}

function isSimpleAlternative(i: Issue, at: string): boolean {
  return i.instancePath === at && (i.keyword === 'type' || i.keyword === 'format');
}

/** Collapses each failed anyOf/oneOf (innermost first) into the issues that explain it best. */
function collapseComposites(issues: Issue[], errors: ErrorObject[]): Issue[] {
  let list = issues;
  const composites = errors
    .filter((e) => (e.keyword === 'anyOf' || e.keyword === 'oneOf') && !(e.params as { passingSchemas?: unknown }).passingSchemas)
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const c of composites) {
    const self = list.find((i) => i.schemaPath === c.schemaPath && i.instancePath === c.instancePath && i.keyword === c.keyword);
    if (!self) continue;
    const prefix = `${c.schemaPath}/`;
    const within = (p: string) => p === c.instancePath || p.startsWith(`${c.instancePath}/`);
    const children = list.filter((i) => i !== self && i.schemaPath.startsWith(prefix) && within(i.instancePath));
    const branches = new Map<string, Issue[]>();
    for (const i of children) {
      const b = i.schemaPath.slice(prefix.length).split('/')[0] ?? '';
      branches.set(b, [...(branches.get(b) ?? []), i]);
    }
    let replacement: Issue[];
    const all = [...branches.values()];
    if (all.length > 0 && all.every((b) => b.length === 1 && isSimpleAlternative(b[0]!, c.instancePath))) {
      // "must be an IPv4 address or an IPv6 address": one alternative per branch.
      const formats = all.filter((b) => b[0]!.keyword === 'format').map((b) => b[0]!.message.replace(/^must be a valid (.*) \(got .*\)$/, '$1'));
      const types = all.filter((b) => b[0]!.keyword === 'type').map((b) => b[0]!.message.replace(/^must be (.*) \(got .*\)$/, '$1'));
      const got = / \(got .*\)$/.exec(all[0]![0]!.message)?.[0] ?? '';
      const alternatives = [...(formats.length ? [`a valid ${formats.join(' or ')}`] : []), ...types];
      const text = alternatives.length > 1 ? `${alternatives.slice(0, -1).join(', ')} or ${alternatives[alternatives.length - 1]}` : alternatives[0];
      replacement = [{ ...self, keyword: types.length && !formats.length ? 'type' : c.keyword, message: `must be ${text}${got}` }];
    } else {
      // A branch that failed on a discriminator (an enum or `not` on the value or one of its
      // direct fields, or the wrong type) describes another form, not what the user meant.
      const depth = (p: string) => (p === '' ? 0 : p.split('/').length - 1);
      const base = depth(c.instancePath);
      const relevant = all.filter(
        (b) => !b.some((i) => (DISCRIMINATORS.has(i.keyword) && depth(i.instancePath) <= base + 1) || (i.keyword === 'type' && i.instancePath === c.instancePath)),
      );
      if (relevant.length > 0) replacement = relevant.reduce((best, b) => (b.length < best.length ? b : best));
      else replacement = [self];
    }
    list = list.filter((i) => i !== self && !children.includes(i));
    list.push(...replacement.map((r) => (r === self ? self : { ...r })));
  }
  return list;
}

/** A wrong type says it all: drop every other issue about the same value. */
function preferTypeErrors(issues: Issue[]): Issue[] {
  const typed = new Set(issues.filter((i) => i.keyword === 'type').map((i) => i.instancePath));
  const seenType = new Set<string>();
  return issues.filter((i) => {
    if (!typed.has(i.instancePath)) return true;
    if (i.keyword !== 'type' || seenType.has(i.instancePath)) return false;
    seenType.add(i.instancePath);
    return true;
  });
}

/** Position of every value in a depth-first walk: sorts issues in document order. */
function documentOrder(value: unknown): Map<string, number> {
  const order = new Map<string, number>();
  const walk = (v: unknown, pointer: string) => {
    order.set(pointer, order.size);
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, `${pointer}/${i}`));
    else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) walk(item, `${pointer}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`);
    }
  };
  walk(value, '');
  return order;
}

/** Readable diagnostics for ajv's errors on `value` (the data ajv validated). */
export function schemaDiagnostics(errors: readonly ErrorObject[], value: unknown): Diagnostic[] {
  const folded = foldPropertyNames([...errors]);
  const issues = folded.map(toIssue);
  const order = documentOrder(value);
  const rank = (i: Issue) => order.get(i.path !== undefined ? `${i.instancePath}/${i.path.replaceAll('~', '~0').replaceAll('/', '~1')}` : i.instancePath) ?? order.get(i.instancePath) ?? 0;
  const collapsed = preferTypeErrors(collapseComposites(issues, folded)).sort((a, b) => rank(a) - rank(b));
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const i of collapsed) {
    const base = pointerToPath(i.instancePath, value);
    const path = i.path !== undefined ? joinPath(base, i.path) : base;
    const id = `${path}\0${i.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ severity: i.severity, code: i.code, ...(path ? { path } : {}), message: i.message });
  }
  return out;
}
