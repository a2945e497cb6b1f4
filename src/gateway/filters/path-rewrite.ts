// Path rewriting shared by RequestRedirect and URLRewrite (Gateway API semantics, DECISIONS.md §4):
// ReplacePrefixMatch swaps the matched prefix on segment boundaries and never yields `//`.

import type { PathModifierIR } from '../../ir/index.js';

export function rewritePath(path: string, modifier: PathModifierIR, matchedPrefix: string | undefined): string {
  if (modifier.type === 'ReplaceFullPath') return modifier.value;
  const prefix = matchedPrefix ?? '';
  let rest = path.slice(prefix.length);
  let replacement = modifier.value;
  if (replacement.endsWith('/') && rest.startsWith('/')) rest = rest.slice(1);
  else if (!replacement.endsWith('/') && rest !== '' && !rest.startsWith('/')) rest = '/' + rest;
  if (replacement === '/' && rest !== '') replacement = '';
  const out = replacement + rest;
  if (out === '') return '/';
  return out.startsWith('/') ? out : '/' + out;
}
