// The configuration `edgion-ctl up` serves when no --conf-dir is given: a Gateway on
// 127.0.0.1:8080 routing to the built-in echo backend, with filters a user can see
// working (a response header on every answer, a request header on /headers).
//
// Written to W/demo/ at each start. gateway.yaml and backend.yaml carry ports (the
// echo port is new at every start), so they are rewritten; routes.yaml is only
// written when missing, so edits to the routes survive a restart.

import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface DemoParams {
  /** Port of the echo backend on 127.0.0.1. */
  echoPort: number;
  /** Port of the demo Gateway's HTTP listener on 127.0.0.1. */
  listenerPort: number;
}

export interface DemoFile {
  name: string;
  text: string;
  /** false: keep the user's copy if the file exists. */
  overwrite: boolean;
}

export const DEMO_NAMESPACE = 'default';
export const DEMO_REQUEST_HEADER = 'x-demo-request';
export const DEMO_RESPONSE_HEADER = 'x-served-by';

export function demoFiles(params: DemoParams): DemoFile[] {
  const gateway = `# Demo of edgion-ctl up. Rewritten at every start (it holds the listener port).
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: edgion
spec:
  controllerName: edgion.io/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: demo
  namespace: ${DEMO_NAMESPACE}
spec:
  gatewayClassName: edgion
  addresses:
    - type: IPAddress
      value: 127.0.0.1
  listeners:
    - name: http
      protocol: HTTP
      port: ${params.listenerPort}
      allowedRoutes:
        namespaces:
          from: Same
`;
  const backend = `# Demo of edgion-ctl up. Rewritten at every start: the echo backend gets a new port each time.
apiVersion: v1
kind: Service
metadata:
  name: demo-echo
  namespace: ${DEMO_NAMESPACE}
spec:
  ports:
    - name: http
      port: 80
      targetPort: ${params.echoPort}
      protocol: TCP
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: demo-echo-1
  namespace: ${DEMO_NAMESPACE}
  labels:
    kubernetes.io/service-name: demo-echo
addressType: IPv4
endpoints:
  - addresses:
      - 127.0.0.1
    conditions:
      ready: true
ports:
  - name: http
    port: ${params.echoPort}
    protocol: TCP
`;
  const routes = `# Demo of edgion-ctl up. Edit me: changes reach the gateway within 2 seconds.
# (Kept across restarts; delete this file to get the original back.)
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: demo
  namespace: ${DEMO_NAMESPACE}
spec:
  parentRefs:
    - name: demo
  rules:
    # /headers: the gateway adds a request header; the echo backend shows it in its answer.
    - matches:
        - path:
            type: PathPrefix
            value: /headers
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            add:
              - name: ${DEMO_REQUEST_HEADER}
                value: added-by-edgion
        - type: ResponseHeaderModifier
          responseHeaderModifier:
            add:
              - name: ${DEMO_RESPONSE_HEADER}
                value: edgion
      backendRefs:
        - name: demo-echo
          port: 80
    # Everything else goes to the echo backend too, with a response header added.
    - matches:
        - path:
            type: PathPrefix
            value: /
      filters:
        - type: ResponseHeaderModifier
          responseHeaderModifier:
            add:
              - name: ${DEMO_RESPONSE_HEADER}
                value: edgion
      backendRefs:
        - name: demo-echo
          port: 80
`;
  return [
    { name: 'gateway.yaml', text: gateway, overwrite: true },
    { name: 'backend.yaml', text: backend, overwrite: true },
    { name: 'routes.yaml', text: routes, overwrite: false },
  ];
}

/** Writes the demo folder; returns the files written (kept files are not listed). */
export async function writeDemoConfig(dir: string, params: DemoParams): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const file of demoFiles(params)) {
    const target = path.join(dir, file.name);
    if (!file.overwrite && (await exists(target))) continue;
    await writeFile(target, file.text);
    written.push(target);
  }
  return written;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
