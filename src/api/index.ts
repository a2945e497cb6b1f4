// Public entry of the resource-kinds module: the kind registry, generated types, schema
// validation and the ported CEL rules. Semantic checks that need other resources (references,
// conflicts, regex syntax of match values) belong to the controller, not here.

import type { Diagnostic } from '../shared/diagnostics.js';
import { checkCelRules } from './cel-rules.js';
import { type SchemaResult, type SchemaValidator, type ValidateOptions, resourceRefOf } from './validate-schema.js';

export * from './kinds.js';
export type * from './generated/index.js';
export { SchemaValidator, resourceRefOf, type SchemaResult, type SchemaValidatorOptions, type ValidateOptions } from './validate-schema.js';
export { CEL_RULES, checkCelRules, parseGoDuration, type CelOptions, type CelRule } from './cel-rules.js';
export { checkRegex, compileRegex, translateRegex } from './regex.js';
export { DiagnosticCodes, type DiagnosticCode } from './codes.js';
export { formatPath, type PathSegment } from './paths.js';

export interface ResourceValidateOptions extends ValidateOptions {
  /** The previous version of the resource: enables CEL transition rules (immutable fields). */
  oldValue?: unknown;
}

/**
 * Schema validation, then (only when the schema pass found no error) the CRD's CEL rules.
 * `value` has nulls pruned and CRD defaults applied; `ok` is true when no diagnostic is an error.
 */
export function validateResource(validator: SchemaValidator, resource: unknown, options: ResourceValidateOptions = {}): SchemaResult {
  const result = validator.validateSchema(resource, options);
  if (!result.ok) return result;
  const cel = checkCelRules(result.kind.kind, result.value, { oldValue: options.oldValue, status: validator.validatesStatus });
  if (cel.length === 0) return result;
  const ref = resourceRefOf(result.value);
  const extra: Diagnostic[] = cel.map((d) => ({ ...d, ...(ref ? { resource: ref } : {}), ...(options.location ? { location: options.location } : {}) }));
  return { ok: false, value: result.value, kind: result.kind, diagnostics: [...result.diagnostics, ...extra] };
}
