// DynamicExternalUpstream end to end. Traffic only ever goes to 127.0.0.1: the gateway runs with
// EDGION_EXTERNAL_ALLOW_LOOPBACK=localhost, so "localhost" may resolve to loopback while every
// other domain resolving there (here the literal 127.0.0.1) is refused as in production.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, waitFor } from '../../helpers/http.js';
import { pluginsYaml, routeYaml } from '../../helpers/traffic.js';

let e: Edgion;
let a: EchoServer;
let tlsServer: https.Server | undefined;
let tlsPort = 0;
let port: number;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-ext-'));

before(async () => {
  a = await startEcho('a');
  port = await freePort();
  // A TLS backend for "localhost" signed by itself, trusted by the gateway through NODE_EXTRA_CA_CERTS.
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    tlsServer = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ tls: true, host: req.headers.host, servername: (req.socket as { servername?: string }).servername }));
    });
    await new Promise<void>((r) => tlsServer!.listen(0, '127.0.0.1', r));
    tlsPort = (tlsServer.address() as AddressInfo).port;
  } catch {
    tlsServer = undefined;
  }
  const domainMap = {
    eu: { domain: 'localhost', port: a.port, tls: false },
    us: { domain: 'localhost', port: a.port, tls: false, overrideHost: 'api.partner.example' },
    lit: { domain: '127.0.0.1', port: a.port, tls: false },
    sec: { domain: 'localhost', port: tlsPort || 1, sni: 'localhost' },
  };
  e = await Edgion.start({
    env: { EDGION_EXTERNAL_ALLOW_LOOPBACK: 'localhost', ...(tlsServer ? { NODE_EXTRA_CA_CERTS: cert } : {}) },
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('svc-a', a.port)].join('---\n'),
      'plugins.yaml': [
        pluginsYaml('ext', { request: [{ type: 'DynamicExternalUpstream', config: { from: { type: 'query', name: 'region' }, domainMap, onNoMatch: 'reject', debugHeader: true } }] }),
        pluginsYaml('ext-skip', { request: [{ type: 'DynamicExternalUpstream', config: { from: { type: 'header', name: 'x-region' }, extract: { regex: '^r-(\\w+)$' }, domainMap } }] }),
        pluginsYaml('ext-strict', { request: [{ type: 'DynamicExternalUpstream', config: { from: { type: 'header', name: 'x-region' }, domainMap, onMissing: 'reject' } }] }),
        pluginsYaml('bad', { request: [{ type: 'DynamicExternalUpstream', config: { from: { type: 'header', name: 'x' }, domainMap: { x: { domain: 'https://api.example/path' } } } }] }),
      ].join('---\n'),
      'routes.yaml': [
        routeYaml('ext', 'ext.test', 'ext', [{ name: 'svc-a', port: a.port }]),
        routeYaml('skip', 'skip.test', 'ext-skip', [{ name: 'svc-a', port: a.port }]),
        routeYaml('strict', 'strict.test', 'ext-strict', [{ name: 'svc-a', port: a.port }]),
        routeYaml('bad', 'bad.test', 'bad', [{ name: 'svc-a', port: a.port }]),
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await a?.close();
  tlsServer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the mapped domain serves the request with Host = domain (or overrideHost); debug header upstream', async () => {
  const r = await request({ port, host: 'ext.test', path: '/p?region=eu' });
  assert.equal(r.status, 200);
  assert.equal(r.json.headers.host, 'localhost');
  assert.equal(r.json.url, '/p?region=eu');
  assert.equal(r.json.headers['x-dynamic-external-upstream'], `localhost:${a.port}`);
  const us = await request({ port, host: 'ext.test', path: '/?region=us' });
  assert.equal(us.json.headers.host, 'api.partner.example');
  const log = await waitFor(async () => e.accessLog().find((l) => l.request_info?.host === 'ext.test' && l.request_info?.status === 200));
  assert.match(JSON.stringify(log), /_external_/);
});

test('TLS to the external domain with SNI and certificate verification', async (t) => {
  if (tlsServer === undefined && !process.env.CI) return t.skip('openssl is not installed');
  const r = await request({ port, host: 'ext.test', path: '/?region=sec' });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.json, { tls: true, host: 'localhost', servername: 'localhost' });
});

test('a domain resolving to loopback is refused (502) unless allowed', async () => {
  const r = await request({ port, host: 'ext.test', path: '/?region=lit' });
  assert.equal(r.status, 502);
  assert.match(r.body, /loopback/);
  assert.equal(a.seen.filter((s) => s.url === '/?region=lit').length, 0);
});

test('no match → 400 with reject; skip keeps the route backend; missing → 400 with reject', async () => {
  assert.equal((await request({ port, host: 'ext.test', path: '/?region=mars' })).status, 400);
  const skipped = await request({ port, host: 'skip.test', path: '/', headers: { 'x-region': 'r-mars' } });
  assert.equal(skipped.status, 200);
  assert.equal(skipped.json.headers.host, 'skip.test');
  const viaExtract = await request({ port, host: 'skip.test', path: '/', headers: { 'x-region': 'r-us' } });
  assert.equal(viaExtract.json.headers.host, 'api.partner.example');
  assert.equal((await request({ port, host: 'skip.test', path: '/' })).status, 200);
  assert.equal((await request({ port, host: 'strict.test', path: '/' })).status, 400);
});

test('a domain with a scheme is rejected with its path', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((x: { type: string }) => x.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.requestPlugins\[0\]\.config\.domainMap\.x\.domain/);
});
