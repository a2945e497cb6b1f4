// The ajv instance configuration shared by every kind: draft-07 style, all errors, no coercion,
// Kubernetes formats, and the list-type keyword the API server enforces.

import { Ajv, type ErrorObject, type SchemaValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { isPlainObject } from './openapi.js';

export const LIST_TYPE_KEYWORD = 'x-kubernetes-list-type';

export function createAjv(): Ajv {
  const ajv = new Ajv({
    strict: false, // x-kubernetes-* and other OpenAPI keys are annotations, not errors
    allErrors: true,
    useDefaults: true, // defaults.ts applied them already (see there why); this is a no-op safety net
    coerceTypes: false,
    verbose: true, // errors carry the schema and data, for readable messages
    unicodeRegExp: false, // CRD patterns are RE2 syntax; escapes like \- in classes need non-unicode mode
    validateSchema: false,
  });
  addFormats.default(ajv);
  // Kubernetes formats with no check of their own (int32/int64 are range hints; "byte" and
  // "duration" mean Go's base64 and time.Duration, which ajv-formats reads differently).
  for (const f of ['int32', 'int64', 'byte', 'duration', 'double', 'float']) ajv.addFormat(f, true);
  ajv.addKeyword({ keyword: 'x-kubernetes-list-map-keys', schemaType: 'array' });
  ajv.addKeyword({ keyword: LIST_TYPE_KEYWORD, type: 'array', schemaType: 'string', errors: true, validate: checkListType });
  return ajv;
}

function keyText(item: unknown, keys: readonly string[]): string {
  const parts = keys.map((k) => `${k} ${JSON.stringify(isPlainObject(item) ? item[k] : undefined) ?? '(unset)'}`);
  return parts.join(' and ');
}

/**
 * `x-kubernetes-list-type: map` lists may not hold two items with the same key fields, `set`
 * lists may not hold the same value twice (the API server rejects both as "Duplicate value").
 */
const checkListType: SchemaValidateFunction = (listType: string, data: unknown, parentSchema, dataCxt) => {
  if (!Array.isArray(data) || (listType !== 'map' && listType !== 'set')) return true;
  const keys = listType === 'map' ? ((parentSchema?.['x-kubernetes-list-map-keys'] as string[] | undefined) ?? []) : [];
  if (listType === 'map' && keys.length === 0) return true;
  const seen = new Map<string, number>();
  const errors: Partial<ErrorObject>[] = [];
  data.forEach((item, i) => {
    const id = listType === 'map' ? JSON.stringify(keys.map((k) => (isPlainObject(item) ? item[k] : undefined))) : JSON.stringify(item);
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, i);
      return;
    }
    const what = listType === 'map' ? `an entry with ${keyText(item, keys)}` : `the value ${JSON.stringify(item)}`;
    errors.push({
      keyword: LIST_TYPE_KEYWORD,
      instancePath: `${dataCxt?.instancePath ?? ''}/${i}`,
      message: `duplicate entry: ${what} is already at index ${first}`,
      params: { listType, duplicateOf: first },
    });
  });
  checkListType.errors = errors;
  return errors.length === 0;
};
