// GRPCRoute end to end: service/method/header matches, HTTP/2 to the backend, trailers passed
// through, backend errors passed through, gateway-made errors as gRPC status codes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../helpers/edgion.js';
import { freePort } from '../helpers/free-port.js';
import { startGrpcBackend, grpcCall, type GrpcBackend } from '../helpers/grpc.js';

let e: Edgion;
let g1: GrpcBackend;
let g2: GrpcBackend;
let port: number;
let dead: number;

before(async () => {
  [g1, g2] = await Promise.all([startGrpcBackend('g1'), startGrpcBackend('g2')]);
  port = await freePort();
  dead = await freePort();
  const grpcRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: echo, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["grpc.test"]
  rules:
    - matches: [{ method: { service: edgiontest.Echo, method: Unary } }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: { set: [{ name: x-route, value: exact }] }
      backendRefs: [{ name: g1, port: ${g1.port} }]
    - matches: [{ method: { service: edgiontest.Echo } }]
      backendRefs: [{ name: g2, port: ${g2.port} }]
    - matches: [{ method: { service: edgiontest.Admin }, headers: [{ name: x-admin, value: "yes" }] }]
      backendRefs: [{ name: g2, port: ${g2.port} }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: down, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["down.test"]
  rules:
    - backendRefs: [{ name: dead, port: ${dead} }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: regex, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["regex.test"]
  rules:
    - matches: [{ method: { type: RegularExpression, service: "edgiontest\\\\..*" } }]
      backendRefs: [{ name: g1, port: ${g1.port} }]
`;
  e = await Edgion.start({
    conf: {
      'all.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('g1', g1.port), yaml.service('g2', g2.port), yaml.service('dead', dead), grpcRoute].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await Promise.all([g1?.close(), g2?.close()]);
});

test('an exact service+method match wins and filters apply', async () => {
  const r = await grpcCall(port, 'Echo', 'Unary', 'hi', { authority: 'grpc.test' });
  assert.equal(r.ok, true, r.details ?? '');
  assert.equal(r.response.server, 'g1');
  assert.equal(r.response.message, 'Echo: hi');
  assert.equal(r.response.metadata['x-route'], 'exact');
  assert.equal(r.trailers?.['x-trailer'], 't-g1', 'response trailers pass through');
});

test('a service-only match takes the other methods', async () => {
  const r = await grpcCall(port, 'Echo', 'Other', 'x', { authority: 'grpc.test' });
  assert.equal(r.ok, true, r.details ?? '');
  assert.equal(r.response.server, 'g2');
});

test('header matches gate a rule; no match is UNIMPLEMENTED (12)', async () => {
  const ok = await grpcCall(port, 'Admin', 'Unary', 'x', { authority: 'grpc.test', metadata: { 'x-admin': 'yes' } });
  assert.equal(ok.ok, true, ok.details ?? '');
  const no = await grpcCall(port, 'Admin', 'Unary', 'x', { authority: 'grpc.test' });
  assert.equal(no.ok, false);
  assert.equal(no.code, 12);
});

test('backend errors pass through with their status', async () => {
  const r = await grpcCall(port, 'Echo', 'Unary', 'x', { authority: 'grpc.test', metadata: { 'x-fail': '1' } });
  assert.equal(r.code, 9);
  assert.match(r.details ?? '', /failing on request/);
});

test('an unreachable backend is UNAVAILABLE (14), not an HTML page', async () => {
  const r = await grpcCall(port, 'Echo', 'Unary', 'x', { authority: 'down.test' });
  assert.equal(r.ok, false);
  assert.equal(r.code, 14);
  assert.match(r.details ?? '', /cannot connect/);
});

test('a RegularExpression method match is rejected in the route status', async () => {
  const st = await e.api('/api/v1/resources/GRPCRoute/default/regex');
  const acc = st.json.status.parents[0].conditions.find((c: any) => c.type === 'Accepted');
  assert.equal(acc.status, 'False');
  assert.equal(acc.reason, 'UnsupportedValue');
  const r = await grpcCall(port, 'Echo', 'Unary', 'x', { authority: 'regex.test' });
  assert.equal(r.code, 12);
});
