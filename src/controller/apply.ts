// Apply and delete through the admin API in standalone mode: the change is written into the
// configuration folder (DIR/applied/<Kind>_<namespace>_<name>.yaml, one file per resource), so it
// survives a restart and shows in the folder; then the controller reloads at once.

import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { SchemaValidator } from '../api/index.js';
import type { Diagnostic } from '../shared/diagnostics.js';
import type { Controller } from './controller.js';
import type { FileSource } from './source/file-source.js';
import { parseYamlFile } from './source/yaml-documents.js';
import type { Obj } from './store/resource-store.js';
import { identifyDocument, type ExtraValidator } from './validate/identify.js';

export interface ApplyOutcome {
  kind: string;
  namespace?: string;
  name: string;
  action: 'created' | 'updated' | 'unchanged' | 'rejected';
  dryRun: boolean;
  file?: string;
  diagnostics: Diagnostic[];
}

export interface ApplyResult {
  results: ApplyOutcome[];
  /** Documents that could not even be identified (no kind, bad YAML...). */
  errors: Diagnostic[];
  snapshotVersion: number;
}

export function appliedFileName(kind: string, namespace: string | undefined, name: string): string {
  return `applied/${namespace ? `${kind}_${namespace}_${name}` : `${kind}__${name}`}.yaml`;
}

function stripServerFields(obj: Obj): Obj {
  const { status: _s, ...rest } = obj;
  const meta = { ...((rest.metadata ?? {}) as Obj) };
  for (const k of ['generation', 'creationTimestamp', 'resourceVersion', 'uid', 'managedFields']) delete meta[k];
  return { ...rest, metadata: meta };
}

export class Applier {
  constructor(
    private readonly controller: Controller,
    private readonly source: FileSource,
    private readonly validator: SchemaValidator,
    private readonly extra?: ExtraValidator,
  ) {}

  apply(body: string, dryRun: boolean): ApplyResult {
    const parsed = parseYamlFile('<request>', body);
    const errors: Diagnostic[] = parsed.errors.filter((e) => e.severity === 'error');
    const results: ApplyOutcome[] = [];
    const writes: { file: string; text: string }[] = [];
    for (const doc of parsed.documents) {
      const r = identifyDocument(doc, this.validator, this.extra);
      if (!r.resource) {
        errors.push(...r.diagnostics);
        continue;
      }
      const res = r.resource;
      const base = { kind: res.kind, ...(res.namespace ? { namespace: res.namespace } : {}), name: res.name, dryRun };
      if (!res.validated) {
        results.push({ ...base, action: 'rejected', diagnostics: r.diagnostics });
        continue;
      }
      const existing = this.controller.store.get(res.kind, res.namespace, res.name);
      const clean = stripServerFields(res.current);
      const file = appliedFileName(res.kind, res.namespace, res.name);
      const same = existing !== undefined && JSON.stringify(stripServerFields(existing.current)) === JSON.stringify(clean) && existing.diagnostics.every((d) => d.severity !== 'error');
      results.push({ ...base, action: same ? 'unchanged' : existing ? 'updated' : 'created', file, diagnostics: r.diagnostics });
      if (!same) writes.push({ file, text: `# written by the edgion admin API (apply)\n${stringify(clean)}` });
    }
    if (!dryRun && writes.length) {
      for (const w of writes) writeAtomic(path.join(this.source.dir, w.file), w.text);
      this.source.rescan();
      this.controller.reload('apply');
    }
    return { results, errors, snapshotVersion: this.controller.snapshot?.version ?? 0 };
  }

  /** Removes the resource from the folder: its applied/ file, or its document in a user's file. */
  delete(kind: string, namespace: string | undefined, name: string): { deleted: boolean; file?: string; snapshotVersion: number } {
    const r = this.controller.store.get(kind, namespace, name);
    if (!r || !r.source) return { deleted: false, snapshotVersion: this.controller.snapshot?.version ?? 0 };
    const abs = path.join(this.source.dir, r.source.file);
    const text = fs.readFileSync(abs, 'utf8');
    const parsed = parseYamlFile(r.source.file, text);
    const doc = parsed.documents.find((d) => d.index === r.source!.doc);
    const remaining = parsed.documents.filter((d) => d !== doc);
    if (!doc || remaining.length === 0) {
      fs.rmSync(abs, { force: true });
    } else {
      // Cut the document's text (and its `---` separator) out of the file, keeping the others as written.
      let start = doc.range[0];
      const before = text.lastIndexOf('---', start);
      if (before !== -1 && text.slice(before + 3, start).trim() === '') start = before;
      writeAtomic(abs, text.slice(0, start) + text.slice(doc.range[1]));
    }
    this.source.rescan();
    this.controller.reload('delete');
    return { deleted: true, file: r.source.file, snapshotVersion: this.controller.snapshot?.version ?? 0 };
  }
}

function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
