// Valid resources of every kind, taken from reference/resources.md, tls.md, plugins.md and the
// acceptance suites' builders. Tests parse them and then break one field at a time.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const VALID_YAML = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: edgion
spec:
  controllerName: edgion.io/gateway-controller
  parametersRef:
    group: edgion.io
    kind: EdgionGatewayConfig
    name: default-gw-config
---
apiVersion: edgion.io/v1alpha1
kind: EdgionGatewayConfig
metadata:
  name: acc-gateway-config
spec:
  realIp:
    trustedIps: ["127.0.0.0/8", "10.0.0.0/8"]
    realIpHeader: X-Forwarded-For
  securityProtect:
    xForwardedForLimit: 256
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: public
  namespace: infra
  annotations:
    edgion.io/enable-http2: "true"
spec:
  gatewayClassName: edgion
  listeners:
    - name: http
      port: 80
      protocol: HTTP
      allowedRoutes:
        namespaces:
          from: All
    - name: https-shop
      port: 443
      protocol: HTTPS
      hostname: "*.shop.example"
      tls:
        mode: Terminate
        certificateRefs:
          - name: shop-wildcard-cert
      allowedRoutes:
        namespaces:
          from: Selector
          selector:
            matchLabels:
              team: shop
        kinds:
          - kind: HTTPRoute
    - name: https-edgiontls
      port: 8443
      protocol: HTTPS
      tls:
        mode: Terminate
        options:
          edgion.io/cert-provider: EdgionTls
    - name: redis
      port: 6379
      protocol: TCP
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: shop
  namespace: shop
  annotations:
    edgion.io/max-retries: "2"
spec:
  parentRefs:
    - name: public
      namespace: infra
      sectionName: https-shop
  hostnames: ["www.shop.example"]
  rules:
    - matches:
        - path: { type: PathPrefix, value: /api }
          method: POST
          headers:
            - { name: x-version, value: "2" }
          queryParams:
            - { type: RegularExpression, name: lang, value: "^(en|fr)$" }
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{ name: x-env, value: prod }]
        - type: ExtensionRef
          extensionRef: { group: edgion.io, kind: EdgionPlugins, name: shop-auth }
      backendRefs:
        - name: api-v2
          port: 8080
          weight: 90
        - name: api-v3
          port: 8080
          weight: 10
      timeouts:
        request: 30s
        backendRequest: 10s
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: greeter, namespace: apps }
spec:
  parentRefs: [{ name: public, namespace: infra, sectionName: http }]
  hostnames: ["grpc.example.com"]
  rules:
    - matches:
        - method: { type: Exact, service: helloworld.Greeter, method: SayHello }
          headers: [{ name: x-tenant, value: blue }]
      backendRefs:
        - { name: greeter, port: 50051 }
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata:
  name: redis
  namespace: infra
  annotations:
    edgion.io/edgion-stream-plugins: redis-allowlist
spec:
  parentRefs:
    - name: public
      sectionName: redis
  rules:
    - backendRefs:
        - { name: redis, port: 6379, weight: 1 }
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: { name: dns, namespace: infra }
spec:
  parentRefs: [{ name: public, sectionName: dns }]
  rules:
    - backendRefs: [{ name: coredns, port: 53 }]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata:
  name: db
  namespace: infra
  annotations:
    edgion.io/proxy-protocol: "v2"
    edgion.io/max-connect-retries: "2"
spec:
  parentRefs:
    - { name: public, sectionName: tls-db }
  hostnames: ["db.example.com"]
  rules:
    - backendRefs: [{ name: postgres, port: 5432 }]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: allow-shop, namespace: infra }
spec:
  from:
    - { group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop }
  to:
    - { group: "", kind: Service }
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata:
  name: payments-tls
  namespace: pay
spec:
  targetRefs:
    - group: ""
      kind: Service
      name: payments
  validation:
    hostname: payments.internal.example
    caCertificateRefs:
      - group: ""
        kind: Secret
        name: internal-ca
  options:
    edgion.io/client-certificate-ref: payments-client
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    team: shop
---
apiVersion: v1
kind: Service
metadata:
  name: api-v2
  namespace: shop
  annotations:
    edgion.io/health-check: "true"
spec:
  type: ClusterIP
  ports:
    - name: http
      port: 8080
      targetPort: 30001
      protocol: TCP
      appProtocol: http
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: api-v2-eps
  namespace: shop
  labels:
    kubernetes.io/service-name: api-v2
addressType: IPv4
ports:
  - { name: http, port: 30001, protocol: TCP }
endpoints:
  - addresses: ["127.0.0.1"]
    conditions: { ready: true }
---
apiVersion: v1
kind: Endpoints
metadata: { name: legacy, namespace: shop }
subsets:
  - addresses: [{ ip: 127.0.0.1 }]
    ports: [{ name: http, port: 30002, protocol: TCP }]
---
apiVersion: v1
kind: Secret
metadata: { name: api-keys, namespace: shop }
type: Opaque
data:
  keys.yaml: a2V5czogW10K
