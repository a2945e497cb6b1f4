// One word (or a few) that tells a user how a resource is doing, derived from its
// Gateway API conditions. Routes report conditions per parent (status.parents[*]),
// everything else in status.conditions.
//
//   Programmed                          every condition set is Programmed=True
//   Accepted                            Accepted=True, nothing False
//   Accepted (ResolvedRefs: <reason>)   accepted, but another condition is False
//   Rejected: <reason>                  Accepted=False (or Ready=False, e.g. ParseError)
//   Rejected: <reason> (1 of 2 parents) only some parents rejected the route
//   Pending                             conditions exist, none decided yet
//   -                                   no conditions (Service, Secret, ...)

import type { Condition, Resource } from './admin-types.js';

type Verdict =
  | { state: 'rejected'; reason: string }
  | { state: 'degraded'; type: string; reason: string }
  | { state: 'programmed' }
  | { state: 'accepted' }
  | { state: 'pending' };

/** The condition lists of a resource: one per route parent, or the resource's own. */
export function conditionSets(resource: Resource): Condition[][] {
  const status = resource.status;
  if (!status) return [];
  const parents = Array.isArray(status.parents) ? status.parents : [];
  const sets = parents.map((p) => (Array.isArray(p.conditions) ? p.conditions : [])).filter((c) => c.length > 0);
  if (sets.length > 0) return sets;
  return Array.isArray(status.conditions) && status.conditions.length > 0 ? [status.conditions] : [];
}

function judge(conditions: Condition[]): Verdict {
  const find = (type: string) => conditions.find((c) => c.type === type);
  const reasonOf = (c: Condition) => c.reason || c.message || 'unknown reason';
  const refusal = [find('Accepted'), find('Ready')].find((c) => c?.status === 'False');
  if (refusal) return { state: 'rejected', reason: reasonOf(refusal) };
  const failing = conditions.find((c) => c.status === 'False');
  const accepted = find('Accepted')?.status === 'True';
  if (failing) {
    return accepted ? { state: 'degraded', type: failing.type, reason: reasonOf(failing) } : { state: 'rejected', reason: reasonOf(failing) };
  }
  if (find('Programmed')?.status === 'True') return { state: 'programmed' };
  if (accepted) return { state: 'accepted' };
  return { state: 'pending' };
}

export function deriveStatus(resource: Resource): string {
  const sets = conditionSets(resource);
  if (sets.length === 0) return '-';
  const verdicts = sets.map(judge);
  const rejected = verdicts.filter((v): v is Extract<Verdict, { state: 'rejected' }> => v.state === 'rejected');
  if (rejected.length > 0) {
    const first = rejected[0]!;
    const share = rejected.length < verdicts.length ? ` (${rejected.length} of ${verdicts.length} parents)` : '';
    return `Rejected: ${first.reason}${share}`;
  }
  const degraded = verdicts.find((v): v is Extract<Verdict, { state: 'degraded' }> => v.state === 'degraded');
  if (degraded) return `Accepted (${degraded.type}: ${degraded.reason})`;
  if (verdicts.every((v) => v.state === 'programmed')) return 'Programmed';
  if (verdicts.some((v) => v.state === 'accepted' || v.state === 'programmed')) return 'Accepted';
  return 'Pending';
}

/** True when the derived status says the resource was rejected. */
export function isRejectedStatus(status: string): boolean {
  return status.startsWith('Rejected');
}
