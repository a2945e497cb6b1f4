// Finding one resource by kind and name, shared by `get` and `delete`.
//
// Without -n the CLI does not guess "default" like kubectl: a local gateway usually
// has few namespaces, so it looks the name up in all of them and uses the one match,
// and refuses (usage error) when the name exists in several namespaces.

import type { ControllerApi } from './admin-client.js';
import type { Resource } from './admin-types.js';
import { cliError } from './errors.js';
import { kindNames, resolveKind, type KindInfo } from './kinds.js';

export function requireKind(input: string): KindInfo {
  const info = resolveKind(input);
  if (!info) {
    throw cliError('unknownKind', `unknown kind "${input}"`, {
      details: { kinds: kindNames() },
      hint: `Known kinds: ${kindNames().join(', ')}`,
    });
  }
  return info;
}

export function describeRef(kind: string, namespace: string | undefined | null, name: string): string {
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

export interface Found {
  resource: Resource;
  namespace: string | undefined;
}

/** The resource, or undefined when it does not exist. */
export async function findResource(
  api: ControllerApi,
  info: KindInfo,
  name: string,
  namespace: string | undefined,
): Promise<Found | undefined> {
  if (info.scope === 'Cluster') {
    const resource = await api.get(info.kind, undefined, name);
    return resource && { resource, namespace: undefined };
  }
  if (namespace) {
    const resource = await api.get(info.kind, namespace, name);
    return resource && { resource, namespace };
  }
  const matches = (await api.list(info.kind)).filter((r) => r.metadata?.name === name);
  if (matches.length > 1) {
    const namespaces = matches.map((r) => r.metadata?.namespace ?? 'default');
    throw cliError('ambiguousName', `${info.kind} "${name}" exists in namespaces ${namespaces.join(', ')}`, {
      details: { namespaces },
      hint: 'Pick one with -n NAMESPACE.',
    });
  }
  const match = matches[0];
  return match && { resource: match, namespace: match.metadata?.namespace ?? 'default' };
}

export function notFoundError(info: KindInfo, name: string, namespace: string | undefined) {
  const where = info.scope === 'Cluster' ? '' : namespace ? '' : ' in any namespace';
  return cliError('notFound', `${describeRef(info.kind, info.scope === 'Cluster' ? undefined : namespace, name)} not found${where}`, {
    details: { kind: info.kind, namespace: namespace ?? null, name },
  });
}
