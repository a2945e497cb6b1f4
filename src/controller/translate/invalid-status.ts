// Status of a resource whose current version failed validation: Accepted=False with every reason,
// and a note when an earlier valid generation keeps serving.

import type { Diagnostic } from '../../shared/diagnostics.js';
import type { Obj, StoredResource } from '../store/resource-store.js';
import { ConditionBuilder, conditionsOf } from './conditions.js';

const ROUTE_KINDS = new Set(['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute', 'UDPRoute']);

export function invalidStatus(r: StoredResource, errors: Diagnostic[], now: Date, lastGoodStatus: Obj | undefined): Obj {
  const reasons = errors.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
  const serving = r.good ? ` (generation ${r.goodGeneration} keeps serving)` : '';
  const message = `rejected: ${reasons}${serving}`;
  if (ROUTE_KINDS.has(r.kind)) {
    const spec = (r.current.spec ?? {}) as Obj;
    const refs = Array.isArray(spec.parentRefs) ? (spec.parentRefs as Obj[]) : [];
    const prevParents = ((r.status?.parents ?? lastGoodStatus?.parents ?? []) as Obj[]);
    return {
      parents: refs.map((ref) => {
        const prev = prevParents.find((p) => JSON.stringify((p.parentRef as Obj | undefined)?.name) === JSON.stringify(ref.name));
        const c = new ConditionBuilder(now.toISOString(), r.generation, conditionsOf(prev));
        return {
          parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: r.namespace, ...ref },
          controllerName: 'edgion.io/gateway-controller',
          conditions: [c.make('Accepted', false, 'UnsupportedValue', message), c.make('ResolvedRefs', false, 'UnsupportedValue', message)],
        };
      }),
    };
  }
  const c = new ConditionBuilder(now.toISOString(), r.generation, conditionsOf(r.status));
  return { conditions: [c.make('Accepted', false, 'Invalid', message), c.make('Programmed', false, 'Invalid', message)] };
}
