// The request heads the own HTTP/1.1 server path takes, and every kind it leaves to node:http.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HAND_OVER, headersObject, parseRequestHead, type RequestHead } from '../../../src/gateway/listeners/h1-request-head.js';

const LIMITS = { maxHeaderBytes: 8192, maxHeaderCount: 10 };

function parse(text: string, limits = LIMITS): RequestHead | typeof HAND_OVER {
  return parseRequestHead(Buffer.from(text, 'latin1'), limits);
}

test('a plain GET: method, target, raw headers as sent (values trimmed), size of the head', () => {
  const text = 'GET /a/b?x=1 HTTP/1.1\r\nHost: example.test\r\nX-Tab:\t v \t\r\nAccept: */*\r\n\r\n';
  const h = parse(text + 'GET / HTTP/1.1\r\n'); // the next (pipelined) request is not part of it
  assert.notEqual(h, HAND_OVER);
  const head = h as RequestHead;
  assert.equal(head.method, 'GET');
  assert.equal(head.url, '/a/b?x=1');
  assert.deepEqual(head.rawHeaders, ['Host', 'example.test', 'X-Tab', 'v', 'Accept', '*/*']);
  assert.equal(head.close, false);
  assert.equal(head.size, Buffer.byteLength(text));
});

test('methods without a body, Content-Length: 0, Connection keep-alive/close, absolute-form and * targets', () => {
  for (const m of ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST', 'PUT', 'PATCH']) {
    const h = parse(`${m} / HTTP/1.1\r\nHost: a\r\n\r\n`) as RequestHead;
    assert.equal(h.method, m);
  }
  assert.equal((parse('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n') as RequestHead).bodyLength, 0);
  assert.equal((parse('GET / HTTP/1.1\r\nHost: a\r\n\r\n') as RequestHead).bodyLength, 0);
  // A body of one plain length: taken; the head's size excludes it.
  const post = parse('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello') as RequestHead;
  assert.equal(post.bodyLength, 5);
  assert.equal(post.size, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n'.length);
  assert.equal((parse('PUT / HTTP/1.1\r\nContent-Length:  007 \r\nHost: a\r\n\r\n') as RequestHead).bodyLength, 7);
  assert.equal((parse('POST / HTTP/1.1\r\nContent-Length: 999999999999999\r\n\r\n') as RequestHead).bodyLength, 999_999_999_999_999);
  assert.equal((parse('GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n') as RequestHead).close, true);
  assert.equal((parse('GET / HTTP/1.1\r\nHost: a\r\nconnection: keep-alive\r\n\r\n') as RequestHead).close, false);
  assert.equal((parse('GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n') as RequestHead).url, 'http://a/x');
  assert.equal((parse('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n') as RequestHead).url, '*');
  assert.deepEqual((parse('GET / HTTP/1.1\r\n\r\n') as RequestHead).rawHeaders, [], 'no headers (the proxy answers 400 for the missing Host)');
});

test('everything else is handed to node:http', () => {
  const cases: Array<[string, string]> = [
    ['incomplete head', 'GET / HTTP/1.1\r\nHost: a\r\n'],
    ['empty', ''],
    ['leading empty line', '\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['two lengths', 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n'],
    ['two different lengths', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'],
    ['a list of lengths', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello'],
    ['a signed length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello'],
    ['a negative length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n'],
    ['a length with a space inside', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n'],
    ['a hex length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello'],
    ['an empty length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n'],
    ['a length over 15 digits', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000\r\n\r\n'],
    ['length and chunked (length first)', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['chunked and length (chunked first)', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n'],
    ['a body with Expect', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n'],
    ['chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['length and chunked', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['upgrade', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'],
    ['h2c upgrade', 'GET / HTTP/1.1\r\nHost: a\r\nHTTP2-Settings: AAA\r\n\r\n'],
    ['expect', 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n'],
    ['other connection options', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, x-foo\r\n\r\n'],
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\n\r\n'],
    ['HTTP/2.0 line', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n'],
    ['no version', 'GET /\r\nHost: a\r\n\r\n'],
    ['version with trailing space', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n'],
    ['two spaces', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['unknown method', 'BREW / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['lower-case method', 'get / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['8-bit target', 'GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['DEL in target', 'GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n'],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['no colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n'],
    ['empty name', 'GET / HTTP/1.1\r\n: a\r\n\r\n'],
    ['bad name character', 'GET / HTTP/1.1\r\nX(A): 1\r\n\r\n'],
    ['bare LF line end', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n'],
    ['NUL in a value', 'GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n'],
    ['DEL in a value', 'GET / HTTP/1.1\r\nX-A: \x7f\r\n\r\n'],
    ['too many headers', `GET / HTTP/1.1\r\n${Array.from({ length: 11 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`],
    ['head over the size limit', `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(8200)}\r\n\r\n`],
  ];
  for (const [why, text] of cases) assert.equal(parse(text), HAND_OVER, why);
});

test('the limits: exactly the header count and the size allowed are taken', () => {
  const ten = `GET / HTTP/1.1\r\n${Array.from({ length: 10 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`;
  assert.notEqual(parse(ten), HAND_OVER);
  const text = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
  assert.notEqual(parse(text, { maxHeaderBytes: text.length, maxHeaderCount: 10 }), HAND_OVER);
  assert.equal(parse(text, { maxHeaderBytes: text.length - 1, maxHeaderCount: 10 }), HAND_OVER);
});

test('headers object: lower-case names, node:http duplicate rules, no prototype keys', () => {
  const h = headersObject(['Host', 'a', 'HOST', 'b', 'Accept', 'x', 'accept', 'y', 'Cookie', 'c=1', 'cookie', 'd=2', 'Set-Cookie', 's', '__proto__', 'p']);
  assert.equal(h.host, 'a');
  assert.equal(h.accept, 'x, y');
  assert.equal(h.cookie, 'c=1; d=2');
  assert.deepEqual(h['set-cookie'], ['s']);
  assert.equal(h['__proto__'], 'p');
  assert.equal(Object.getPrototypeOf(h), null);
});
