// Diagnostic codes produced by src/api. Stable: status, logs and tests match on them.

export const DiagnosticCodes = {
  /** The document is not a resource object at all (a list, a string, ...). */
  notAResource: 'EDG_NOT_A_RESOURCE',
  /** `kind` is missing or names no kind the project loads. */
  unknownKind: 'EDG_UNKNOWN_KIND',
  /** `apiVersion` is missing, has the wrong group, or names a version that is not served. */
  apiVersion: 'EDG_API_VERSION',
  /** A value breaks the kind's OpenAPI schema (type, enum, required, range, pattern, duplicates). */
  schema: 'EDG_SCHEMA',
  /** A field the schema does not know (a warning: the API server drops such fields). */
  unknownField: 'EDG_UNKNOWN_FIELD',
  /** A CEL rule (x-kubernetes-validations) of the CRD is violated. */
  cel: 'EDG_CEL',
  /** metadata.namespace on a cluster-scoped kind (ignored, as the API server does). */
  clusterScoped: 'EDG_CLUSTER_SCOPED',
  /** The schema itself could not be loaded or compiled (a packaging bug, not a user error). */
  internal: 'EDG_INTERNAL',
} as const;

export type DiagnosticCode = (typeof DiagnosticCodes)[keyof typeof DiagnosticCodes];
