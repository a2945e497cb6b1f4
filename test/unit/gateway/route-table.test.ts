// Route precedence (DECISIONS.md §2) and match semantics, table-driven.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable, type MatchRequest, type RouteEntryInput } from '../../../src/gateway/routing/route-table.js';
import { normalizePath } from '../../../src/gateway/routing/path.js';

interface Spec {
  id: string;
  path: [type: 'Exact' | 'PathPrefix' | 'RegularExpression', value: string];
  method?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  order?: number;
  route?: string;
  rule?: number;
}

function table(specs: Spec[]): RouteTable<string> {
  const t = new RouteTable<string>();
  specs.forEach((s, i) => {
    const e: RouteEntryInput<string> = {
      rule: s.id,
      routeOrder: s.order ?? i,
      routeKey: s.route ?? `ns/r${i}`,
      ruleIndex: s.rule ?? 0,
      matchIndex: 0,
      path: { type: s.path[0], value: s.path[1], ...(s.path[0] === 'RegularExpression' ? { regex: new RegExp(s.path[1]) } : {}) },
      ...(s.method ? { method: s.method } : {}),
      headers: Object.entries(s.headers ?? {}).map(([name, exact]) => ({ name, exact })),
      query: Object.entries(s.query ?? {}).map(([name, exact]) => ({ name, exact })),
    };
    t.add(e);
  });
  return t.finalize();
}

function req(method = 'GET', headers: Record<string, string> = {}, query: Record<string, string> = {}): MatchRequest {
  return { method, header: (n) => headers[n], query: (n) => query[n] };
}

