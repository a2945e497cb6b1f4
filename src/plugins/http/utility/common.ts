// Schema pieces shared by the utility plugins: header names and values a response can carry
// (a bad one would make Node throw when writing the response), Gateway API path modifiers.
import { Type, type Static } from 'typebox';
import type { PathModifier } from '../../../shared/path-rewrite.js';
import type { PluginProblem } from '../../runtime/define-plugin.js';

const MESSAGE = 'x-edgion-message';

/** RFC 7230 token, as the Gateway API HTTPHeaderName. */
export function headerName(options: { default?: string; description?: string } = {}) {
  return Type.String({
    maxLength: 256,
    pattern: "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$",
    [MESSAGE]: "must be a header name (letters, digits and !#$%&'*+-.^_`|~)",
    ...options,
  });
}
export const HeaderName = headerName();

/** Any text without control characters other than tab (no CR/LF: no header injection). */
export const HeaderValue = Type.String({
  maxLength: 4096,
  pattern: '^[^\\x00-\\x08\\x0a-\\x1f\\x7f]*$',
  [MESSAGE]: 'must not contain control characters (line breaks included)',
});

/** Gateway API HTTPPathModifier. */
export const PathModifierSchema = Type.Object(
  {
    type: Type.Enum(['ReplaceFullPath', 'ReplacePrefixMatch']),
    replaceFullPath: Type.Optional(Type.String({ maxLength: 1024, pattern: '^[^\\s\\x00-\\x1f\\x7f#]*$', [MESSAGE]: 'must be a path without spaces, control characters or #' })),
    replacePrefixMatch: Type.Optional(Type.String({ maxLength: 1024, pattern: '^[^\\s\\x00-\\x1f\\x7f?#]*$', [MESSAGE]: 'must be a path without spaces, control characters, ? or #' })),
  },
);

export type PathModifierConfig = Static<typeof PathModifierSchema>;

/** The Gateway API CEL rules of HTTPPathModifier, with their messages. */
export function pathModifierProblems(p: PathModifierConfig | undefined, path: string): PluginProblem[] {
  if (!p) return [];
  const out: PluginProblem[] = [];
  if (p.type === 'ReplaceFullPath' && p.replaceFullPath === undefined) out.push({ path, message: "replaceFullPath must be specified when type is set to 'ReplaceFullPath'" });
  if (p.replaceFullPath !== undefined && p.type !== 'ReplaceFullPath') out.push({ path, message: "type must be 'ReplaceFullPath' when replaceFullPath is set" });
  if (p.type === 'ReplacePrefixMatch' && p.replacePrefixMatch === undefined) out.push({ path, message: "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'" });
  if (p.replacePrefixMatch !== undefined && p.type !== 'ReplacePrefixMatch') out.push({ path, message: "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set" });
  return out;
}

/** The modifier in the shape of src/shared/path-rewrite.ts; a full path always starts with `/`. */
export function toPathModifier(p: PathModifierConfig | undefined): PathModifier | undefined {
  if (!p) return undefined;
  if (p.type === 'ReplaceFullPath') {
    const v = p.replaceFullPath ?? '/';
    return { type: 'ReplaceFullPath', value: v.startsWith('/') ? v : `/${v}` };
  }
  return { type: 'ReplacePrefixMatch', value: p.replacePrefixMatch ?? '/' };
}

/** RFC 1123 host name, as the Gateway API PreciseHostname. */
export const PreciseHostname = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  [MESSAGE]: 'must be a lower-case DNS host name (RFC 1123), without port or wildcard',
});

/** Duplicate header names (case-insensitive) in a list: the Gateway API's list-map rule. */
export function duplicateNames(list: readonly { name: string }[] | undefined, path: string): PluginProblem[] {
  const seen = new Map<string, number>();
  const out: PluginProblem[] = [];
  (list ?? []).forEach((h, i) => {
    const k = h.name.toLowerCase();
    const first = seen.get(k);
    if (first !== undefined) out.push({ path: `${path}[${i}].name`, message: `header "${h.name}" is already set by ${path}[${first}] (names are case-insensitive)` });
    else seen.set(k, i);
  });
  return out;
}
