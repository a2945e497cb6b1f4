import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewritePath } from '../../../src/gateway/filters/path-rewrite.js';

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
