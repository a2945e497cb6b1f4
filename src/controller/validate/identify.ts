// From parsed YAML documents to identified, validated resources. Every problem becomes a
// Diagnostic naming file and line, `Kind namespace/name`, the field path and the reason.

import { findKind, validateResource, type SchemaValidator } from '../../api/index.js';
import type { Diagnostic } from '../../shared/diagnostics.js';
import type { ParsedDocument, ParsedFile } from '../source/yaml-documents.js';
import type { IncomingResource, Obj } from '../store/resource-store.js';
import { resourceKey } from '../store/resource-store.js';

/**
 * Extra semantic validation a kind may need beyond its schema (plugin configs, for example). It
 * may return a normalised copy of the value (plugin configs with their defaults applied).
 */
export type ExtraValidator = (kind: string, value: Obj) => { problems: { path: string; message: string; severity?: 'error' | 'warning' }[]; value?: Obj };

function pathArray(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const re = /([^[\]]+)|\[(\d+)\]|\["([^"]+)"\]/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(part))) {
      if (m[1] !== undefined) out.push(m[1]);
      else if (m[2] !== undefined) out.push(Number(m[2]));
      else if (m[3] !== undefined) out.push(m[3]);
    }
  }
  return out;
}

export interface IdentifyResult {
  resource?: IncomingResource;
  diagnostics: Diagnostic[];
}

export function identifyDocument(doc: ParsedDocument, validator: SchemaValidator, extra?: ExtraValidator): IdentifyResult {
  const loc = { file: doc.file, line: doc.line, doc: doc.index };
  const v = doc.value as Obj;
  const fail = (message: string, path?: string): IdentifyResult => ({
    diagnostics: [{ severity: 'error', code: 'EDG_INVALID', message, ...(path ? { path } : {}), location: { ...loc, ...(path ? { line: doc.lineOf(pathArray(path)) } : {}) } }],
  });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail('a document must be a mapping with apiVersion, kind and metadata');
  if (typeof v.kind !== 'string' || !v.kind) return fail('required field "kind" is missing', 'kind');
  if (typeof v.apiVersion !== 'string' || !v.apiVersion) return fail('required field "apiVersion" is missing', 'apiVersion');
  const info = findKind(v.kind);
  if (!info || info.kind !== v.kind) {
    return fail(info ? `unknown kind "${v.kind}" (did you mean "${info.kind}"?)` : `unknown kind "${v.kind}"`, 'kind');
  }
  const meta = (v.metadata ?? {}) as Obj;
  if (typeof meta.name !== 'string' || !meta.name) return fail(`${v.kind}: required field "metadata.name" is missing`, 'metadata');
  const namespace = info.namespaced ? (typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : 'default') : undefined;
  const name = meta.name;
  const ref = { kind: info.kind, ...(namespace ? { namespace } : {}), name };
  const withNs: Obj = info.namespaced ? { ...v, metadata: { ...meta, namespace } } : v;

  const { value, diagnostics: schemaDiags } = validateResource(validator, withNs);
  const diagnostics: Diagnostic[] = schemaDiags.map((d) => ({
    ...d,
    resource: d.resource ?? ref,
    location: { ...loc, line: d.path ? doc.lineOf(pathArray(d.path)) : doc.line },
  }));
  let validated = value as Obj;
  if (!diagnostics.some((d) => d.severity === 'error') && extra) {
    const x = extra(info.kind, validated);
    if (x.value) validated = x.value;
    for (const p of x.problems) {
      diagnostics.push({ severity: p.severity ?? 'error', code: 'EDG_INVALID', resource: ref, path: p.path, message: p.message, location: { ...loc, line: doc.lineOf(pathArray(p.path)) } });
    }
  }
  const ok = !diagnostics.some((d) => d.severity === 'error');
  return {
    resource: {
      kind: info.kind,
      namespace,
      name,
      source: { file: doc.file, doc: doc.index, line: doc.line, lineOf: doc.lineOf },
      current: withNs,
      validated: ok ? validated : undefined,
      diagnostics,
    },
    diagnostics,
  };
}

/**
 * Every document of every file, in path order. Two documents with the same identity: the later
 * one wins (files under `applied/`, written by the admin API, always win), and both are reported.
 */
export function identifyAll(files: ParsedFile[], validator: SchemaValidator, extra?: ExtraValidator): { resources: IncomingResource[]; diagnostics: Diagnostic[] } {
  const ordered = [...files.filter((f) => !f.file.startsWith('applied/')), ...files.filter((f) => f.file.startsWith('applied/'))];
  const byKey = new Map<string, IncomingResource>();
  const diagnostics: Diagnostic[] = [];
  for (const f of ordered) {
    for (const doc of f.documents) {
      const r = identifyDocument(doc, validator, extra);
      if (!r.resource) {
        diagnostics.push(...r.diagnostics);
        continue;
      }
      const key = resourceKey(r.resource.kind, r.resource.namespace, r.resource.name);
      const prev = byKey.get(key);
      if (prev) {
        const where = (x: IncomingResource) => `${x.source?.file}:${x.source?.line}`;
        diagnostics.push({
          severity: 'warning',
          code: 'EDG_DUPLICATE',
          resource: { kind: r.resource.kind, ...(r.resource.namespace ? { namespace: r.resource.namespace } : {}), name: r.resource.name },
          message: `defined twice: ${where(prev)} and ${where(r.resource)}; the second one is used`,
          location: { file: doc.file, line: doc.line, doc: doc.index },
        });
        byKey.delete(key);
      }
      byKey.set(key, r.resource);
    }
  }
  return { resources: [...byKey.values()], diagnostics };
}
