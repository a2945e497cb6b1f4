// UrlRewrite as a plugin (plugins.md §6, DECISIONS §41): the Gateway API URLRewrite filter.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSession, type FakeRequest } from '../../helpers/fake-session.js';
import { make, problems, warnings } from './plugin-test-kit.js';

const req: FakeRequest = { host: 'shop.example', path: '/api/v1/users', query: 'page=2', matchedPrefix: '/api' };
async function rewrite(config: unknown, r: FakeRequest = req) {
  const s = new FakeSession(r);
  assert.equal(await make('UrlRewrite', config).onRequest!(s), undefined);
  return { uri: s.uri, host: s.headers.get('host') };
}

const CASES: [config: unknown, uri: string, host?: string, r?: FakeRequest][] = [
  [{ hostname: 'backend.internal' }, '/api/v1/users?page=2', 'backend.internal'],
  [{ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/internal' } }, '/internal/v1/users?page=2'],
  [{ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } }, '/v1/users?page=2'],
  [{ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/x/' } }, '/x/v1/users?page=2'],
  [{ path: { type: 'ReplaceFullPath', replaceFullPath: '/health' } }, '/health?page=2'],
  [{ path: { type: 'ReplaceFullPath', replaceFullPath: '/h?only=1' } }, '/h?only=1'],
  [{ hostname: 'b.example', path: { type: 'ReplaceFullPath', replaceFullPath: '/x' } }, '/x?page=2', 'b.example'],
  [{ path: { type: 'ReplaceFullPath', replaceFullPath: '/x' } }, '/x', undefined, { path: '/a' }],
  // no prefix (Exact match): the whole path is replaced
  [{ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } }, '/new', undefined, { path: '/exact/path' }],
  [{}, '/api/v1/users?page=2'],
];
for (const [config, uri, host, r] of CASES) {
  test(`UrlRewrite ${JSON.stringify(config)} → ${uri}`, async () => {
    const out = await rewrite(config, r);
    assert.equal(out.uri, uri);
    if (host) assert.equal(out.host, host);
  });
}

const BAD: [config: unknown, message: string][] = [
  [{ hostname: 'UPPER.example' }, 'config.hostname: must be a lower-case DNS host name (RFC 1123), without port or wildcard (got "UPPER.example")'],
  [{ path: { type: 'ReplacePrefixMatch' } }, "config.path: replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'"],
  [{ path: { replaceFullPath: '/x' } }, 'config.path: required field "type" is missing'],
  [{ path: { type: 'ReplaceFullPath', replaceFullPath: 'x'.repeat(1025) } }, 'config.path.replaceFullPath: must be at most 1024 characters long (got 1025)'],
];
for (const [config, message] of BAD) test(`rejected: ${message}`, () => assert.deepEqual(problems('UrlRewrite', config), [message]));

test('UrlRewrite runs in requestPlugins only', () => {
  assert.deepEqual(problems('UrlRewrite', {}, 'upstreamResponseFilterPlugins'), ['type: UrlRewrite does not run in upstreamResponseFilterPlugins (it runs in requestPlugins)']);
});

test('an unknown field is accepted (the original ignores it) with a warning naming it', () => {
  assert.deepEqual(problems('UrlRewrite', { scheme: 'https' }), []);
  assert.deepEqual(warnings('UrlRewrite', { scheme: 'https' }), ['config.scheme: unknown field "scheme" is ignored']);
});
