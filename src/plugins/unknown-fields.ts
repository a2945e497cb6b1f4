// Fields a plugin config carries that its schema does not know. The original ignores them (its
// config parsing drops unknown keys), so the same YAML must still be accepted; but a typo such as
// `hideCredential` silently doing nothing is the worst kind of misconfiguration, so each one is
// reported as a warning that reaches the resource's status and `edgion-ctl validate`.
// Schemas that set `additionalProperties: false` reject unknown fields outright (ajv does that).

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
  items?: Schema;
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Paths (relative to the config, dotted, `[i]` for items) of unknown fields. */
export function unknownFields(schema: Schema, value: unknown, path = ''): string[] {
  const out: string[] = [];
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => out.push(...unknownFields(schema.items!, v, `${path}[${i}]`)));
    return out;
  }
  if (!isObject(value)) return out;
  const props = schema.properties;
  const extra = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  const pattern = schema.patternProperties ? Object.values(schema.patternProperties)[0] : undefined;
  for (const [k, v] of Object.entries(value)) {
    const known = props?.[k];
    if (known) out.push(...unknownFields(known, v, at(k)));
    else if (extra ?? pattern) out.push(...unknownFields((extra ?? pattern)!, v, at(k)));
    else if (props && schema.additionalProperties === undefined) out.push(at(k));
  }
  return out;
}
