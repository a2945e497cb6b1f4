import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { ProxyRewrite, parseTemplate } from '../../../src/plugins/http/traffic/proxy-rewrite.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from '../../helpers/traffic.js';

const reg = builtinRegistry();
const validate = (config: unknown) => reg.validateEntry('requestPlugins', { type: 'ProxyRewrite', config });
const make = (config: Record<string, unknown>) => ProxyRewrite.create(validate(config).config as never, fakeDeps());

test('templates parse variables once', () => {
  assert.deepEqual(parseTemplate('/a/$uri/$arg_x/$1/${id}x/$$'), [
    { k: 'lit', v: '/a/' },
    { k: 'uri' },
    { k: 'lit', v: '/' },
    { k: 'arg', name: 'x' },
    { k: 'lit', v: '/' },
    { k: 'cap', n: 1 },
    { k: 'lit', v: '/' },
    { k: 'param', name: 'id' },
    { k: 'lit', v: 'x/$$' },
  ]);
});

test('validation: bad regex, Host twice, bad method, uri not a path; uri with regexUri is a warning', () => {
  assert.equal(validate({ regexUri: { pattern: '(', replacement: '' } }).problems[0]!.path, 'config.regexUri.pattern');
  assert.equal(validate({ host: 'a', headers: { set: [{ name: 'Host', value: 'b' }] } }).problems[0]!.path, 'config.headers.set');
  assert.equal(validate({ method: 'get' }).problems[0]!.path, 'config.method');
  assert.equal(validate({ uri: 'no-slash' }).problems[0]!.path, 'config.uri');
  assert.equal(validate({ headers: { set: [{ name: 'bad header', value: 'x' }] } }).problems[0]!.path, 'config.headers.set.0.name'.replace('.0.', '[0].'));
  const both = validate({ uri: '/x', regexUri: { pattern: '^/(.*)', replacement: '/$1' } }).problems;
  assert.equal(both.length, 1);
  assert.equal(both[0]!.severity, 'warning');
  assert.deepEqual(validate({ uri: '/$uri' }).problems, []);
});

test('uri with variables; the original query is kept or appended with &', () => {
  const s = new FakeSession({ path: '/users/7', query: 'tab=a b&z=1', params: { id: '7' } });
  make({ uri: '/v2/$id/$arg_tab' }).onRequest!(s);
  assert.equal(s.uri, '/v2/7/a%20b?tab=a b&z=1');
  const s2 = new FakeSession({ path: '/p', query: 'q=1' });
  make({ uri: '/new?x=$uri' }).onRequest!(s2);
  assert.equal(s2.uri, '/new?x=/p&q=1');
  const s3 = new FakeSession({ path: '/p' });
  make({ uri: '/new' }).onRequest!(s3);
  assert.equal(s3.uri, '/new');
});

test('regexUri replaces the first match; no match leaves the path', () => {
  const s = new FakeSession({ path: '/api/v1/a/b', query: 'k=v' });
  make({ regexUri: { pattern: '^/api/v1/(.*)$', replacement: '/internal/$1' } }).onRequest!(s);
  assert.equal(s.uri, '/internal/a/b?k=v');
  const s2 = new FakeSession({ path: '/other' });
  make({ regexUri: { pattern: '^/api/(.*)$', replacement: '/x/$1' } }).onRequest!(s2);
  assert.equal(s2.uri, '/other');
  const s3 = new FakeSession({ path: '/API/x' });
  make({ regexUri: { pattern: '(?i)^/api/(.*)$', replacement: '/$1' } }).onRequest!(s3);
  assert.equal(s3.uri, '/x');
});

test('uri wins over regexUri and uses its captures', () => {
  const s = new FakeSession({ path: '/both/abc' });
  make({ uri: '/chosen/$1', regexUri: { pattern: '^/both/(\\w+)', replacement: '/no/$1' } }).onRequest!(s);
  assert.equal(s.uri, '/chosen/abc');
});

test('host, method, headers add → set → remove with unencoded variables', () => {
  const s = new FakeSession({ path: '/p', query: 'who=a b', headers: { 'x-a': '1', 'x-del': 'y' } });
  make({ host: 'up.internal', method: 'PUT', headers: { add: [{ name: 'X-A', value: '2' }], set: [{ name: 'x-who', value: '$arg_who@$uri' }], remove: ['X-Del'] } }).onRequest!(s);
  assert.equal(s.header('host'), 'up.internal');
  assert.equal(s.upstreamMethod, 'PUT');
  assert.equal(s.header('x-a'), '1,2');
  assert.equal(s.header('x-who'), 'a b@/p');
  assert.equal(s.header('x-del'), undefined);
  assert.equal(s.uri, '/p?who=a b', 'no uri change without uri/regexUri');
});
