// `edgion-ctl get`: list resources of a kind, or show one, from the controller.

import type { ControllerApi } from './admin-client.js';
import type { Resource } from './admin-types.js';
import { formatAge } from './age.js';
import { isRouteKind, type KindInfo } from './kinds.js';
import { findResource, notFoundError, requireKind } from './lookup.js';
import { deriveStatus } from './resource-status.js';
import { formatTable } from './table.js';

export const GET_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type GetFormat = (typeof GET_FORMATS)[number];

export interface GetOptions {
  kind: string;
  name?: string;
  namespace?: string;
  allNamespaces?: boolean;
}

export interface GetItem {
  kind: string;
  namespace: string | null;
  name: string;
  /** Derived from the conditions; see resource-status.ts. */
  status: string;
  age: string;
  createdAt: string | null;
  resource: Resource;
}

/** The `--json` result of `get`. */
export interface GetResult {
  kind: string;
  scope: KindInfo['scope'];
  /** The namespace asked for with -n; null for all namespaces or cluster-scoped kinds. */
  namespace: string | null;
  /** The NAME argument, null for a list. */
  name: string | null;
  items: GetItem[];
}

export async function getResources(api: ControllerApi, options: GetOptions, now: Date = new Date()): Promise<GetResult> {
  const info = requireKind(options.kind);
  const namespace = info.scope === 'Namespaced' && !options.allNamespaces ? options.namespace : undefined;
  let resources: Resource[];
  if (options.name) {
    const found = await findResource(api, info, options.name, namespace);
    if (!found) throw notFoundError(info, options.name, namespace);
    resources = [found.resource];
  } else {
    resources = sortResources(await api.list(info.kind, namespace));
  }
  return {
    kind: info.kind,
    scope: info.scope,
    namespace: namespace ?? null,
    name: options.name ?? null,
    items: resources.map((r) => toItem(info, r, now)),
  };
}

function toItem(info: KindInfo, resource: Resource, now: Date): GetItem {
  const createdAt = resource.metadata?.creationTimestamp ?? null;
  return {
    kind: info.kind,
    namespace: info.scope === 'Cluster' ? null : (resource.metadata?.namespace ?? 'default'),
    name: resource.metadata?.name ?? '<unnamed>',
    status: deriveStatus(resource),
    age: formatAge(createdAt ?? undefined, now),
    createdAt,
    resource,
  };
}

function sortResources(items: Resource[]): Resource[] {
  const key = (r: Resource) => `${r.metadata?.namespace ?? ''}\u0000${r.metadata?.name ?? ''}`;
  return [...items].sort((a, b) => key(a).localeCompare(key(b)));
}

/** Text for a format other than --json. YAML output loads the yaml library on demand. */
export async function renderGet(result: GetResult, format: GetFormat): Promise<string[]> {
  if (format === 'json' || format === 'yaml') {
    const value = result.name ? result.items[0]?.resource : { items: result.items.map((i) => i.resource) };
    if (format === 'json') return [JSON.stringify(value, null, 2)];
    const { stringify } = await import('yaml');
    return [stringify(value).trimEnd()];
  }
  if (result.items.length === 0) {
    return [result.namespace ? `No resources found in ${result.namespace} namespace.` : 'No resources found.'];
  }
  const namespaced = result.scope === 'Namespaced';
  const extra = format === 'wide' ? wideColumns(result.kind) : [];
  const headers = [...(namespaced ? ['NAMESPACE'] : []), 'NAME', 'STATUS', 'AGE', ...extra.map((c) => c.header)];
  const rows = result.items.map((item) => [
    ...(namespaced ? [item.namespace ?? ''] : []),
    item.name,
    item.status,
    item.age,
    ...extra.map((c) => c.value(item.resource) || '-'),
  ]);
  return formatTable(headers, rows);
}

interface WideColumn {
  header: string;
  value(resource: Resource): string;
}

function wideColumns(kind: string): WideColumn[] {
  if (isRouteKind(kind)) {
    return [
      { header: 'HOSTNAMES', value: (r) => strings(r.spec?.hostnames).join(',') || '*' },
      { header: 'PARENTS', value: (r) => parentRefs(r).join(',') },
      { header: 'BACKENDS', value: (r) => backendRefs(r).join(',') },
    ];
  }
  switch (kind) {
    case 'Gateway':
      return [
        { header: 'CLASS', value: (r) => str(r.spec?.gatewayClassName) },
        { header: 'ADDRESSES', value: (r) => records(r.spec?.addresses).map((a) => str(a.value)).join(',') },
        { header: 'LISTENERS', value: (r) => records(r.spec?.listeners).map((l) => `${str(l.name)}:${str(l.port)}/${str(l.protocol)}`).join(',') },
      ];
    case 'GatewayClass':
      return [{ header: 'CONTROLLER', value: (r) => str(r.spec?.controllerName) }];
    case 'Service':
      return [{ header: 'PORTS', value: (r) => records(r.spec?.ports).map((p) => `${str(p.port)}/${str(p.protocol) || 'TCP'}`).join(',') }];
    case 'EndpointSlice':
      return [{ header: 'ENDPOINTS', value: endpointList }];
    default:
      return [];
  }
}

function parentRefs(r: Resource): string[] {
  const ns = r.metadata?.namespace ?? 'default';
  return records(r.spec?.parentRefs).map((p) => {
    const section = p.sectionName ? `:${str(p.sectionName)}` : '';
    return `${str(p.namespace) || ns}/${str(p.name)}${section}`;
  });
}

function backendRefs(r: Resource): string[] {
  const names = new Set<string>();
  for (const rule of records(r.spec?.rules)) {
    for (const b of records(rule.backendRefs)) names.add(b.port ? `${str(b.name)}:${str(b.port)}` : str(b.name));
  }
  return [...names];
}

function endpointList(r: Resource): string {
  const ports = records(r.ports).map((p) => str(p.port));
  const addresses = records(r.endpoints).flatMap((e) => strings(e.addresses));
  const all = addresses.flatMap((a) => (ports.length ? ports.map((p) => `${a}:${p}`) : [a]));
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more` : all.join(',');
}

function records(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function str(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}