const cases: { name: string; routes: Spec[]; path: string; req?: MatchRequest; want: string | undefined }[] = [
  { name: 'exact beats prefix of the same path', routes: [{ id: 'prefix', path: ['PathPrefix', '/a'] }, { id: 'exact', path: ['Exact', '/a'] }], path: '/a', want: 'exact' },
  { name: 'exact does not match a longer path', routes: [{ id: 'exact', path: ['Exact', '/a'] }], path: '/a/b', want: undefined },
  { name: 'longest prefix wins', routes: [{ id: 'short', path: ['PathPrefix', '/a'] }, { id: 'long', path: ['PathPrefix', '/a/b'] }], path: '/a/b/c', want: 'long' },
  { name: 'prefix matches whole segments only', routes: [{ id: 'foo', path: ['PathPrefix', '/foo'] }], path: '/foobar', want: undefined },
  { name: 'prefix matches itself', routes: [{ id: 'foo', path: ['PathPrefix', '/foo'] }], path: '/foo', want: 'foo' },
  { name: 'prefix matches with trailing slash', routes: [{ id: 'foo', path: ['PathPrefix', '/foo'] }], path: '/foo/', want: 'foo' },
  { name: 'prefix with trailing slash equals without', routes: [{ id: 'foo', path: ['PathPrefix', '/foo/'] }], path: '/foo', want: 'foo' },
  { name: 'root prefix matches everything', routes: [{ id: 'root', path: ['PathPrefix', '/'] }], path: '/x/y', want: 'root' },
  { name: 'regex beats prefix', routes: [{ id: 'prefix', path: ['PathPrefix', '/api'] }, { id: 're', path: ['RegularExpression', '^/api/v[0-9]+'] }], path: '/api/v2', want: 're' },
  { name: 'exact beats regex', routes: [{ id: 're', path: ['RegularExpression', '.*'] }, { id: 'exact', path: ['Exact', '/x'] }], path: '/x', want: 'exact' },
  { name: 'longer regex first', routes: [{ id: 'short', path: ['RegularExpression', '/v'] }, { id: 'long', path: ['RegularExpression', '/v[0-9]+/x'] }], path: '/v1/x', want: 'long' },
  { name: 'regex is unanchored find', routes: [{ id: 're', path: ['RegularExpression', '/v[0-9]+'] }], path: '/api/v2/x', want: 're' },
  { name: 'method match wins among equal paths', routes: [{ id: 'any', path: ['PathPrefix', '/m'] }, { id: 'post', path: ['PathPrefix', '/m'], method: 'POST' }], path: '/m', req: req('POST'), want: 'post' },
  { name: 'method mismatch falls back', routes: [{ id: 'any', path: ['PathPrefix', '/m'] }, { id: 'post', path: ['PathPrefix', '/m'], method: 'POST' }], path: '/m', req: req('GET'), want: 'any' },
  { name: 'more headers win', routes: [{ id: 'one', path: ['PathPrefix', '/h'], headers: { a: '1' } }, { id: 'two', path: ['PathPrefix', '/h'], headers: { a: '1', b: '2' } }], path: '/h', req: req('GET', { a: '1', b: '2' }), want: 'two' },
  { name: 'header values are exact', routes: [{ id: 'h', path: ['PathPrefix', '/h'], headers: { a: 'v' } }], path: '/h', req: req('GET', { a: 'V' }), want: undefined },
  { name: 'more query params win', routes: [{ id: 'q0', path: ['PathPrefix', '/q'] }, { id: 'q1', path: ['PathPrefix', '/q'], query: { x: '1' } }], path: '/q', req: req('GET', {}, { x: '1' }), want: 'q1' },
  { name: 'method beats headers', routes: [{ id: 'hdr', path: ['PathPrefix', '/p'], headers: { a: '1', b: '2' } }, { id: 'meth', path: ['PathPrefix', '/p'], method: 'GET' }], path: '/p', req: req('GET', { a: '1', b: '2' }), want: 'meth' },
  { name: 'headers beat query', routes: [{ id: 'q', path: ['PathPrefix', '/p'], query: { a: '1', b: '2' } }, { id: 'h', path: ['PathPrefix', '/p'], headers: { a: '1' } }], path: '/p', req: req('GET', { a: '1' }, { a: '1', b: '2' }), want: 'h' },
  { name: 'oldest route wins a full tie', routes: [{ id: 'newer', path: ['PathPrefix', '/t'], order: 5 }, { id: 'older', path: ['PathPrefix', '/t'], order: 2 }], path: '/t', want: 'older' },
  { name: 'namespace/name breaks an age tie', routes: [{ id: 'b', path: ['PathPrefix', '/t'], order: 1, route: 'ns/b' }, { id: 'a', path: ['PathPrefix', '/t'], order: 1, route: 'ns/a' }], path: '/t', want: 'a' },
  { name: 'rule order breaks a route tie', routes: [{ id: 'r1', path: ['PathPrefix', '/t'], order: 1, route: 'ns/a', rule: 1 }, { id: 'r0', path: ['PathPrefix', '/t'], order: 1, route: 'ns/a', rule: 0 }], path: '/t', want: 'r0' },
  { name: 'a longer prefix with unmet conditions falls to a shorter one', routes: [{ id: 'short', path: ['PathPrefix', '/a'] }, { id: 'long', path: ['PathPrefix', '/a/b'], headers: { x: '1' } }], path: '/a/b', want: 'short' },
  { name: 'exact param template', routes: [{ id: 'user', path: ['Exact', '/users/:id'] }], path: '/users/42', want: 'user' },
  { name: 'exact param template needs the segment', routes: [{ id: 'user', path: ['Exact', '/users/:id'] }], path: '/users/', want: undefined },
  { name: 'plain exact beats a template', routes: [{ id: 'tpl', path: ['Exact', '/users/:id'] }, { id: 'me', path: ['Exact', '/users/me'] }], path: '/users/me', want: 'me' },
  { name: 'prefix template by literal length', routes: [{ id: 'users', path: ['PathPrefix', '/users'] }, { id: 'tpl', path: ['PathPrefix', '/users/:id'] }], path: '/users/7/orders', want: 'tpl' },
  { name: 'no route, no match', routes: [], path: '/', want: undefined },
];

for (const c of cases) {
  test(`route precedence: ${c.name}`, () => {
    const hit = table(c.routes).match(c.path, c.req ?? req());
    assert.equal(hit?.rule, c.want);
  });
}

test('template parameters are captured and decoded', () => {
  const hit = table([{ id: 'u', path: ['Exact', '/users/:id/files/:file'] }]).match('/users/a%20b/files/x.txt', req());
  assert.deepEqual(hit?.params, { id: 'a b', file: 'x.txt' });
});

test('matched prefix is reported for ReplacePrefixMatch', () => {
  const hit = table([{ id: 'p', path: ['PathPrefix', '/strip/'] }]).match('/strip/one/two', req());
  assert.equal(hit?.matchedPrefix, '/strip');
});

const paths: [string, string][] = [
  ['/a/b?x=1', '/a/b'],
  ['/a//b', '/a/b'],
  ['//a///b/', '/a/b/'],
  ['/a/./b', '/a/b'],
  ['/a/../b', '/b'],
  ['/../../x', '/x'],
  ['/a/b/..', '/a/'],
  ['http://host:8080/p/q?z', '/p/q'],
  ['/', '/'],
];
for (const [input, want] of paths) {
  test(`normalizePath(${input}) = ${want}`, () => assert.equal(normalizePath(input), want));
}
