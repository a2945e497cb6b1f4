// ResponseRewrite end to end: status, header rename → add → set → remove, the body extension
// (whole-body replacement, regex replacements, the size cap), a rejected bad config.
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
const rr = (config: Record<string, unknown>) => [{ type: 'ResponseRewrite', config }];

before(async () => {
  a = await startEcho('a');
  port = await freePort();
  const svc = [{ name: 'svc-a', port: a.port }];
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('svc-a', a.port)].join('---\n'),
      'plugins.yaml': [
        pluginsYaml('headers', {
          responseFilter: rr({
            statusCode: 203,
            headers: {
              rename: [{ from: 'x-backend', to: 'x-served-by' }],
              add: [{ name: 'x-extra', value: 'one' }, { name: 'x-extra', value: 'two' }],
              set: [{ name: 'content-language', value: 'en' }, { name: 'x-served-by', value: 'edge' }],
              remove: ['x-extra-gone'],
            },
          }),
        }),
        pluginsYaml('order', { responseFilter: rr({ headers: { rename: [{ from: 'x-backend', to: 'x-renamed' }], remove: ['x-renamed'] } }) }),
        pluginsYaml('body', { responseFilter: rr({ body: '{"replaced":true}', headers: { set: [{ name: 'content-type', value: 'application/json' }] } }) }),
        pluginsYaml('regex', { responseFilter: rr({ bodyReplace: [{ pattern: '"server":"a"', replacement: '"server":"hidden"' }, { pattern: '(?i)GET', replacement: 'VERB' }] }) }),
        pluginsYaml('cap', { responseFilter: rr({ bodyReplace: [{ pattern: 'a', replacement: 'b' }], maxBodySize: 1000 }) }),
        pluginsYaml('bad', { responseFilter: rr({ statusCode: 700 }) }),
      ].join('---\n'),
      'routes.yaml': [
        routeYaml('headers', 'headers.test', 'headers', svc),
        routeYaml('order', 'order.test', 'order', svc),
        routeYaml('body', 'body.test', 'body', svc),
        routeYaml('regex', 'regex.test', 'regex', svc),
        routeYaml('cap', 'cap.test', 'cap', svc),
        routeYaml('bad', 'bad.test', 'bad', svc),
      ].join('---\n'),
    },
  });
});

after(async () => {
  await e?.stop();
  await a?.close();
});

test('status replaced; headers renamed, added, set, removed in that order', async () => {
  const r = await request({ port, host: 'headers.test', path: '/' });
  assert.equal(r.status, 203);
  assert.equal(r.headers['x-backend'], undefined);
  assert.equal(r.headers['x-served-by'], 'edge', 'set runs after rename');
  assert.equal(r.headers['x-extra'], 'one, two');
  assert.equal(r.headers['content-language'], 'en');
  assert.equal(r.json.server, 'a', 'the body is untouched');
  const o = await request({ port, host: 'order.test', path: '/' });
  assert.equal(o.headers['x-renamed'], undefined, 'remove runs after rename');
  assert.equal(o.headers['x-backend'], undefined);
});

test('extension: body replaces the whole body', async () => {
  const r = await request({ port, host: 'body.test', path: '/anything' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { replaced: true });
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['content-length'] ?? String(Buffer.byteLength(r.body)), String(Buffer.byteLength(r.body)));
});

test('extension: bodyReplace edits every match; a body over maxBodySize passes unchanged', async () => {
  const r = await request({ port, host: 'regex.test', path: '/p' });
  assert.equal(r.status, 200);
  assert.equal(r.json.server, 'hidden');
  assert.equal(r.json.method, 'VERB');
  const small = await request({ port, host: 'cap.test', path: '/bytes/500' });
  assert.equal(small.body, 'b'.repeat(500));
  const big = await request({ port, host: 'cap.test', path: '/bytes/200000' });
  assert.equal(big.body.length, 200000);
  assert.equal(big.body, 'a'.repeat(200000));
});

test('a status code out of range is rejected with its path', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.upstreamResponseFilterPlugins\[0\]\.config\.statusCode/);
  assert.equal((await request({ port, host: 'bad.test', path: '/' })).status, 500);
});
