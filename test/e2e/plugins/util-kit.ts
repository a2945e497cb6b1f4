// Configuration builders for the utility plugins' end-to-end tests: JSON documents (valid YAML),
// one Gateway, one echo Service, EdgionPlugins and routes attached through ExtensionRef.
import { yaml } from '../../helpers/edgion.js';

export const doc = (o: unknown) => JSON.stringify(o, null, 1);
export const docs = (list: unknown[]) => list.map(doc).join('\n---\n');

export const ext = (name: string) => ({ type: 'ExtensionRef', extensionRef: { group: 'edgion.io', kind: 'EdgionPlugins', name } });

export function plugins(name: string, spec: Record<string, unknown>, namespace = 'default') {
  return { apiVersion: 'edgion.io/v1', kind: 'EdgionPlugins', metadata: { name, namespace }, spec };
}

export function route(name: string, host: string, backendPort: number, sets: string[], opts: { path?: string; pathType?: string; namespace?: string } = {}) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: opts.namespace ?? 'default' },
    spec: {
      parentRefs: [{ name: 'gw', namespace: 'default' }],
      hostnames: [host],
      rules: [{ matches: [{ path: { type: opts.pathType ?? 'PathPrefix', value: opts.path ?? '/' } }], filters: sets.map(ext), backendRefs: [{ name: 'echo', namespace: 'default', port: backendPort }] }],
    },
  };
}

/** GatewayClass, a Gateway with one HTTP listener, and the echo Service. */
export function base(port: number, echoPort: number): string {
  return [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('echo', echoPort)].join('---\n');
}

/** The condition of type `type` in a resource's status. */
export function condition(resource: any, type: string): { status: string; reason: string; message: string } | undefined {
  return resource?.status?.conditions?.find((c: any) => c.type === type);
}
