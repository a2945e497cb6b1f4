// Kubernetes OpenAPI v3 (structural) schemas, and their translation into plain JSON Schema that
// ajv understands. Kubernetes extensions handled here:
//   nullable: true                        → the type also admits null
//   x-kubernetes-int-or-string: true      → type [integer, string]
//   x-kubernetes-preserve-unknown-fields  → no restriction on extra fields (ajv's default anyway)
//   x-kubernetes-list-type / -map-keys    → checked by a custom ajv keyword (list-type.ts)
//   x-kubernetes-validations (CEL)        → ignored here; ported by hand in cel-rules.ts
// Other x-kubernetes-* keys are annotations without effect on validation.

export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: boolean | SchemaNode;
  default?: unknown;
  nullable?: boolean;
  enum?: unknown[];
  required?: string[];
  [keyword: string]: unknown;
}

/** Marks objects whose unknown fields are reported as warnings (see SchemaValidatorOptions). */
export const UNKNOWN_FIELD_MARK = 'x-edgion-unknown-fields';
/** A readable message replacing the generic one of a pattern error on this node. */
export const MESSAGE_MARK = 'x-edgion-message';

export interface TranslateOptions {
  /** Add `additionalProperties: false` (reported as warnings) where the schema lists its fields. */
  warnUnknownFields: boolean;
  /** Keep the status schema; otherwise status is accepted as is (the API server ignores it on write). */
  validateStatus: boolean;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Whether null is an accepted value for this node (after translation). */
export function allowsNull(node: SchemaNode): boolean {
  return node.type === 'null' || (Array.isArray(node.type) && node.type.includes('null'));
}

function translateNode(node: SchemaNode, opts: TranslateOptions): SchemaNode {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' && v && typeof v === 'object') {
      raw.properties = Object.fromEntries(Object.entries(v as Record<string, SchemaNode>).map(([name, s]) => [name, translateNode(s, opts)]));
    } else if (k === 'default' || k === 'enum' || k === 'const' || k === 'x-kubernetes-validations') {
      raw[k] = v; // values, not schemas
    } else if (Array.isArray(v)) {
      raw[k] = v.map((s: unknown) => (s && typeof s === 'object' ? translateNode(s as SchemaNode, opts) : s));
    } else if (v && typeof v === 'object') {
      raw[k] = translateNode(v as SchemaNode, opts);
    } else {
      raw[k] = v;
    }
  }
  const out = raw as SchemaNode;
  if (out['x-kubernetes-int-or-string'] === true && out.type === undefined) out.type = ['integer', 'string'];
  if (out.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
    if (out.enum && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  delete out.nullable;
  if (
    opts.warnUnknownFields &&
    out.type === 'object' &&
    out.properties &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
    out[UNKNOWN_FIELD_MARK] = 'warn';
  }
  return out;
}

/** Translates a resource schema for ajv. The input is not modified. */
export function toAjvSchema(schema: SchemaNode, opts: TranslateOptions): SchemaNode {
  const out = translateNode(schema, opts);
  const props = { ...out.properties };
  // ObjectMeta lists only the fields the project reads; real manifests carry many more.
  if (schema.properties?.metadata) props.metadata = translateNode(schema.properties.metadata, { ...opts, warnUnknownFields: false });
  if (!opts.validateStatus && props.status) props.status = {};
  out.properties = props;
  return out;
}
