// RequestRedirect as a plugin (plugins.md §4.18; resources.md §7.4 with DECISIONS §5, §13).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeSession, type FakeRequest } from '../../helpers/fake-session.js';
import { make, problems, validate, warnings } from './plugin-test-kit.js';

const req: FakeRequest = { host: 'shop.example', path: '/old/page', query: 'a=1', matchedPrefix: '/old' };
const redirect = async (config: unknown, r: FakeRequest = req) => make('RequestRedirect', config).onRequest!(new FakeSession(r));

test('default statusCode 302', () => assert.deepEqual(validate('RequestRedirect', {}).config, { statusCode: 302 }));

const CASES: [config: unknown, location: string, status?: number, r?: FakeRequest][] = [
  [{ scheme: 'https', statusCode: 301 }, 'https://shop.example/old/page?a=1', 301],
  [{}, 'http://shop.example:8080/old/page?a=1'],
  [{ port: 80 }, 'http://shop.example/old/page?a=1'],
  [{ hostname: 'www.example.com' }, 'http://www.example.com:8080/old/page?a=1'],
  [{ scheme: 'https', port: 8443 }, 'https://shop.example:8443/old/page?a=1'],
  [{ path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } }, 'http://shop.example:8080/new?a=1'],
  [{ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' }, statusCode: 308 }, 'http://shop.example:8080/v2/page?a=1', 308],
  [{ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } }, 'http://shop.example:8080/page?a=1'],
  [{ path: { type: 'ReplaceFullPath', replaceFullPath: '/n?x=2' } }, 'http://shop.example:8080/n?x=2'],
  [{ path: { type: 'ReplaceFullPath', replaceFullPath: 'relative' } }, 'http://shop.example:8080/relative?a=1'],
  // an Exact or RegularExpression match has no prefix: ReplacePrefixMatch replaces the whole path
  [{ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } }, 'http://shop.example:8080/v2', 302, { host: 'shop.example', path: '/exact' }],
  // the request came over https (X-Forwarded-Proto as the gateway set it)
  [{}, 'https://shop.example:8080/old/page?a=1', 302, { ...req, scheme: 'https' }],
  [{ statusCode: 303 }, 'http://shop.example:8080/old/page?a=1', 303],
  [{ statusCode: 307 }, 'http://shop.example:8080/old/page?a=1', 307],
];
for (const [config, location, status = 302, r] of CASES) {
  test(`redirect ${JSON.stringify(config)} → ${status} ${location}`, async () => {
    assert.deepEqual(await redirect(config, r), { status, headers: { location }, body: '' });
  });
}

const BAD: [config: unknown, message: string][] = [
  [{ statusCode: 304 }, 'config.statusCode: must be one of: 301, 302, 303, 307, 308 (got 304)'],
  [{ scheme: 'ftp' }, 'config.scheme: must be one of: http, https (got "ftp")'],
  [{ port: 0 }, 'config.port: must be >= 1 (got 0)'],
  [{ port: 70000 }, 'config.port: must be <= 65535 (got 70000)'],
  [{ hostname: 'Bad_Host' }, 'config.hostname: must be a lower-case DNS host name (RFC 1123), without port or wildcard (got "Bad_Host")'],
  [{ hostname: 'a.example:8080' }, 'config.hostname: must be a lower-case DNS host name (RFC 1123), without port or wildcard (got "a.example:8080")'],
  [{ path: { type: 'ReplaceFullPath' } }, "config.path: replaceFullPath must be specified when type is set to 'ReplaceFullPath'"],
  [{ path: { type: 'Other', replaceFullPath: '/x' } }, 'config.path.type: must be one of: ReplaceFullPath, ReplacePrefixMatch (got "Other")'],
  [{ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/a b' } }, 'config.path.replacePrefixMatch: must be a path without spaces, control characters, ? or # (got "/a b")'],
];
for (const [config, message] of BAD) test(`rejected: ${message}`, () => assert.deepEqual(problems('RequestRedirect', config), [message]));

test('both CEL rules report for a full path given the wrong value', () => {
  assert.deepEqual(problems('RequestRedirect', { path: { type: 'ReplacePrefixMatch', replaceFullPath: '/x' } }), [
    "config.path: type must be 'ReplaceFullPath' when replaceFullPath is set",
    "config.path: replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'",
  ]);
});

test('both CEL rules report for a prefix path given the wrong value', () => {
  assert.deepEqual(problems('RequestRedirect', { path: { type: 'ReplaceFullPath', replacePrefixMatch: '/x' } }), [
    "config.path: replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
    "config.path: type must be 'ReplacePrefixMatch' when replacePrefixMatch is set",
  ]);
});

test('an unknown field is accepted (the original ignores it) with a warning naming it', () => {
  assert.deepEqual(problems('RequestRedirect', { url: 'x' }), []);
  assert.deepEqual(warnings('RequestRedirect', { url: 'x' }), ['config.url: unknown field "url" is ignored']);
});
