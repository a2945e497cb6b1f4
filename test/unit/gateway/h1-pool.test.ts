// The gateway's own HTTP/1.1 upstream client against real servers on 127.0.0.1: raw net servers
// where the test needs to control the bytes, node:http where it needs a normal server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import type { Dispatcher } from 'undici';
import { H1Pool } from '../../../src/gateway/upstream/h1-pool.js';
import { freePort } from '../../helpers/free-port.js';

/** A complete 200 answer with the body `ok`. */
const OK_ANSWER = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

interface Result {
  status?: number;
  headers?: Record<string, string | string[]>;
  body: string;
  trailers?: Record<string, string | string[]>;
  error?: Error & { code?: string };
}

function pool(port: number, extra: Partial<ConstructorParameters<typeof H1Pool>[0]> = {}): H1Pool {
  return new H1Pool({ host: '127.0.0.1', port, connectTimeoutMs: 1000, keepAliveTimeoutMs: 4000, keepAliveMaxTimeoutMs: 60_000, maxConnections: 16, ...extra });
}

/** One request through the pool; resolves when the response ended or failed. */
function send(p: H1Pool, opts: Partial<Dispatcher.DispatchOptions> = {}, hooks: { onData?: (c: Dispatcher.DispatchController, chunk: Buffer) => void; onStart?: (c: Dispatcher.DispatchController) => void } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const out: Result = { body: '' };
    p.dispatch({ path: '/', method: 'GET', headers: ['host', 'example.test'], headersTimeout: 2000, bodyTimeout: 2000, ...opts } as Dispatcher.DispatchOptions, {
      onRequestStart: (c) => hooks.onStart?.(c),
      onResponseStart: (_c, status, headers) => {
        out.status = status;
        out.headers = headers as Record<string, string | string[]>;
      },
      onResponseData: (c, chunk) => {
        out.body += chunk.toString();
        hooks.onData?.(c, chunk);
      },
      onResponseEnd: (_c, trailers) => {
        out.trailers = trailers as Record<string, string | string[]>;
        resolve(out);
      },
      onResponseError: (_c, err) => {
        out.error = err;
        resolve(out);
      },
    });
  });
}

/** A raw server: `answer` gets each request head (and body bytes) and the socket. */
async function rawServer(answer: (head: string, socket: net.Socket, body: Buffer) => void): Promise<{ port: number; connections: number; requests: string[]; close(): void }> {
  const state = { port: 0, connections: 0, requests: [] as string[], close: (): void => undefined };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString('latin1');
        const len = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = buf.subarray(end + 4, end + 4 + len);
        buf = buf.subarray(end + 4 + len);
        state.requests.push(head);
        answer(head, socket, body);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = () => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  return state;
}

test('keep-alive: sequential requests share one connection; request head is what was asked', async () => {
  const srv = await rawServer((_h, s) => s.write(OK_ANSWER));
  const p = pool(srv.port);
  for (let i = 0; i < 3; i++) {
    const r = await send(p, { path: `/a?i=${i}`, headers: ['host', 'example.test', 'x-one', 'v1', 'x-one', 'v2'] });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
  }
  assert.equal(srv.connections, 1);
  assert.match(srv.requests[2]!, /^GET \/a\?i=2 HTTP\/1\.1\r\nhost: example\.test\r\nx-one: v1\r\nx-one: v2$/);
  await p.close();
  srv.close();
});

test('a response with Connection: close is not reused; the next request opens a new connection', async () => {
  const srv = await rawServer((_h, s) => s.end('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok'));
  const p = pool(srv.port);
  assert.equal((await send(p)).body, 'ok');
  assert.equal((await send(p)).body, 'ok');
  assert.equal(srv.connections, 2);
  await p.close();
  srv.close();
});

test('chunked response with trailers, and a body delimited by close', async () => {
  const srv = await rawServer((h, s) => {
    if (h.startsWith('GET /chunked')) s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 6\r\n\r\n');
    else s.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
  });
  const p = pool(srv.port);
  const a = await send(p, { path: '/chunked' });
  assert.equal(a.body, 'abc');
  assert.deepEqual(a.trailers, { 'x-sum': '6' });
  const b = await send(p, { path: '/close' });
  assert.equal(b.body, 'until the end');
  await p.close();
  srv.close();
});

