import { test } from 'node:test';
import assert from 'node:assert/strict';
import { H1ResponseParser, type ResponseHeaderMap } from '../../../src/gateway/upstream/h1-response-parser.js';

interface Parsed {
  status?: number;
  headers?: ResponseHeaderMap;
  body: string;
  ended: boolean;
  trailers?: ResponseHeaderMap | undefined;
  keepAlive: boolean;
  rest: string;
}

/** Feeds `input` in pieces cut at `cuts` (byte offsets); returns what the sink saw. */
function parse(input: string, opts: { headOnly?: boolean; cuts?: number[]; eof?: boolean } = {}): Parsed {
  const out: Parsed = { body: '', ended: false, keepAlive: true, rest: '' };
  const p = new H1ResponseParser({
    head(status, headers) {
      out.status = status;
      out.headers = headers;
      return true;
    },
    body(chunk) {
      out.body += chunk.toString('latin1');
      return true;
    },
    end(trailers) {
      out.ended = true;
      out.trailers = trailers;
    },
  });
  p.reset(opts.headOnly ?? false);
  const buf = Buffer.from(input, 'latin1');
  const cuts = [0, ...(opts.cuts ?? []), buf.length];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const piece = buf.subarray(cuts[i], cuts[i + 1]);
    const used = p.execute(piece);
    if (used < piece.length) {
      out.rest = piece.subarray(used).toString('latin1') + buf.subarray(cuts[i + 1]).toString('latin1');
      break;
    }
  }
  if (opts.eof) p.eof();
  out.keepAlive = p.keepAlive;
  return out;
}

/** Every way of cutting `input` in two, plus one byte at a time: the result must not change. */
function parseEverySplit(input: string, opts: { headOnly?: boolean; eof?: boolean } = {}): Parsed {
  const whole = parse(input, opts);
  for (let at = 1; at < input.length; at++) {
    assert.deepEqual(parse(input, { ...opts, cuts: [at] }), whole, `split at ${at}`);
  }
  const bytes = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(parse(input, { ...opts, cuts: bytes }), whole, 'one byte at a time');
  return whole;
}

const OK_LEN = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\nhello';

test('Content-Length body, header names lower-cased, repeated headers kept as a list', () => {
  const r = parseEverySplit(OK_LEN);
  assert.equal(r.status, 200);
  assert.equal(r.headers!['content-type'], 'text/plain');
  assert.deepEqual(r.headers!['set-cookie'], ['a=1', 'b=2']);
  assert.equal(r.body, 'hello');
  assert.equal(r.ended, true);
  assert.equal(r.keepAlive, true);
});

test('chunked body with extensions and trailers', () => {
  const input = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nGrpc-Status: 0\r\nx-t: 1\r\n\r\n';
  const r = parseEverySplit(input);
  assert.equal(r.body, 'hello, world');
  assert.deepEqual(r.trailers, { 'grpc-status': '0', 'x-t': '1' });
  assert.equal(r.ended, true);
});

test('chunked body without trailers; upper-case hex sizes', () => {
  const r = parseEverySplit('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n');
  assert.equal(r.body, '0123456789');
  assert.equal(r.trailers, undefined);
  assert.equal(r.ended, true);
});

test('no body for HEAD, 204 and 304, whatever the headers say', () => {
  assert.deepEqual(parse('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n', { headOnly: true }).ended, true);
  assert.equal(parse('HTTP/1.1 204 No Content\r\n\r\n').ended, true);
  const r = parse('HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n');
  assert.equal(r.ended, true);
  assert.equal(r.body, '');
});

test('1xx informational heads are dropped; the final head follows', () => {
  const r = parseEverySplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok');
  assert.equal(r.status, 201);
  assert.equal(r.headers!.link, undefined);
  assert.equal(r.body, 'ok');
});

test('a body without length runs until the connection closes; the connection is not reused', () => {
  const r = parseEverySplit('HTTP/1.1 200 OK\r\n\r\nuntil close', { eof: true });
  assert.equal(r.body, 'until close');
  assert.equal(r.ended, true);
  assert.equal(r.keepAlive, false);
});

