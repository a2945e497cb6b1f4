// ProxyRewrite end to end: what the backend receives (path, query, Host, method, headers), the
// variables, uri winning over regexUri with a warning, a rejected bad regex.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { pluginsYaml, routeYaml } from '../../helpers/traffic.js';

let e: Edgion;
let a: EchoServer;
let port: number;
const pr = (config: Record<string, unknown>) => [{ type: 'ProxyRewrite', config }];

before(async () => {
  a = await startEcho('a');
  port = await freePort();
  const svc = [{ name: 'svc-a', port: a.port }];
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('svc-a', a.port)].join('---\n'),
      'plugins.yaml': [
        pluginsYaml('uri-vars', { request: pr({ uri: '/v2/users/$id/$arg_tab?from=$uri', headers: { set: [{ name: 'x-user-id', value: '$id' }, { name: 'x-tab', value: '$arg_tab' }] } }) }),
        pluginsYaml('regex', {
          request: pr({ regexUri: { pattern: '^/api/v1/(.*)$', replacement: '/internal/$1' }, host: 'backend.internal', method: 'POST', headers: { add: [{ name: 'x-trace', value: 'gw' }], set: [{ name: 'x-original-path', value: '$uri' }], remove: ['x-debug'] } }),
        }),
        pluginsYaml('both', { request: pr({ uri: '/chosen/$1', regexUri: { pattern: '^/both/(\\w+)', replacement: '/ignored/$1' } }) }),
        pluginsYaml('bad', { request: pr({ regexUri: { pattern: '^/(unclosed', replacement: '/x' } }) }),
      ].join('---\n'),
      'routes.yaml': [
        routeYaml('uri-vars', 'vars.test', 'uri-vars', svc, '/users/:id'),
        routeYaml('regex', 'regex.test', 'regex', svc),
        routeYaml('both', 'both.test', 'both', svc),
        routeYaml('bad', 'bad.test', 'bad', svc),
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await a?.close();
});

test('uri with path parameters, $arg_ (URL-encoded) and $uri; the original query is appended with &', async () => {
  const r = await request({ port, host: 'vars.test', path: '/users/42?tab=a%20b&x=1' });
  assert.equal(r.status, 200);
  assert.equal(r.json.path, '/v2/users/42/a%20b');
  assert.equal(r.json.url, '/v2/users/42/a%20b?from=/users/42&tab=a%20b&x=1');
  assert.equal(r.json.headers['x-user-id'], '42');
  assert.equal(r.json.headers['x-tab'], 'a b', 'header values are inserted unencoded');
});

test('regexUri, host, method, headers add/set/remove; the query is preserved', async () => {
  const r = await request({ port, host: 'regex.test', path: '/api/v1/orders/7?q=1', headers: { 'x-debug': 'yes', 'x-trace': 'client' } });
  assert.equal(r.status, 200);
  assert.equal(r.json.url, '/internal/orders/7?q=1');
  assert.equal(r.json.method, 'POST');
  assert.equal(r.json.headers.host, 'backend.internal');
  assert.equal(r.json.headers['x-original-path'], '/api/v1/orders/7');
  assert.equal(r.json.headers['x-trace'], 'client,gw');
  assert.equal(r.json.headers['x-debug'], undefined);
  // A path the regex does not match goes upstream unchanged.
  const other = await request({ port, host: 'regex.test', path: '/other?z=2' });
  assert.equal(other.json.url, '/other?z=2');
});

test('uri wins over regexUri (its captures still feed $1) and the status carries a warning', async () => {
  const r = await request({ port, host: 'both.test', path: '/both/abc' });
  assert.equal(r.status, 200);
  assert.equal(r.json.path, '/chosen/abc');
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/both');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'True');
  assert.match(JSON.stringify(st.json.status), /uri wins/);
});

test('an invalid regexUri is rejected with its path; the route fails closed', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.requestPlugins\[0\]\.config\.regexUri\.pattern/);
  assert.equal((await request({ port, host: 'bad.test', path: '/' })).status, 500);
});
