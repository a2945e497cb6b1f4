// Syntax check of user-written regular expressions (RegularExpression path, header and query
// matches; plugin configs). JavaScript RegExp syntax; a leading `(?i)` is accepted for configs
// written for the original (RE2/PCRE style) and means the `i` flag (DECISIONS 35). Any other
// inline flag group is an error. The controller's semantic stage calls this; the schema stage
// does not (the CRDs leave regex syntax to implementations).

const LEADING_FLAGS = /^\(\?([a-zA-Z]+)\)/;
const INLINE_FLAGS = /\(\?(?:[a-zA-Z]+(?:-[a-zA-Z]*)?|-[a-zA-Z]+)[):]/;

/** The pattern as a JavaScript RegExp source and flags, or an error message. */
export function translateRegex(pattern: string): { source: string; flags: string } | { error: string } {
  let source = pattern;
  let flags = '';
  const lead = LEADING_FLAGS.exec(pattern);
  if (lead) {
    if (lead[1] !== 'i') return { error: `inline flag group "(?${lead[1]})" is not supported (only a leading "(?i)" is)` };
    source = pattern.slice(lead[0].length);
    flags = 'i';
  }
  const inline = INLINE_FLAGS.exec(source);
  if (inline) {
    const group = inline[0].endsWith(':') ? `${inline[0]}...)` : inline[0];
    return { error: `inline flag group "${group}" is not supported (only a leading "(?i)" is)` };
  }
  try {
    new RegExp(source, flags);
  } catch (err) {
    // V8: "Invalid regular expression: /a(/: Unterminated group" → "Unterminated group"
    return { error: (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') };
  }
  return { source, flags };
}

/** An error message when the pattern is not a valid regular expression, else undefined. */
export function checkRegex(pattern: string): string | undefined {
  const r = translateRegex(pattern);
  return 'error' in r ? `invalid regular expression ${JSON.stringify(pattern)}: ${r.error}` : undefined;
}

/** Compiles a pattern checked by checkRegex (throws with the same message otherwise). */
export function compileRegex(pattern: string, extraFlags = ''): RegExp {
  const r = translateRegex(pattern);
  if ('error' in r) throw new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${r.error}`);
  const flags = [...new Set(r.flags + extraFlags)].join('');
  return new RegExp(r.source, flags);
}