test('Connection: close and HTTP/1.0 end keep-alive; HTTP/1.0 with keep-alive keeps it', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\ncontent-length: 0\r\n\r\n').keepAlive, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n').keepAlive, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n').keepAlive, true);
});

test('bytes after a complete response are left to the caller', () => {
  const r = parse('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA');
  assert.equal(r.body, 'ok');
  assert.equal(r.rest, 'EXTRA');
});

test('identical repeated Content-Length values are accepted', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok').body, 'ok');
});

const BAD: [string, string, RegExp][] = [
  ['Content-Length with Transfer-Encoding', 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n', /both Transfer-Encoding and Content-Length/],
  ['two different Content-Length values', 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n', /conflicting Content-Length/],
  ['a non-numeric Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: 3x\r\n\r\n', /bad Content-Length/],
  ['a negative Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', /bad Content-Length/],
  ['obsolete line folding', 'HTTP/1.1 200 OK\r\nx-a: 1\r\n  folded\r\n\r\n', /line folding/],
  ['whitespace before the colon', 'HTTP/1.1 200 OK\r\ncontent-length : 3\r\n\r\n', /invalid header name/],
  ['a header line without a colon', 'HTTP/1.1 200 OK\r\nnonsense\r\n\r\n', /without a colon/],
  ['a bad status line', 'HTTP/2.0 200 OK\r\n\r\n', /bad status line|unsupported HTTP version/],
  ['a status that is not three digits', 'HTTP/1.1 20 OK\r\n\r\n', /bad status/],
  ['a status line without reason separator', 'HTTP/1.1 200OK\r\n\r\n', /bad status/],
  ['a bad chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /bad chunk size/],
  ['chunk data not followed by CRLF', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokX\r\n', /not followed by CRLF/],
  ['an enormous chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffffff\r\n', /chunk size too large/],
  ['chunked twice', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, chunked\r\n\r\n', /more than once/],
  ['a 101 to a plain request', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n', /101/],
];

for (const [name, input, error] of BAD) {
  test(`refused: ${name}`, () => {
    assert.throws(() => parse(input), error);
  });
}

test('a head larger than the limit is refused, whole or in pieces', () => {
  const p = new H1ResponseParser({ head: () => true, body: () => true, end() {} }, { maxHeadBytes: 1024 });
  p.reset(false);
  const big = Buffer.from(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(2000)}\r\n\r\n`);
  assert.throws(() => p.execute(big), /response head over 1024 bytes/);
  p.reset(false);
  assert.throws(() => {
    for (let i = 0; i < big.length; i += 100) p.execute(big.subarray(i, i + 100));
  }, /response head over 1024 bytes/);
});

test('the connection closing early is an error, naming whether anything arrived', () => {
  const p = new H1ResponseParser({ head: () => true, body: () => true, end() {} });
  p.reset(false);
  assert.throws(() => p.eof(), /before any response/);
  p.reset(false);
  p.execute(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
  assert.throws(() => p.eof(), /before the response was complete/);
});

test('a sink that stops parsing: the rest is parsed on the next call, and the end waits for it', () => {
  const seen: string[] = [];
  let stop = true;
  const p = new H1ResponseParser({
    head: () => {
      seen.push('head');
      return !stop;
    },
    body: (c) => {
      seen.push(`body:${c.toString()}`);
      return !stop;
    },
    end: () => {
      seen.push('end');
    },
  });
  p.reset(false);
  const buf = Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n');
  let pos = p.execute(buf);
  assert.deepEqual(seen, ['head']);
  pos = p.execute(buf, pos);
  assert.deepEqual(seen, ['head', 'body:ab']);
  stop = false;
  pos = p.execute(buf, pos);
  assert.equal(pos, buf.length);
  assert.deepEqual(seen, ['head', 'body:ab', 'body:cd', 'end']);

  // Stopped on the last chunk of a Content-Length body: `end` comes with the next (empty) call.
  seen.length = 0;
  stop = true;
  p.reset(false);
  const one = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  pos = p.execute(one);
  pos = p.execute(one, pos);
  assert.deepEqual(seen, ['head', 'body:ok']);
  p.execute(Buffer.alloc(0));
  assert.deepEqual(seen, ['head', 'body:ok', 'end']);
});
