// Configuration builders for the auth plugins' end-to-end tests: resources as objects, written
// as YAML; one route per host, each with its own EdgionPlugins.
import { stringify } from 'yaml';
import { yaml as base } from '../../helpers/edgion.js';
import type { Res } from '../../helpers/http.js';

export const NS = 'default';

export function docs(...items: (object | string)[]): string {
  return items.map((d) => (typeof d === 'string' ? d : stringify(d))).join('---\n');
}

export function plugins(name: string, requestPlugins: object[]): object {
  return { apiVersion: 'edgion.io/v1', kind: 'EdgionPlugins', metadata: { name, namespace: NS }, spec: { requestPlugins } };
}

export const entry = (type: string, config: object, extra: object = {}) => ({ type, enable: true, config, ...extra });

export function route(name: string, host: string, pluginSet: string, backendPort: number): object {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: NS },
    spec: {
      parentRefs: [{ name: 'gw' }],
      hostnames: [host],
      rules: [{ filters: [{ type: 'ExtensionRef', extensionRef: { group: 'edgion.io', kind: 'EdgionPlugins', name: pluginSet } }], backendRefs: [{ name: 'echo', port: backendPort }] }],
    },
  };
}

/** A Secret with plain-text values (stringData). */
export function secretText(name: string, stringData: Record<string, string>, ns = NS): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type: 'Opaque', stringData };
}

/** A Secret with base64 `data` (binary-safe). */
export function secretData(name: string, data: Record<string, string | Buffer>, ns = NS): object {
  const enc: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) enc[k] = Buffer.from(v).toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type: 'Opaque', data: enc };
}

/** GatewayClass, Gateway with one HTTP listener, Service `echo`. */
export function baseConf(port: number, echoPort: number): string {
  return [base.gatewayClass(), base.gateway('gw', [{ name: 'http', port }]), base.service('echo', echoPort)].join('---\n');
}

/** A header as the echo backend received it. */
export function up(r: Res, name: string): string | undefined {
  const v = r.json?.headers?.[name.toLowerCase()];
  return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : String(v);
}

/** The `Accepted` condition of a resource. */
export async function accepted(api: (p: string) => Promise<Res>, kind: string, name: string): Promise<{ status: string; message: string } | undefined> {
  const st = await api(`/api/v1/resources/${kind}/${NS}/${name}`);
  return st.json?.status?.conditions?.find((c: { type: string }) => c.type === 'Accepted');
}
