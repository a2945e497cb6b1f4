// backendRefs → clusters. A cluster is one Service port with its endpoints (EndpointSlices, or the
// legacy Endpoints when a Service has no slices, or the external name of an ExternalName Service),
// its upstream protocol (Service port appProtocol) and its load-balancing and health settings.

import type { ClusterIR, EndpointIR, UpstreamProtocol, LbPolicyIR } from '../../ir/index.js';
import type { Obj, ResourceView, TranslateContext } from './context.js';
import { referenceAllowed, type RefFrom } from './reference-grants.js';
import { healthCheckFromAnnotations } from './health-checks.js';
import { backendTlsFor } from './backend-tls.js';

export type BackendProblemReason = 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound';

export interface ResolvedTarget {
  clusterKey?: string;
  namespace: string;
  name: string;
  port?: number;
  problem?: { reason: BackendProblemReason; message: string };
}

function protocolOf(appProtocol: unknown): UpstreamProtocol {
  const p = typeof appProtocol === 'string' ? appProtocol.toLowerCase() : '';
  if (p === 'kubernetes.io/h2c' || p === 'h2c' || p === 'grpc' || p === 'kubernetes.io/grpc') return 'h2c';
  if (p === 'kubernetes.io/ws' || p === 'ws' || p === 'kubernetes.io/wss' || p === 'wss') return 'ws';
  return 'http1';
}

/** The Service port a backendRef port names; a single unnamed port also matches. */
function servicePort(svc: Obj, port: number | undefined): Obj | undefined {
  const ports = ((svc.spec as Obj | undefined)?.ports ?? []) as Obj[];
  if (port === undefined) return ports[0];
  return ports.find((p) => Number(p.port) === port);
}

function endpointsFromSlices(ctx: TranslateContext, ns: string, svcName: string, portName: string | undefined, targetPort: number | undefined): EndpointIR[] | undefined {
  const slices = ctx.all('EndpointSlice').filter((s) => s.namespace === ns && (((s.obj.metadata as Obj | undefined)?.labels ?? {}) as Record<string, string>)['kubernetes.io/service-name'] === svcName);
  if (slices.length === 0) return undefined;
  const out: EndpointIR[] = [];
  for (const s of slices) {
    const ports = (s.obj.ports ?? []) as Obj[];
    // The slice port with the Service port's name; an unnamed Service port takes the slice's only/first port.
    let p = ports.find((x) => (x.name ?? '') === (portName ?? ''));
    if (!p && !portName && ports.length) p = ports[0];
    const port = p?.port !== undefined ? Number(p.port) : targetPort;
    if (port === undefined || !Number.isFinite(port)) continue;
    for (const ep of (s.obj.endpoints ?? []) as Obj[]) {
      const cond = (ep.conditions ?? {}) as Obj;
      // Kubernetes: an unset `ready` means unknown and consumers treat it as ready.
      const ready = cond.ready !== false && cond.terminating !== true;
      for (const address of (ep.addresses ?? []) as string[]) {
        out.push({ address, port, ready, ...(typeof ep.zone === 'string' ? { zone: ep.zone } : {}), ...(typeof ep.hostname === 'string' ? { hostname: ep.hostname } : {}) });
      }
    }
  }
  return out;
}

function endpointsFromEndpoints(ctx: TranslateContext, ns: string, svcName: string, portName: string | undefined): EndpointIR[] | undefined {
  const eps = ctx.get('Endpoints', ns, svcName);
  if (!eps) return undefined;
  const out: EndpointIR[] = [];
  for (const subset of (eps.obj.subsets ?? []) as Obj[]) {
    const ports = (subset.ports ?? []) as Obj[];
    let p = ports.find((x) => (x.name ?? '') === (portName ?? ''));
    if (!p && !portName && ports.length) p = ports[0];
    if (!p) continue;
    for (const a of (subset.addresses ?? []) as Obj[]) out.push({ address: String(a.ip), port: Number(p.port), ready: true });
    for (const a of (subset.notReadyAddresses ?? []) as Obj[]) out.push({ address: String(a.ip), port: Number(p.port), ready: false });
  }
  return out;
}

export function buildCluster(ctx: TranslateContext, svc: ResourceView, port: number | undefined, lb: LbPolicyIR | undefined): ClusterIR | string {
  const spec = (svc.obj.spec ?? {}) as Obj;
  const ns = svc.namespace ?? 'default';
  const sp = servicePort(svc.obj, port);
  if (port !== undefined && !sp && spec.type !== 'ExternalName') return `Service ${ns}/${svc.name} has no port ${port}`;
  const portName = sp?.name === undefined ? undefined : String(sp.name);
  const targetPort = typeof sp?.targetPort === 'number' ? sp.targetPort : port;
  let endpoints: EndpointIR[];
  if (spec.type === 'ExternalName' && typeof spec.externalName === 'string') {
    endpoints = [{ address: spec.externalName, port: targetPort ?? port ?? 80, ready: true }];
  } else {
    endpoints = endpointsFromSlices(ctx, ns, svc.name, portName, targetPort) ?? endpointsFromEndpoints(ctx, ns, svc.name, portName) ?? [];
  }
  const key = `${ns}/${svc.name}:${port ?? ''}`;
  const health = healthCheckFromAnnotations(ctx, svc, ns);
  const tls = backendTlsFor(ctx, ns, svc.name, portName);
  return {
    key,
    namespace: ns,
    name: svc.name,
    ...(port !== undefined ? { port } : {}),
    protocol: protocolOf(sp?.appProtocol),
    endpoints,
    lb: lb ?? { type: 'RoundRobin' },
    ...(health ? { healthCheck: health } : {}),
    ...(tls ? { tls } : {}),
  };
}

/**
 * Resolves a reference to a Service (backendRef, mirror target) from a route. Clusters are added
 * to `clusters`; problems carry the Gateway API reason for the route's ResolvedRefs condition.
 */
export function resolveServiceTarget(
  ctx: TranslateContext,
  from: RefFrom,
  ref: Obj,
  clusters: Record<string, ClusterIR>,
  lb?: LbPolicyIR,
): ResolvedTarget {
  const group = String(ref.group ?? '');
  const kind = String(ref.kind ?? 'Service');
  const namespace = String(ref.namespace ?? from.namespace);
  const name = String(ref.name);
  const port = ref.port === undefined || ref.port === null ? undefined : Number(ref.port);
  const base = { namespace, name, ...(port !== undefined ? { port } : {}) };
  if ((group !== '' && group !== 'core') || kind !== 'Service') {
    return { ...base, problem: { reason: 'InvalidKind', message: `backend kind ${group ? group + '/' : ''}${kind} is not supported (only core Service)` } };
  }
  if (!referenceAllowed(ctx, from, { group: '', kind: 'Service', namespace, name })) {
    return { ...base, problem: { reason: 'RefNotPermitted', message: `Service ${namespace}/${name} is in another namespace and no ReferenceGrant in ${namespace} allows ${from.kind} from ${from.namespace}` } };
  }
  const svc = ctx.get('Service', namespace, name);
  if (!svc) return { ...base, problem: { reason: 'BackendNotFound', message: `Service ${namespace}/${name} does not exist` } };
  const cluster = buildCluster(ctx, svc, port, lb);
  if (typeof cluster === 'string') return { ...base, problem: { reason: 'BackendNotFound', message: cluster } };
  const existing = clusters[cluster.key];
  if (!existing) clusters[cluster.key] = cluster;
  else if (lb && existing.lb.type === 'RoundRobin') existing.lb = lb; // the first explicit policy wins
  return { ...base, clusterKey: cluster.key };
}
