// ReferenceGrant: a reference from namespace A to an object in namespace B is allowed when a
// ReferenceGrant in B lists `from {group, kind, namespace: A}` and a matching `to` (resources.md §7.7).

import type { TranslateContext, Obj } from './context.js';

const normGroup = (g: unknown): string => (g === undefined || g === null || g === 'core' ? '' : String(g));

export interface RefFrom {
  group: string;
  kind: string;
  namespace: string;
}

export interface RefTo {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export function referenceAllowed(ctx: TranslateContext, from: RefFrom, to: RefTo): boolean {
  if (from.namespace === to.namespace) return true;
  for (const grant of ctx.all('ReferenceGrant')) {
    if (grant.namespace !== to.namespace) continue;
    const spec = (grant.obj.spec ?? {}) as Obj;
    const froms = (spec.from ?? []) as Obj[];
    const tos = (spec.to ?? []) as Obj[];
    const fromOk = froms.some((f) => normGroup(f.group) === normGroup(from.group) && f.kind === from.kind && f.namespace === from.namespace);
    if (!fromOk) continue;
    const toOk = tos.some((t) => normGroup(t.group) === normGroup(to.group) && t.kind === to.kind && (t.name === undefined || t.name === null || t.name === '' || t.name === to.name));
    if (toOk) return true;
  }
  return false;
}
