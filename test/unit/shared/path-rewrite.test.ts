import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redirectLocation, rewritePath, withQuery } from '../../../src/shared/path-rewrite.js';

const cases: [path: string, prefix: string, replacement: string, want: string][] = [
  ['/strip/one/two', '/strip', '/', '/one/two'],
  ['/strip', '/strip', '/', '/'],
  ['/strip/', '/strip', '/', '/'],
  ['/foo/bar', '/foo', '/baz', '/baz/bar'],
  ['/foo', '/foo', '/baz', '/baz'],
  ['/foo/bar', '/foo', '/baz/', '/baz/bar'],
  ['/x/y', '', '/api', '/api/x/y'],
];
for (const [path, prefix, value, want] of cases) {
  test(`ReplacePrefixMatch ${prefix} → ${value} on ${path} = ${want}`, () => {
    assert.equal(rewritePath(path, { type: 'ReplacePrefixMatch', value }, prefix), want);
  });
}

test('ReplaceFullPath replaces everything', () => {
  assert.equal(rewritePath('/a/b/c', { type: 'ReplaceFullPath', value: '/new' }, '/a'), '/new');
});

const req = { scheme: 'http', host: 'shop.example', listenerPort: 8080, path: '/old/page', queryString: 'a=1', matchedPrefix: '/old' };
const redirects: [name: string, spec: Parameters<typeof redirectLocation>[0], want: string][] = [
  ['keeps the listener port without scheme or port', {}, 'http://shop.example:8080/old/page?a=1'],
  ['a scheme without port uses its default port', { scheme: 'https' }, 'https://shop.example/old/page?a=1'],
  ['an explicit port is kept', { scheme: 'https', port: 8443 }, 'https://shop.example:8443/old/page?a=1'],
  ['the default port of the scheme is omitted', { port: 80 }, 'http://shop.example/old/page?a=1'],
  ['hostname replaces the host', { hostname: 'new.example', port: 80 }, 'http://new.example/old/page?a=1'],
  ['ReplaceFullPath', { path: { type: 'ReplaceFullPath', value: '/new' }, port: 80 }, 'http://shop.example/new?a=1'],
  ['ReplacePrefixMatch', { path: { type: 'ReplacePrefixMatch', value: '/new' }, port: 80 }, 'http://shop.example/new/page?a=1'],
  ['a path with its own query replaces the query', { path: { type: 'ReplaceFullPath', value: '/n?x=2' }, port: 80 }, 'http://shop.example/n?x=2'],
  ['IPv6 hosts are bracketed', { hostname: '::1', port: 80 }, 'http://[::1]/old/page?a=1'],
];
for (const [name, spec, want] of redirects) {
  test(`redirectLocation: ${name}`, () => assert.equal(redirectLocation(spec, req), want));
}

test('redirectLocation: an unknown host becomes localhost; no query, no "?"', () => {
  assert.equal(redirectLocation({}, { ...req, host: '', queryString: '', listenerPort: 80 }), 'http://localhost/old/page');
});

test('withQuery keeps the query unless the path carries one', () => {
  assert.equal(withQuery('/a', 'x=1'), '/a?x=1');
  assert.equal(withQuery('/a', ''), '/a');
  assert.equal(withQuery('/a?y=2', 'x=1'), '/a?y=2');
});