stringData:
  username: admin
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: shop }
data:
  mode: strict
---
apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata:
  name: api-guard
  namespace: shop
spec:
  requestPlugins:
    - type: KeyAuth
      config:
        secretRefs: [{ name: api-keys }]
    - type: RateLimit
      enable: true
      config: { rate: 100, interval: 1m, key: [{ type: header, name: apikey }] }
    - type: BasicAuth
      config: { secretRefs: [{ name: admins }] }
      conditions:
        skip:
          - type: keyExist
            key: { type: header, name: x-internal-token }
        run:
          - type: probability
            ratio: 0.25
            key: { type: clientIp }
  upstreamResponseFilterPlugins:
    - type: ResponseHeaderModifier
      config:
        set: [{ name: x-served-by, value: edge }]
  upstreamResponseBodyFilterPlugins:
    - type: BandwidthLimit
      config: { rate: 512kb }
---
apiVersion: edgion.io/v1
kind: EdgionStreamPlugins
metadata: { name: redis-allowlist, namespace: infra }
spec:
  plugins:
    - type: IpRestriction
      config:
        allow: ["10.0.0.0/8"]
        defaultAction: deny
  tlsRoutePlugins:
    - type: IpRestriction
      config:
        deny: ["10.9.0.0/16"]
---
apiVersion: edgion.io/v1
kind: EdgionTls
metadata:
  name: api-cert
  namespace: shop
  annotations:
    edgion.io/expose-client-cert: "true"
spec:
  parentRefs:
    - name: public
      namespace: infra
      sectionName: https
  hosts: ["api.shop.example", "*.api.shop.example"]
  secretRef:
    name: api-cert
  minTlsVersion: TLS1_2
  ciphers: ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"]
  clientAuth:
    mode: Mutual
    caSecretRef:
      name: partner-ca
    verifyDepth: 2
    allowedCns: ["*.partners.example"]
---
apiVersion: edgion.io/v1
kind: EdgionAcme
metadata:
  name: shop
  namespace: shop
spec:
  email: ops@shop.example
  domains: ["shop.example", "www.shop.example"]
  keyType: ecdsa-p256
  challenge:
    type: http-01
    http01:
      gatewayRef: { name: public, namespace: infra }
  renewal:
    renewBeforeDays: 30
  storage:
    secretName: shop-acme-cert
  autoEdgionTls:
    enabled: true
    parentRefs:
      - { name: public, namespace: infra, sectionName: https }
---
apiVersion: edgion.io/v1
kind: PluginMetaData
metadata: { name: blocked-agents, namespace: infra }
spec:
  regexList:
    items:
      - { key: "(?i)curl/", code: 403, priority: 1, id: curl, behavior: deny }
---
apiVersion: edgion.io/v1
kind: LinkSys
metadata: { name: main-redis, namespace: infra }
spec:
  type: redis
  config:
    endpoints: ["redis://10.0.0.5:6379"]
    db: 0
    timeout: { connect: 1000, read: 500, write: 500 }
`;

export type Json = Record<string, unknown>;

export function parseYaml(text: string): Json[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Json);
}

let parsed: Json[] | undefined;

/** A fresh copy of the valid fixture of `kind`. */
export function fixture(kind: string): Json {
  parsed ??= parseYaml(VALID_YAML);
  const doc = parsed.find((d) => d.kind === kind);
  if (!doc) throw new Error(`no fixture for ${kind}`);
  return structuredClone(doc);
}

/** The repository root (the folder holding package.json), found from this compiled file. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test file');
    dir = up;
  }
  return dir;
}

/** The reference CRD folder, or undefined when this checkout has none next to it. */
export function crdDir(): string | undefined {
  const dir = process.env.EDGION_CRDS_DIR || path.resolve(repoRoot(), '../shared/reference/crds');
  return fs.existsSync(dir) ? dir : undefined;
}

/** Sets a value at a dotted path with [i] indices, creating objects on the way. */
export function setPath(target: Json, dotted: string, value: unknown): Json {
  const keys = dotted.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '');
  let node: Record<string, unknown> | unknown[] = target;
  keys.forEach((k, i) => {
    const last = i === keys.length - 1;
    const key: string | number = /^\d+$/.test(k) && Array.isArray(node) ? Number(k) : k;
    const bag = node as Record<string | number, unknown>;
    if (last) {
      if (value === undefined) delete bag[key];
      else bag[key] = value;
      return;
    }
    if (bag[key] === undefined || bag[key] === null) bag[key] = /^\d+$/.test(keys[i + 1] ?? '') ? [] : {};
    node = bag[key] as Record<string, unknown>;
  });
  return target;
}

/** A fixture with some fields replaced (undefined deletes). */
export function variant(kind: string, changes: Record<string, unknown>): Json {
  const doc = fixture(kind);
  for (const [p, v] of Object.entries(changes)) setPath(doc, p, v);
  return doc;
}
