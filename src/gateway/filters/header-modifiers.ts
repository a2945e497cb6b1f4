// Gateway API RequestHeaderModifier and ResponseHeaderModifier (resources.md §7.3): set, then add,
// then remove. Request `add` appends to an existing value with a comma; response `add` adds
// another header line.

import type { HeaderModifierIR } from '../../ir/index.js';
import type { RequestStep, ResponseHeaderStep, ResponseHeaders } from '../pipeline/steps.js';

export function requestHeaderModifier(f: HeaderModifierIR, name = 'RequestHeaderModifier'): RequestStep {
  const { set, add, remove } = f;
  return {
    name,
    run(ctx) {
      const h = ctx.upHeaders;
      for (let i = 0; i < set.length; i++) h.set(set[i]!.name, set[i]!.value);
      for (let i = 0; i < add.length; i++) h.append(add[i]!.name, add[i]!.value);
      for (let i = 0; i < remove.length; i++) h.remove(remove[i]!);
    },
  };
}

export function applyResponseModifier(f: HeaderModifierIR, headers: ResponseHeaders): void {
  for (const { name, value } of f.set) headers[name] = value;
  for (const { name, value } of f.add) {
    const cur = headers[name];
    if (cur === undefined) headers[name] = value;
    else if (Array.isArray(cur)) cur.push(value);
    else headers[name] = [cur, value];
  }
  for (const name of f.remove) delete headers[name];
}

export function responseHeaderModifier(f: HeaderModifierIR, name = 'ResponseHeaderModifier'): ResponseHeaderStep {
  return { name, run: (_ctx, _status, headers) => applyResponseModifier(f, headers) };
}
