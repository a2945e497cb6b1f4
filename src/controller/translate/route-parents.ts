// Route attachment (resources.md §5): for each parentRef, the Gateway must exist and be ours, the
// listeners narrowed by sectionName and port must accept the route's kind and namespace, and
// (for kinds with hostnames) their hostnames must intersect the route's.

import type { RouteAttachmentIR } from '../../ir/index.js';
import type { Obj, ResourceView, TranslateContext } from './context.js';
import { GATEWAY_GROUP, type GatewayState, type ListenerState } from './gateways.js';
import { effectiveHostnames } from './hostnames.js';
import { selectorMatches, type LabelSelector } from './label-selector.js';

export interface ParentOutcome {
  /** The parentRef as written, with its defaults filled in (status.parents[].parentRef). */
  parentRef: Obj;
  accepted: boolean;
  reason: string;
  message: string;
  attachments: RouteAttachmentIR[];
  listeners: ListenerState[];
}

function namespaceAllowed(ctx: TranslateContext, l: ListenerState, gwNamespace: string, routeNamespace: string): boolean {
  switch (l.allowedNamespaces.from) {
    case 'All':
      return true;
    case 'Selector':
      return selectorMatches(l.allowedNamespaces.selector as LabelSelector | undefined, ctx.namespaceLabels(routeNamespace));
    case 'None':
      return false;
    default:
      return gwNamespace === routeNamespace;
  }
}

export function attachRoute(ctx: TranslateContext, route: ResourceView, kind: string, hostnames: string[] | undefined, gateways: Map<string, GatewayState>): ParentOutcome[] {
  const spec = (route.obj.spec ?? {}) as Obj;
  const routeNs = route.namespace ?? 'default';
  const out: ParentOutcome[] = [];
  const counted = new Set<ListenerState>();
  for (const ref of (spec.parentRefs ?? []) as Obj[]) {
    const parentRef: Obj = { group: ref.group ?? GATEWAY_GROUP, kind: ref.kind ?? 'Gateway', namespace: ref.namespace ?? routeNs, name: ref.name };
    if (ref.sectionName !== undefined) parentRef.sectionName = ref.sectionName;
    if (ref.port !== undefined) parentRef.port = ref.port;
    const fail = (reason: string, message: string): void => {
      out.push({ parentRef, accepted: false, reason, message, attachments: [], listeners: [] });
    };
    if (parentRef.group !== GATEWAY_GROUP || parentRef.kind !== 'Gateway') {
      fail('NoMatchingParent', `parent ${String(parentRef.group)}/${String(parentRef.kind)} is not supported (only Gateway)`);
      continue;
    }
    const gwKey = `${String(parentRef.namespace)}/${String(parentRef.name)}`;
    const gw = gateways.get(gwKey);
    if (!gw) {
      fail('NoMatchingParent', `Gateway ${gwKey} does not exist (or belongs to another controller)`);
      continue;
    }
    let candidates = gw.listeners;
    if (ref.sectionName !== undefined) candidates = candidates.filter((l) => l.ir.name === ref.sectionName);
    if (ref.port !== undefined) candidates = candidates.filter((l) => l.ir.port === Number(ref.port));
    if (candidates.length === 0) {
      const what = [ref.sectionName !== undefined ? `sectionName ${String(ref.sectionName)}` : '', ref.port !== undefined ? `port ${String(ref.port)}` : ''].filter(Boolean).join(' and ');
      fail('NoMatchingParent', `Gateway ${gwKey} has no listener with ${what || 'any name'}`);
      continue;
    }
    const byKind = candidates.filter((l) => l.kinds.includes(kind));
    if (byKind.length === 0) {
      fail('NotAllowedByListeners', `no listener of Gateway ${gwKey}${ref.sectionName ? ` (${String(ref.sectionName)})` : ''} accepts ${kind}`);
      continue;
    }
    const byNs = byKind.filter((l) => namespaceAllowed(ctx, l, gw.ir.namespace, routeNs));
    if (byNs.length === 0) {
      fail('NotAllowedByListeners', `listeners of Gateway ${gwKey} do not allow routes from namespace ${routeNs}`);
      continue;
    }
    const attachments: RouteAttachmentIR[] = [];
    const listeners: ListenerState[] = [];
    for (const l of byNs) {
      const hosts = hostnames === undefined ? ['*'] : effectiveHostnames(l.ir.hostname, hostnames);
      if (hosts.length === 0) continue;
      attachments.push({ gateway: gw.ir.key, listener: l.ir.name, port: l.ir.port, hostnames: hosts });
      listeners.push(l);
    }
    if (attachments.length === 0) {
      fail('NoMatchingListenerHostname', `no listener hostname of Gateway ${gwKey} intersects the route's hostnames (${(hostnames ?? []).join(', ')})`);
      continue;
    }
    for (const l of listeners) {
      if (counted.has(l)) continue;
      counted.add(l);
      l.attachedRoutes++;
    }
    out.push({ parentRef, accepted: true, reason: 'Accepted', message: 'Route accepted', attachments, listeners });
  }
  return out;
}
