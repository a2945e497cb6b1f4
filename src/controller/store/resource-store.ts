// The controller's view of every resource: the version on disk, the last version that passed
// validation (which keeps serving while a newer one is broken), and the metadata an API server
// would keep (generation, creationTimestamp, first-seen order; DECISIONS.md §12 and §15).

import { createHash } from 'node:crypto';
import type { Diagnostic } from '../../shared/diagnostics.js';

export type Obj = Record<string, unknown>;

export interface SourceRef {
  file: string;
  doc: number;
  line: number;
  lineOf?(path: (string | number)[]): number;
}

export interface StoredResource {
  kind: string;
  /** undefined for cluster-scoped kinds. */
  namespace: string | undefined;
  name: string;
  key: string;
  source: SourceRef | undefined;
  /** As written (no defaults), for display. */
  current: Obj;
  /** Validated, with CRD defaults applied, metadata filled in: what the translator uses. */
  good: Obj | undefined;
  /** Generation of `good`. */
  goodGeneration: number;
  /** Problems of the current version. */
  diagnostics: Diagnostic[];
  generation: number;
  creationTimestamp: string;
  order: number;
  specHash: string;
  status: Obj | undefined;
}

export interface IncomingResource {
  kind: string;
  namespace: string | undefined;
  name: string;
  source: SourceRef | undefined;
  current: Obj;
  /** undefined when validation failed. */
  validated: Obj | undefined;
  diagnostics: Diagnostic[];
}

export function resourceKey(kind: string, namespace: string | undefined, name: string): string {
  return namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}`;
}

/** What changes the generation: everything but metadata and status (as the API server does for spec). */
function contentHash(obj: Obj): string {
  const { metadata: _m, status: _s, ...rest } = obj;
  const meta = (obj.metadata ?? {}) as Obj;
  return createHash('sha1')
    .update(JSON.stringify(rest))
    .update(JSON.stringify({ labels: meta.labels ?? null, annotations: meta.annotations ?? null }))
    .digest('hex');
}

export class ResourceStore {
  private readonly byKey = new Map<string, StoredResource>();
  private nextOrder = 1;

  constructor(private readonly now: () => Date = () => new Date()) {}

  get(kind: string, namespace: string | undefined, name: string): StoredResource | undefined {
    return this.byKey.get(resourceKey(kind, namespace, name));
  }

  all(): StoredResource[] {
    return [...this.byKey.values()];
  }

  ofKind(kind: string): StoredResource[] {
    return this.all().filter((r) => r.kind === kind);
  }

  /**
   * Replaces the whole content with `incoming` (one full view of the source). Returns the keys that
   * were added, changed or removed.
   */
  sync(incoming: IncomingResource[]): { added: string[]; changed: string[]; removed: string[] } {
    const seen = new Set<string>();
    const added: string[] = [];
    const changed: string[] = [];
    for (const inc of incoming) {
      const key = resourceKey(inc.kind, inc.namespace, inc.name);
      seen.add(key);
      const prev = this.byKey.get(key);
      const hash = contentHash(inc.current);
      if (!prev) {
        const r: StoredResource = {
          kind: inc.kind,
          namespace: inc.namespace,
          name: inc.name,
          key,
          source: inc.source,
          current: inc.current,
          good: undefined,
          goodGeneration: 0,
          diagnostics: inc.diagnostics,
          generation: 1,
          creationTimestamp: this.now().toISOString(),
          order: this.nextOrder++,
          specHash: hash,
          status: undefined,
        };
        if (inc.validated) this.setGood(r, inc.validated);
        this.byKey.set(key, r);
        added.push(key);
        continue;
      }
      const contentChanged = prev.specHash !== hash;
      const diagChanged = JSON.stringify(prev.diagnostics) !== JSON.stringify(inc.diagnostics);
      prev.source = inc.source;
      prev.current = inc.current;
      prev.diagnostics = inc.diagnostics;
      if (contentChanged) {
        prev.generation++;
        prev.specHash = hash;
      }
      if (inc.validated && (contentChanged || !prev.good)) this.setGood(prev, inc.validated);
      if (contentChanged || diagChanged) changed.push(key);
    }
    const removed: string[] = [];
    for (const key of this.byKey.keys()) {
      if (!seen.has(key)) {
        this.byKey.delete(key);
        removed.push(key);
      }
    }
    return { added, changed, removed };
  }

  private setGood(r: StoredResource, validated: Obj): void {
    const meta = { ...((validated.metadata ?? {}) as Obj) };
    meta.generation = r.generation;
    meta.creationTimestamp = r.creationTimestamp;
    if (r.namespace) meta.namespace = r.namespace;
    meta.name = r.name;
    r.good = { ...validated, metadata: meta };
    r.goodGeneration = r.generation;
  }

  /** The resource as the admin API shows it: current content, metadata, status. */
  view(r: StoredResource): Obj {
    const meta: Obj = { ...((r.current.metadata ?? {}) as Obj), name: r.name, generation: r.generation, creationTimestamp: r.creationTimestamp };
    if (r.namespace) meta.namespace = r.namespace;
    const out: Obj = { ...r.current, metadata: meta };
    if (r.status) out.status = r.status;
    else delete out.status;
    return out;
  }
}
