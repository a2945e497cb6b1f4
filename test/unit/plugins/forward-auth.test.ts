// ForwardAuth: schema defaults and rejected configs (the calls themselves are end-to-end tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { problems, validConfig } from './auth-helpers.js';

test('defaults', () => {
  assert.deepEqual(validConfig('ForwardAuth', { uri: 'http://auth.local/check' }), {
    uri: 'http://auth.local/check',
    requestMethod: 'GET',
    upstreamHeaders: [],
    clientHeaders: [],
    timeoutMs: 10000,
    allowDegradation: false,
    statusOnError: 503,
    hideCredentials: false,
    authFailureDelayMs: 0,
  });
});

test('configs that cannot work are rejected with the field', () => {
  assert.deepEqual(problems('ForwardAuth', {}), ['config: required field "uri" is missing']);
  assert.deepEqual(problems('ForwardAuth', { uri: 'not a url' }), ['config.uri: "not a url" is not a URL']);
  assert.deepEqual(problems('ForwardAuth', { uri: 'ftp://x/y' }), ['config.uri: "ftp://x/y" must be an http or https URL']);
  assert.deepEqual(problems('ForwardAuth', { uri: 'http://a', upstreamHeaders: ['x user'] }), ['config.upstreamHeaders[0]: "x user" is not a valid HTTP header name']);
  assert.match(problems('ForwardAuth', { uri: 'http://a', statusOnError: 99 }).join(), /config\.statusOnError/);
  assert.match(problems('ForwardAuth', { uri: 'http://a', successStatusCodes: [] }).join(), /config\.successStatusCodes: must not be empty/);
  assert.match(problems('ForwardAuth', { uri: 'http://a', requestMethod: 'GE T' }).join(), /config\.requestMethod/);
  assert.match(problems('ForwardAuth', { uri: 'http://a', timeoutMs: 0 }).join(), /config\.timeoutMs/);
});
