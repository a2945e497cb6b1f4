// DynamicInternalUpstream end to end: rules and direct mode pick the backendRef (weight 0 too),
// debug request header, 400 for missing/no match with reject, 403 for a target that is not a
// backendRef of the rule, fallback, a rejected bad config.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { pluginsYaml, routeYaml } from '../../helpers/traffic.js';

let e: Edgion;
let a: EchoServer;
let c: EchoServer;
let port: number;
const di = (config: Record<string, unknown>) => [{ type: 'DynamicInternalUpstream', config }];

before(async () => {
  a = await startEcho('stable');
  c = await startEcho('canary');
  port = await freePort();
  const backends = [{ name: 'api', port: a.port }, { name: 'api-canary', port: c.port, weight: 0 }];
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('api', a.port), yaml.service('api-canary', c.port), yaml.service('elsewhere', a.port)].join('---\n'),
      'plugins.yaml': [
        pluginsYaml('rules', {
          request: di({
            from: { type: 'header', name: 'x-version' },
            rules: [
              { value: 'canary', backendRef: { name: 'api-canary' } },
              { value: 'stable', backendRef: { name: 'api', namespace: 'default' } },
              { value: 'gone', backendRef: { name: 'elsewhere' } },
            ],
            onMissing: 'reject',
            onNoMatch: 'reject',
            debugHeader: true,
          }),
        }),
        pluginsYaml('direct', { request: di({ from: { type: 'cookie', name: 'svc' }, onInvalid: 'fallback' }) }),
        pluginsYaml('bad', { request: di({ from: { type: 'header', name: 'x' }, rules: [] }) }),
      ].join('---\n'),
      'routes.yaml': [routeYaml('rules', 'rules.test', 'rules', backends), routeYaml('direct', 'direct.test', 'direct', backends), routeYaml('bad', 'bad.test', 'bad', backends)].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await a?.close();
  await c?.close();
});

test('a rule picks the backendRef, even one of weight 0; the debug header goes upstream', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await request({ port, host: 'rules.test', path: '/', headers: { 'x-version': 'canary' } });
    assert.equal(r.json.server, 'canary');
    assert.equal(r.json.headers['x-dynamic-internal-upstream'], 'api-canary');
  }
  const s = await request({ port, host: 'rules.test', path: '/', headers: { 'x-version': 'stable' } });
  assert.equal(s.json.server, 'stable');
  assert.equal(s.json.headers['x-dynamic-internal-upstream'], 'default/api');
});

test('missing → 400, no rule → 400, not a backendRef of the rule → 403', async () => {
  assert.equal((await request({ port, host: 'rules.test', path: '/' })).status, 400);
  assert.equal((await request({ port, host: 'rules.test', path: '/', headers: { 'x-version': 'beta' } })).status, 400);
  assert.equal((await request({ port, host: 'rules.test', path: '/', headers: { 'x-version': 'gone' } })).status, 403);
});

test('direct mode: the value names the backendRef; fallback keeps normal balancing', async () => {
  const r = await request({ port, host: 'direct.test', path: '/', headers: { cookie: 'svc=api-canary' } });
  assert.equal(r.json.server, 'canary');
  assert.equal(r.json.headers['x-dynamic-internal-upstream'], undefined);
  const fb = await request({ port, host: 'direct.test', path: '/', headers: { cookie: 'svc=nope' } });
  assert.equal(fb.json.server, 'stable', 'weights apply on fallback (canary has weight 0)');
  assert.equal((await request({ port, host: 'direct.test', path: '/' })).json.server, 'stable');
});

test('an empty rules list is rejected with its path', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((x: { type: string }) => x.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.requestPlugins\[0\]\.config\.rules/);
});
