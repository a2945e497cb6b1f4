// One worker per core: every worker gets every snapshot; a worker that dies is restarted while
// the others keep serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../helpers/edgion.js';
import { startEcho, type EchoServer } from '../helpers/echo-server.js';
import { freePort } from '../helpers/free-port.js';
import { request, waitFor } from '../helpers/http.js';

let e: Edgion;
let a: EchoServer;
let port: number;

before(async () => {
  a = await startEcho('a');
  port = await freePort();
  const route = (path: string, name: string) => `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: ${name}, namespace: default }\nspec:\n  parentRefs: [{ name: gw }]\n  rules: [{ matches: [{ path: { value: ${path} } }], backendRefs: [{ name: a, port: ${a.port} }] }]\n`;
  e = await Edgion.start({ workers: 2, conf: { 'all.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('a', a.port), route('/', 'r')].join('---\n') } });
});

after(async () => {
  await e?.stop();
  await a?.close();
});

test('every worker applies every snapshot', async () => {
  e.writeConf('more.yaml', `apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: more, namespace: default }\nspec:\n  parentRefs: [{ name: gw }]\n  rules: [{ matches: [{ path: { value: /more } }], filters: [{ type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: x-more, value: "1" }] } }], backendRefs: [{ name: a, port: ${a.port} }] }]\n`);
  const st = await waitFor(async () => {
    const s = (await e.gatewayApi('/api/v1/status')).json;
    return s && s.workers.length === 2 && s.workers.every((w: any) => w.version === s.config.version) && s.config.version >= 2 ? s : undefined;
  });
  assert.ok(st, 'both workers on the latest version');
  // Many fresh connections land on both workers: all see the new route.
  for (let i = 0; i < 20; i++) assert.equal((await request({ port, host: 'x', path: '/more/x' })).headers['x-more'], '1');
});

test('a killed worker is restarted and traffic keeps flowing', async () => {
  const before = (await e.gatewayApi('/api/v1/status')).json.workers as { id: number; pid: number }[];
  process.kill(before[0]!.pid, 'SIGKILL');
  let failures = 0;
  for (let i = 0; i < 30; i++) if ((await request({ port, host: 'x', path: `/during/${i}` })).status !== 200) failures++;
  assert.ok(failures <= 2, `${failures} requests failed while a worker was down`);
  const after = await waitFor(async () => {
    const s = (await e.gatewayApi('/api/v1/status')).json;
    return s.workers.length === 2 && !s.workers.some((w: any) => w.pid === before[0]!.pid) && s.ready ? s : undefined;
  }, 10_000);
  assert.ok(after, 'a new worker replaced the dead one and applied the configuration');
  assert.match(e.processLog('gateway'), /gateway worker exited with code .*; restarting in \d+ ms/);
});
