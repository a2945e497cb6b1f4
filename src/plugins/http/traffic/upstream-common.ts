// What DirectEndpoint, DynamicInternalUpstream and DynamicExternalUpstream share: reading the
// value (`from` + optional `extract`) once per request with everything compiled in create().
import { Type } from 'typebox';
import type { PluginProblem, PluginSession } from '../../runtime/define-plugin.js';
import { compileKeyGet, keyGetProblems, KeyGetSchema, type KeyGet, type WebhookResolver } from '../../runtime/key-get.js';
import { compileUserRegex, regexError } from '../../../shared/regex.js';

export const ExtractSchema = Type.Object({
  regex: Type.String({ minLength: 1 }),
  group: Type.Integer({ minimum: 0, maximum: 99, default: 1 }),
});

export const FromFields = {
  from: KeyGetSchema,
  extract: Type.Optional(ExtractSchema),
};

export function fromProblems(c: { from: KeyGet; extract?: { regex: string; group: number } | undefined }): PluginProblem[] {
  const out: PluginProblem[] = [...keyGetProblems(c.from, 'from')];
  if (c.extract) {
    const err = regexError(c.extract.regex);
    if (err) out.push({ path: 'extract.regex', message: err });
    else {
      const groups = new RegExp(`${compileUserRegex(c.extract.regex).source}|`).exec('')!.length - 1;
      if (c.extract.group > groups) out.push({ path: 'extract.group', message: `the regex has ${groups} capture group(s); group ${c.extract.group} does not exist` });
    }
  }
  return out;
}

/** The request's value: the key, narrowed by `extract` (no match = missing). */
export function compileFrom(
  c: { from: KeyGet; extract?: { regex: string; group: number } | undefined },
  webhook?: WebhookResolver,
): (s: PluginSession) => string | undefined | Promise<string | undefined> {
  const get = compileKeyGet(c.from, webhook);
  if (!c.extract) return get;
  const re = compileUserRegex(c.extract.regex);
  const group = c.extract.group;
  const narrow = (v: string | undefined): string | undefined => {
    if (v === undefined) return undefined;
    const m = re.exec(v);
    const g = m?.[group];
    return g === undefined || g === '' ? undefined : g;
  };
  return (s) => {
    const v = get(s);
    return v instanceof Promise ? v.then(narrow) : narrow(v);
  };
}

export const badRequest = (why: string, error: string) => ({ status: 400, body: `400 Bad Request: ${why}`, error });
export const forbidden = (why: string, error: string) => ({ status: 403, body: `403 Forbidden: ${why}`, error });
