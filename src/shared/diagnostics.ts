// A configuration problem found while loading, validating or translating resources.
// Diagnostics are values, never exceptions: the controller collects them, reports
// them in status, logs and the admin API, and keeps serving the last good version.

export type Severity = 'error' | 'warning';

export interface SourceLocation {
  /** File path relative to the configuration folder (standalone mode). */
  file?: string;
  /** 1-based line of the document, or of the offending field when known. */
  line?: number;
  /** 0-based index of the document inside a multi-document file. */
  doc?: number;
}

export interface ResourceRef {
  kind: string;
  namespace?: string;
  name: string;
}

export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable code, e.g. EDG_SCHEMA, EDG_REF_NOT_FOUND. */
  code: string;
  /** The resource the problem belongs to, when it could be identified. */
  resource?: ResourceRef;
  /** Field path inside the resource, dotted with [i] indices: spec.rules[0].matches[1].path.type */
  path?: string;
  message: string;
  location?: SourceLocation;
}

export function refString(r: ResourceRef): string {
  return r.namespace ? `${r.kind} ${r.namespace}/${r.name}` : `${r.kind} ${r.name}`;
}

/** One line a human reads: `file:line: Kind ns/name: spec.x: reason`. */
export function formatDiagnostic(d: Diagnostic): string {
  const parts: string[] = [];
  if (d.location?.file) parts.push(d.location.line ? `${d.location.file}:${d.location.line}` : d.location.file);
  if (d.resource) parts.push(refString(d.resource));
  if (d.path) parts.push(d.path);
  parts.push(d.message);
  return (d.severity === 'warning' ? 'warning: ' : '') + parts.join(': ');
}

export function isError(d: Diagnostic): boolean {
  return d.severity === 'error';
}