test('request bodies: a buffer gets Content-Length; a stream of unknown length goes chunked; POST without body sends Content-Length: 0', async () => {
  const got: { method: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ method: req.method!, headers: req.headers, body });
      res.end('done');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const p = pool((srv.address() as net.AddressInfo).port);
  await send(p, { method: 'PUT', body: Buffer.from('buffered'), headers: ['host', 'h', 'content-length', '999'] });
  const stream = new PassThrough();
  const pending = send(p, { method: 'POST', body: stream });
  stream.write('part one, ');
  setTimeout(() => stream.end('part two'), 20);
  assert.equal((await pending).body, 'done');
  const fixed = new PassThrough();
  const pending2 = send(p, { method: 'POST', body: fixed, headers: ['host', 'h', 'content-length', '6'] });
  fixed.end('sized!');
  await pending2;
  await send(p, { method: 'POST' });
  assert.deepEqual(
    got.map((g) => [g.method, g.headers['content-length'], g.headers['transfer-encoding'], g.body]),
    [
      ['PUT', '8', undefined, 'buffered'],
      ['POST', undefined, 'chunked', 'part one, part two'],
      ['POST', '6', undefined, 'sized!'],
      ['POST', '0', undefined, ''],
    ],
  );
  await p.close();
  srv.close();
});

test('a refused connection fails with ECONNREFUSED; a silent server with UND_ERR_HEADERS_TIMEOUT', async () => {
  const port = await freePort();
  const r = await send(pool(port));
  assert.equal(r.error?.code, 'ECONNREFUSED');

  const srv = await rawServer(() => undefined);
  const p = pool(srv.port);
  const started = Date.now();
  const t = await send(p, { headersTimeout: 300 });
  assert.equal(t.error?.code, 'UND_ERR_HEADERS_TIMEOUT');
  const took = Date.now() - started;
  assert.ok(took >= 290 && took < 10000, `timed out after ${took} ms`);
  await p.close();
  srv.close();
});

