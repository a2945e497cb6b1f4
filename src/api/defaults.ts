// What the Kubernetes API server does to a custom resource before validating it, in its order:
// 1. nulls of fields that are not nullable are dropped (`matches:` with nothing after it);
// 2. CRD `default:` values fill missing fields, recursively: a defaulted object gets its own
//    fields' defaults too (HTTPRoute `path: {value: /}` then gains `type: PathPrefix`).
// Defaults must exist before validation: ajv checks oneOf/anyOf before it fills defaults in
// `properties`, so a Gateway address without `type` would match both address forms.
// The input is never modified: the result is a fresh copy of every object and array.

import { allowsNull, isPlainObject, type SchemaNode } from './openapi.js';

export function pruneAndDefault(value: unknown, schema: SchemaNode | undefined): unknown {
  if (Array.isArray(value)) {
    const items = schema?.items;
    return value.map((v) => pruneAndDefault(v, items));
  }
  if (!isPlainObject(value)) return value;
  const props = schema?.properties;
  const extra = schema && typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const sub = props?.[k] ?? extra;
    if (v === null && sub && !allowsNull(sub)) continue;
    out[k] = pruneAndDefault(v, sub);
  }
  if (props) {
    for (const [k, sub] of Object.entries(props)) {
      if (sub.default !== undefined && !(k in out)) out[k] = pruneAndDefault(structuredClone(sub.default), sub);
    }
  }
  return out;
}
