// CtxSet end to end (plugins.md §4.23): variables in the access log, read by later plugins
// (conditions with ctx keys, Dsl), the plugins.md example, and a rejected configuration.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, waitFor } from '../../helpers/http.js';
import { base, condition, docs, plugins, route } from './util-kit.js';

let e: Edgion;
let echo: EchoServer;
let port: number;

const forward = { type: 'Dsl', config: { name: 'fwd', source: 'for k in req.header_names() { log(k) }\nif ctx.get("tenant") != nil { req.set_header("x-tenant", ctx.get("tenant")) }\nif ctx.get("plan") != nil { req.set_header("x-plan", ctx.get("plan")) }\nif ctx.get("key") != nil { req.set_header("x-key", ctx.get("key")) }' } };

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': base(port, echo.port),
      'plugins.yaml': docs([
        plugins('example', {
          requestPlugins: [
            {
              type: 'CtxSet',
              config: {
                vars: [
                  { name: 'tenant', from: { type: 'header', name: 'host' }, extract: { regex: '^([a-z0-9-]+)\\.shop\\.example$' }, default: 'public' },
                  { name: 'plan', from: { type: 'ctx', name: 'tenant' }, mapping: { values: { acme: 'gold' }, default: 'basic' } },
                  { name: 'key', template: '${method}:${ctx:tenant}:${query:sku}', transform: { case: 'lower' } },
                  { name: 'short', from: { type: 'query', name: 'id' }, transform: { substring: [0, 4] } },
                ],
              },
            },
            forward,
            { type: 'Mock', config: { statusCode: 402, body: 'gold only' }, conditions: { run: [{ type: 'include', key: { type: 'path' }, values: ['/premium*'] }, { type: 'exclude', key: { type: 'ctx', name: 'plan' }, values: ['gold'] }] } },
          ],
        }),
        plugins('bad', { requestPlugins: [{ type: 'CtxSet', config: { vars: [{ name: 'x', template: '${nope}' }] } }] }),
      ]),
      'routes.yaml': docs([route('example', '*.shop.example', echo.port, ['example']), route('bad', 'bad.test', echo.port, ['bad'])]),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string, path = '/', headers: Record<string, string> = {}) => request({ port, host, path, headers });

test('the plugins.md example: tenant from the host, plan mapped from the tenant; later plugins read them', async () => {
  let r = await get('acme.shop.example', '/items?sku=AB-1');
  assert.equal(r.status, 200);
  assert.equal(r.json.headers['x-tenant'], 'acme');
  assert.equal(r.json.headers['x-plan'], 'gold');
  assert.equal(r.json.headers['x-key'], 'get:acme:ab-1');
  r = await get('globex.shop.example', '/items');
  assert.equal(r.json.headers['x-tenant'], 'globex');
  assert.equal(r.json.headers['x-plan'], 'basic');
  assert.equal(r.json.headers['x-key'], 'get:globex:');
});

test('variables appear in the access log (substring counts characters)', async () => {
  const path = `/ctx-${Date.now()}`;
  await get('acme.shop.example', `${path}?id=${encodeURIComponent('é€ab-long')}`);
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === path));
  assert.deepEqual(line.ctx, { tenant: 'acme', plan: 'gold', key: 'get:acme:', short: 'é€ab' });
});

test('conditions on ctx keys see the variables', async () => {
  const blocked = await get('globex.shop.example', '/premium/report');
  assert.equal(blocked.status, 402);
  assert.equal(blocked.body, 'gold only');
  const gold = await get('acme.shop.example', '/premium/report');
  assert.equal(gold.status, 200);
});

test('a bad template is rejected in the status, naming the field', async () => {
  assert.equal((await get('bad.test')).status, 500);
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const acc = condition(st.json, 'Accepted')!;
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /spec\.requestPlugins\[0\]\.config\.vars\[0\]\.template: CtxSet: unknown placeholder "\$\{nope\}"/);
});