test('a body that stalls fails with UND_ERR_BODY_TIMEOUT after the head arrived', async () => {
  const srv = await rawServer((_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
  const p = pool(srv.port);
  const r = await send(p, { bodyTimeout: 300 });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'abc');
  assert.equal(r.error?.code, 'UND_ERR_BODY_TIMEOUT');
  await p.close();
  srv.close();
});

test('a kept-alive connection the server closed is replaced transparently for a GET', async () => {
  let n = 0;
  const srv = await rawServer((_h, s) => {
    n++;
    // The first connection answers once, then drops the next request unanswered (a server whose
    // keep-alive timer fired as the request went out).
    if (n === 2) return void s.destroy();
    s.write(`HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n${n}`);
  });
  const p = pool(srv.port);
  assert.equal((await send(p)).body, '1');
  const again = await send(p);
  assert.equal(again.error, undefined);
  assert.equal(again.body, '3');
  assert.equal(srv.connections, 2);
  // A POST with a streamed body is not replayed: it fails.
  n = 1;
  const stream = new PassThrough();
  const post = send(p, { method: 'POST', body: stream });
  stream.end('x');
  assert.equal((await post).error?.code, 'UND_ERR_SOCKET');
  await p.close();
  srv.close();
});

test('pause and resume: data waits while paused, arrives in order, and the end comes last', async () => {
  const srv = await rawServer((_h, s) => {
    s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
    let i = 0;
    const t = setInterval(() => {
      s.write(`1\r\n${i}\r\n`);
      if (++i === 5) {
        clearInterval(t);
        s.write('0\r\n\r\n');
      }
    }, 5);
  });
  const p = pool(srv.port);
  const events: string[] = [];
  const r = await send(
    p,
    {},
    {
      onData: (c, chunk) => {
        events.push(chunk.toString());
        c.pause();
        setTimeout(() => c.resume(), 30);
      },
    },
  );
  assert.equal(r.body, '01234');
  assert.deepEqual(events, ['0', '1', '2', '3', '4']);
  await p.close();
  srv.close();
});

test('abort mid-response reports the reason and closes that connection; the pool keeps working', async () => {
  const srv = await rawServer((h, s) => {
    if (h.startsWith('GET /slow')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npart');
    else s.write(OK_ANSWER);
  });
  const p = pool(srv.port);
  const r = await send(p, { path: '/slow' }, { onData: (c) => c.abort(new Error('client went away')) });
  assert.equal(r.error?.message, 'client went away');
  const ok = await send(p);
  assert.equal(ok.body, 'ok');
  assert.equal(srv.connections, 2);
  await p.close();
  srv.close();
});

test('a header value with CR/LF is refused before anything is written; the connection stays usable', async () => {
  const srv = await rawServer((_h, s) => s.write(OK_ANSWER));
  const p = pool(srv.port);
  const bad = await send(p, { headers: ['host', 'h', 'x-evil', 'a\r\nx-injected: 1'] });
  assert.equal(bad.error?.code, 'UND_ERR_INVALID_ARG');
  const badName = await send(p, { headers: ['host', 'h', 'bad name', '1'] });
  assert.equal(badName.error?.code, 'UND_ERR_INVALID_ARG');
  assert.equal((await send(p)).body, 'ok');
  assert.equal(srv.requests.length, 1);
  assert.doesNotMatch(srv.requests.join(''), /injected/);
  await p.close();
  srv.close();
});

test('a malformed response fails the request with a clear error', async () => {
  const srv = await rawServer((_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\nok'));
  const p = pool(srv.port);
  const r = await send(p);
  assert.equal(r.error?.code, 'UND_ERR_RESPONSE_INVALID');
  assert.match(r.error!.message, /both Transfer-Encoding and Content-Length/);
  await p.close();
  srv.close();
});

test('bytes after a complete response: that connection is dropped, not reused', async () => {
  const srv = await rawServer((_h, s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nforge'));
  const p = pool(srv.port);
  assert.equal((await send(p)).body, 'ok');
  assert.equal((await send(p)).body, 'ok');
  assert.equal(srv.connections, 2);
  await p.close();
  srv.close();
});

test('over maxConnections requests wait for a free connection', async () => {
  const srv = await rawServer((_h, s) => setTimeout(() => s.write(OK_ANSWER), 20));
  const p = pool(srv.port, { maxConnections: 2 });
  const all = await Promise.all(Array.from({ length: 6 }, () => send(p)));
  assert.deepEqual(
    all.map((r) => r.body),
    Array(6).fill('ok'),
  );
  assert.equal(srv.connections, 2);
  await p.close();
  srv.close();
});

test('idle connections close after the keep-alive timeout', async () => {
  const srv = await rawServer((_h, s) => s.write(OK_ANSWER));
  const p = pool(srv.port, { keepAliveTimeoutMs: 200 });
  await send(p);
  await new Promise((r) => setTimeout(r, 500));
  await send(p);
  assert.equal(srv.connections, 2);
  await p.close();
  srv.close();
});

test('a streamed body longer or shorter than its Content-Length fails the request; nothing wrong reaches the backend', async () => {
  const srv = await rawServer((_h, s) => s.write(OK_ANSWER));
  const p = pool(srv.port);
  const long = new PassThrough();
  const a = send(p, { method: 'POST', body: long, headers: ['host', 'h', 'content-length', '3'] });
  long.end('four');
  assert.equal((await a).error?.code, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
  assert.match((await a).error!.message, /longer than its Content-Length 3/);
  const short = new PassThrough();
  const b = send(p, { method: 'POST', body: short, headers: ['host', 'h', 'content-length', '9'] });
  short.end('abc');
  assert.equal((await b).error?.code, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
  assert.equal(srv.requests.length, 0, 'no complete request reached the backend');
  assert.equal((await send(p)).body, 'ok');
  await p.close();
  srv.close();
});

test('a connect timeout of 0 means none: many fresh connections at once all get through', async () => {
  // Were 0 taken as a timer of 0 ms, it would fire before some of these connects complete.
  const srv = await rawServer((_h, s) => s.write(OK_ANSWER));
  const p = pool(srv.port, { connectTimeoutMs: 0, maxConnections: 64 });
  try {
    const all = await Promise.all(Array.from({ length: 50 }, () => send(p)));
    assert.deepEqual(
      all.map((r) => r.error?.code ?? r.body),
      Array(50).fill('ok'),
    );
    assert.equal(srv.connections, 50);
  } finally {
    await p.destroy();
    srv.close();
  }
});
