// Inputs of one translation and the indexes every stage shares. Built once per translation.

import type { Diagnostic } from '../../shared/diagnostics.js';
import type { PluginRegistry } from '../../plugins/registry.js';
import type { AcmeState } from '../acme/acme-types.js';
import type { Condition } from './conditions.js';
import { ConditionBuilder, conditionsOf } from './conditions.js';

export type Obj = Record<string, unknown>;

/** One resource as the translator sees it: its last valid version plus bookkeeping. */
export interface ResourceView {
  kind: string;
  namespace: string | undefined;
  name: string;
  key: string;
  obj: Obj;
  generation: number;
  /** Precedence among equals: first seen first (creationTimestamp, then file order). */
  order: number;
  /** Status written last time (for stable lastTransitionTime). */
  previousStatus: Obj | undefined;
}

export interface TranslateInput {
  resources: ResourceView[];
  /** Resources that exist but never had a valid version (references to them fail closed). */
  rejected?: { kind: string; namespace: string | undefined; name: string; reason: string; /** The invalid content, as read. */ obj?: Obj }[];
  controllerName: string;
  now: Date;
  /** Plugin registry (secret references of plugin configs); absent = plugins pass through. */
  plugins?: PluginRegistry;
  /** ACME service state by EdgionAcme `ns/name` (status, active HTTP-01 challenges). */
  acme?: Map<string, AcmeState>;
}

export function nsName(r: { namespace?: string | undefined; name: string }): string {
  return r.namespace ? `${r.namespace}/${r.name}` : r.name;
}

export class TranslateContext {
  readonly nowIso: string;
  readonly byKind = new Map<string, ResourceView[]>();
  private readonly index = new Map<string, ResourceView>();
  readonly statuses = new Map<string, Obj>();
  readonly diagnostics: Diagnostic[] = [];

  constructor(readonly input: TranslateInput) {
    this.nowIso = input.now.toISOString();
    const sorted = [...input.resources].sort((a, b) => a.order - b.order);
    for (const r of sorted) {
      let list = this.byKind.get(r.kind);
      if (!list) this.byKind.set(r.kind, (list = []));
      list.push(r);
      this.index.set(`${r.kind}|${r.namespace ?? ''}|${r.name}`, r);
    }
  }

  all(kind: string): ResourceView[] {
    return this.byKind.get(kind) ?? [];
  }

  get(kind: string, namespace: string | undefined, name: string): ResourceView | undefined {
    return this.index.get(`${kind}|${namespace ?? ''}|${name}`);
  }

  conditions(r: ResourceView, previous?: readonly Condition[]): ConditionBuilder {
    return new ConditionBuilder(this.nowIso, r.generation, previous ?? conditionsOf(r.previousStatus));
  }

  /** Labels of a namespace: its Namespace object's labels plus kubernetes.io/metadata.name. */
  namespaceLabels(ns: string): Record<string, string> {
    const obj = this.get('Namespace', undefined, ns)?.obj;
    const labels = ((obj?.metadata as Obj | undefined)?.labels ?? {}) as Record<string, string>;
    return { ...labels, 'kubernetes.io/metadata.name': ns };
  }

  warn(r: ResourceView, path: string, message: string, code = 'EDG_SEMANTIC'): void {
    this.diagnostics.push({ severity: 'warning', code, resource: { kind: r.kind, ...(r.namespace ? { namespace: r.namespace } : {}), name: r.name }, path, message });
  }

  error(r: ResourceView, path: string, message: string, code = 'EDG_SEMANTIC'): void {
    this.diagnostics.push({ severity: 'error', code, resource: { kind: r.kind, ...(r.namespace ? { namespace: r.namespace } : {}), name: r.name }, path, message });
  }
}

export function metaOf(obj: Obj): { labels: Record<string, string>; annotations: Record<string, string> } {
  const m = (obj.metadata ?? {}) as Obj;
  return { labels: (m.labels ?? {}) as Record<string, string>, annotations: (m.annotations ?? {}) as Record<string, string> };
}
