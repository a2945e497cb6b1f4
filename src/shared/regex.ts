// User-written regular expressions (route matches, plugin configs). JavaScript RegExp syntax; a
// leading `(?i)` is accepted for configs written for the original (RE2/PCRE style) and means the
// `i` flag. Any other inline flag group is an error. Compiled once, in the compiler, never per request.

const INLINE_FLAGS = /^\(\?([a-zA-Z]+)\)/;

export function compileUserRegex(pattern: string, extraFlags = ''): RegExp {
  let source = pattern;
  let flags = extraFlags;
  const m = INLINE_FLAGS.exec(pattern);
  if (m) {
    if (m[1] !== 'i') throw new Error(`inline flag group "(?${m[1]})" is not supported (only a leading "(?i)" is)`);
    source = pattern.slice(m[0].length);
    if (!flags.includes('i')) flags += 'i';
  }
  if (/\(\?[a-zA-Z]+[):]/.test(source)) throw new Error('inline flag groups such as "(?s)" or "(?m:...)" are not supported');
  return new RegExp(source, flags);
}

/** The error message for a bad pattern, or undefined when it compiles. */
export function regexError(pattern: string): string | undefined {
  try {
    compileUserRegex(pattern);
    return undefined;
  } catch (err) {
    return `invalid regular expression "${pattern}": ${(err as Error).message}`;
  }
}
