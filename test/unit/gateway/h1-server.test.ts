// The own HTTP/1.1 server path on real sockets (127.0.0.1): what clients receive, what is handed to
// node:http (and that node:http then gets every byte), keep-alive, pipelining and timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { H1Server, type H1ServerSettings } from '../../../src/gateway/listeners/h1-server.js';
import type { H1Request, H1Response } from '../../../src/gateway/listeners/h1-exchange.js';
import type { H1BodyRequest } from '../../../src/gateway/listeners/h1-request-body.js';
import { WriteBatch } from '../../../src/gateway/net/write-batch.js';

type Handler = (req: H1Request | H1BodyRequest, res: H1Response) => void;

interface Harness {
  port: number;
  fast: H1Server;
  /** Requests node:http served: method, url and body. */
  handedOver: Array<{ method: string; url: string; body: string }>;
  timeouts: number;
  closing: boolean;
  close(): Promise<void>;
}

const SETTINGS: H1ServerSettings = { maxHeaderBytes: 8192, maxHeaderCount: 50, keepAliveTimeoutMs: 5000, headersTimeoutMs: 5000, maxRequestsPerSocket: 0, requestTimeoutMs: 25_000 };

async function harness(handler: Handler, settings: Partial<H1ServerSettings> = {}, writes?: WriteBatch): Promise<Harness> {
  const node = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      h.handedOver.push({ method: req.method!, url: req.url!, body });
      res.end(`node:${req.method} ${req.url} ${body}`);
    });
  });
  const h: Harness = {
    port: 0,
    handedOver: [],
    timeouts: 0,
    closing: false,
    fast: undefined as unknown as H1Server,
    close: async () => {
      h.fast.closeAll();
      node.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  h.fast = new H1Server({ ...SETTINGS, ...settings }, {
    onRequest: handler,
    handOver: (socket) => node.emit('connection', socket),
    onHeadersTimeout: (socket) => {
      h.timeouts++;
      socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    },
    get closing() {
      return h.closing;
    },
    writes,
  });
  const server = net.createServer((s) => h.fast.accept(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  h.port = (server.address() as net.AddressInfo).port;
  return h;
}

/** A raw client: sends bytes, collects everything received until the server closes or `until` matches. */
class Client {
  readonly socket: net.Socket;
  data = '';
  closed = false;
  private waiters: Array<() => void> = [];
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => {
      this.data += d;
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => undefined);
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  send(text: string): this {
    this.socket.write(text, 'latin1');
    return this;
  }
  /** Waits until `pred` holds (or fails after 3 s). */
  async until(pred: (c: Client) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!pred(this)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.data)} (closed: ${this.closed})`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
  /** Responses seen so far (bodies by Content-Length only). */
  count(re: RegExp): number {
    return (this.data.match(new RegExp(re.source, 'g')) ?? []).length;
  }
}

const GET = (path = '/', extra = '') => `GET ${path} HTTP/1.1\r\nHost: a.test\r\n${extra}\r\n`;
const okHandler: Handler = (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(3 + req.url.length) });
  res.end(Buffer.from(`ok ${req.url}`));
};

test('keep-alive: several requests on one connection, head and small body in one answer, Date and Keep-Alive added', async () => {
  const h = await harness(okHandler);
  const c = new Client(h.port);
  c.send(GET('/one'));
  await c.until((x) => x.data.includes('ok /one'), 'first answer');
  c.send(GET('/two'));
  await c.until((x) => x.data.includes('ok /two'), 'second answer');
  assert.match(c.data, /^HTTP\/1\.1 200 OK\r\ncontent-type: text\/plain\r\ncontent-length: 7\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nDate: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\r\n\r\nok \/one/);
  assert.equal(c.closed, false);
  assert.deepEqual(h.handedOver, []);
  c.socket.destroy();
  await h.close();
});

test('pipelined requests are answered in order, one at a time', async () => {
  let active = 0;
  let most = 0;
  const h = await harness((req, res) => {
    active++;
    most = Math.max(most, active);
    setTimeout(() => {
      active--;
      okHandler(req, res);
    }, req.url === '/slow' ? 50 : 1);
  });
  const c = new Client(h.port);
  c.send(GET('/slow') + GET('/b') + GET('/c'));
  await c.until((x) => x.count(/HTTP\/1\.1 200/) === 3, 'three answers');
  assert.ok(c.data.indexOf('ok /slow') < c.data.indexOf('ok /b') && c.data.indexOf('ok /b') < c.data.indexOf('ok /c'));
  assert.equal(most, 1);
  c.socket.destroy();
  await h.close();
});

test('Connection: close is answered with Connection: close and the connection ends', async () => {
  const h = await harness(okHandler);
  const c = new Client(h.port).send(GET('/', 'Connection: close\r\n'));
  await c.until((x) => x.closed, 'close');
  assert.match(c.data, /\r\nConnection: close\r\n/);
  assert.match(c.data, /ok \/$/);
  await h.close();
});

test('no length: chunked with trailers; HEAD and 204 carry no body; a string body gets its length', async () => {
  const h = await harness((req, res) => {
    if (req.url === '/chunked') {
      res.writeHead(200, { 'x-a': ['1', '2'] });
      res.write(Buffer.from('hello '));
      res.addTrailers({ 'x-sum': 'abc' });
      res.end(Buffer.from('world'));
    } else if (req.url === '/empty') {
      res.writeHead(204, {});
      res.end();
    } else if (req.url === '/implicit') {
      res.end('implicit body');
    } else {
      res.writeHead(200, { 'content-length': '5' });
      res.end(Buffer.from('hello'));
    }
  });
  const c = new Client(h.port).send(GET('/chunked'));
  await c.until((x) => x.data.endsWith('0\r\nx-sum: abc\r\n\r\n'), 'chunked answer');
  assert.match(c.data, /x-a: 1\r\nx-a: 2\r\nTransfer-Encoding: chunked\r\n/);
  assert.match(c.data, /\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\nx-sum: abc\r\n\r\n$/);
  c.data = '';
  c.send('HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n');
  await c.until((x) => x.data.endsWith('\r\n\r\n'), 'HEAD answer');
  assert.match(c.data, /content-length: 5\r\n/);
  c.data = '';
  c.send(GET('/empty'));
  await c.until((x) => x.data.endsWith('\r\n\r\n'), '204');
  assert.match(c.data, /^HTTP\/1\.1 204 No Content\r\n/);
  assert.doesNotMatch(c.data, /Transfer-Encoding|content-length/i);
  c.data = '';
  c.send(GET('/implicit'));
  await c.until((x) => x.data.endsWith('implicit body'), 'implicit');
  assert.match(c.data, /content-length: 13\r\n/);
  await new Promise((r) => setTimeout(r, 30));
  assert.ok(c.data.endsWith('implicit body'), 'HEAD and 204 left no stray body bytes');
  c.socket.destroy();
  await h.close();
});

test('a header value with CR or LF is refused before anything is written; the response can still be written', async () => {
  const h = await harness((_req, res) => {
    assert.throws(() => res.writeHead(200, { 'x-bad': 'a\r\nx-injected: 1' }), { code: 'ERR_INVALID_CHAR' });
    assert.throws(() => res.writeHead(200, { 'bad name': 'a' }), { code: 'ERR_INVALID_HTTP_TOKEN' });
    res.writeHead(502, { 'content-length': '3' });
    res.end(Buffer.from('bad'));
  });
  const c = new Client(h.port).send(GET());
  await c.until((x) => x.data.endsWith('bad'), 'the 502');
  assert.match(c.data, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  assert.doesNotMatch(c.data, /injected/);
  c.socket.destroy();
  await h.close();
});

/** Answers with what it read of the body: `body <method> <url> <bytes> <sha256 prefix>`. */
const bodyHandler: Handler = (req, res) => {
  const hash = createHash('sha256');
  let n = 0;
  const answer = () => {
    const text = `body ${req.method} ${req.url} ${n} ${hash.digest('hex').slice(0, 12)}`;
    res.writeHead(200, { 'content-length': String(text.length) });
    res.end(text);
  };
  if (!('read' in req)) return answer();
  req.on('data', (c: Buffer) => {
    n += c.length;
    hash.update(c);
  });
  req.on('end', answer);
};
const sha12 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex').slice(0, 12);

test('a body of one Content-Length is read here: whole in one packet, or over several with a pipelined request behind it', async () => {
  const h = await harness(bodyHandler);
  const c = new Client(h.port).send('POST /post HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
  await c.until((x) => x.data.includes('body POST /post 5'), 'the body read');
  assert.ok(c.data.includes(`body POST /post 5 ${sha12('hello')}`));
  assert.match(c.data, /Connection: keep-alive/);
  // Split: head alone, then the body in two pieces, the second carrying the next request.
  c.send('PUT /put HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n');
  await new Promise((r) => setTimeout(r, 30));
  c.send('01234');
  await new Promise((r) => setTimeout(r, 30));
  c.send('56789' + GET('/after'));
  await c.until((x) => x.data.includes('body GET /after'), 'the pipelined request after the body');
  assert.ok(c.data.includes(`body PUT /put 10 ${sha12('0123456789')}`));
  assert.ok(c.data.indexOf('body PUT /put') < c.data.indexOf('body GET /after'));
  assert.equal(c.closed, false);
  assert.deepEqual(h.handedOver, [], 'nothing went to node:http');
  c.socket.destroy();
  await h.close();
});

test('a large body reaches a slow reader whole (the socket waits for the reader), then the connection serves on', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 0xff;
  const h = await harness((req, res) => {
    if (!('read' in req)) return okHandler(req, res);
    const hash = createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      hash.update(c);
      // A reader slower than the client: the server must stop reading the socket meanwhile.
      if (n % 5 === 0) {
        req.pause();
        setTimeout(() => req.resume(), 1);
      }
    });
    req.on('end', () => {
      const text = `got ${n} ${hash.digest('hex').slice(0, 12)}`;
      res.writeHead(200, { 'content-length': String(text.length) });
      res.end(text);
    });
  });
  const c = new Client(h.port);
  c.socket.write(`POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: ${big.length}\r\n\r\n`);
  c.socket.write(big);
  c.send(GET('/next'));
  await c.until((x) => x.data.includes('ok /next'), 'the request after the large body');
  assert.ok(c.data.includes(`got ${big.length} ${sha12(big)}`), c.data.slice(0, 300));
  assert.deepEqual(h.handedOver, []);
  c.socket.destroy();
  await h.close();
});

test('an answer before the body is read says Connection: close and ends the connection; a client gone mid-body aborts the body', async () => {
  const h = await harness((_req, res) => {
    res.writeHead(401, { 'content-length': '6' });
    res.end('denied');
  });
  const c = new Client(h.port).send('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
  await c.until((x) => x.closed, 'the connection to end');
  assert.match(c.data, /^HTTP\/1\.1 401 Unauthorized\r\ncontent-length: 6\r\nConnection: close\r\n/);
  await h.close();

  const seen: string[] = [];
  const g = await harness((req, res) => {
    const body = req as H1BodyRequest;
    body.on('aborted', () => seen.push('aborted'));
    body.on('error', (e: Error) => seen.push(`error ${e.message}`));
    res.on('close', () => seen.push('response close'));
  });
  const d = new Client(g.port).send('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-part');
  await new Promise((r) => setTimeout(r, 50));
  d.socket.destroy();
  const deadline = Date.now() + 3000;
  while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen.sort(), ['aborted', 'error aborted', 'response close']);
  await g.close();
});

test('a body that does not arrive in time: the connection is cut after requestTimeoutMs', async () => {
  let closed = false;
  const h = await harness((req, res) => {
    req.resume();
    res.on('close', () => (closed = true));
  }, { requestTimeoutMs: 200 });
  const c = new Client(h.port).send('POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01');
  await c.until((x) => x.closed && closed, 'the connection to be cut and the response to learn of it');
  assert.equal(c.data, '');
  await h.close();
});

test('a head split over two packets and a chunked body go to node:http', async () => {
  const h = await harness(okHandler);
  const c = new Client(h.port).send('GET /split HTTP/1.1\r\nHo');
  await new Promise((r) => setTimeout(r, 30));
  c.send('st: a\r\n\r\n');
  await c.until((x) => x.data.includes('node:GET /split'), 'split head answered by node:http');
  const d = new Client(h.port).send('POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  await d.until((x) => x.data.includes('node:POST /c abc'), 'chunked body through node:http');
  c.socket.destroy();
  d.socket.destroy();
  await h.close();
});

test('a pipelined request with a chunked body behind a bodiless one: the first here, the rest through node:http', async () => {
  const h = await harness(okHandler);
  const c = new Client(h.port).send(GET('/a') + 'POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n' + GET('/c'));
  await c.until((x) => x.data.includes('node:GET /c'), 'all three');
  assert.ok(c.data.indexOf('ok /a') < c.data.indexOf('node:POST /b xyz'));
  assert.ok(c.data.indexOf('node:POST /b xyz') < c.data.indexOf('node:GET /c'));
  c.socket.destroy();
  await h.close();
});

test('a client that closes during a response: the response gets close (the proxy aborts the upstream)', async () => {
  let closedBeforeEnd = false;
  const h = await harness((_req, res) => {
    res.on('close', () => (closedBeforeEnd = !res.writableEnded));
  });
  const c = new Client(h.port).send(GET());
  await new Promise((r) => setTimeout(r, 50));
  c.socket.end();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(closedBeforeEnd, true);
  await h.close();
});

test('close after a completed response comes after the caller finished (not synchronously in end)', async () => {
  const order: string[] = [];
  const h = await harness((req, res) => {
    res.on('close', () => order.push('close'));
    okHandler(req, res);
    order.push('after end');
  });
  const c = new Client(h.port).send(GET());
  await c.until((x) => x.data.includes('ok /'), 'answer');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, ['after end', 'close']);
  c.socket.destroy();
  await h.close();
});

test('idle keep-alive connections close after keepAliveTimeoutMs; a silent new connection gets the headers timeout', async () => {
  const h = await harness(okHandler, { keepAliveTimeoutMs: 200, headersTimeoutMs: 300 });
  const c = new Client(h.port).send(GET());
  await c.until((x) => x.data.includes('ok /'), 'answer');
  const t0 = Date.now();
  await c.until((x) => x.closed, 'idle close');
  assert.ok(Date.now() - t0 >= 150, `closed after ${Date.now() - t0} ms`);
  assert.doesNotMatch(c.data, /Keep-Alive/, 'a timeout under a second is not announced as 0');

  const silent = new Client(h.port);
  await silent.until((x) => x.closed, 'silent connection closed');
  assert.match(silent.data, /^HTTP\/1\.1 408 /);
  assert.equal(h.timeouts, 1);
  await h.close();
});

test('maxRequestsPerSocket: the last allowed request is answered with Connection: close', async () => {
  const h = await harness(okHandler, { maxRequestsPerSocket: 2 });
  const c = new Client(h.port).send(GET('/1'));
  await c.until((x) => x.data.includes('ok /1'), 'first');
  assert.match(c.data, /Connection: keep-alive/);
  c.send(GET('/2'));
  await c.until((x) => x.closed, 'closed after the second');
  assert.match(c.data.slice(c.data.indexOf('ok /1')), /Connection: close\r\n[\s\S]*ok \/2$/);
  await h.close();
});

test('while closing, answers say Connection: close and idle connections are closed', async () => {
  const h = await harness(okHandler);
  const idle = new Client(h.port).send(GET('/idle'));
  await idle.until((x) => x.data.includes('ok /idle'), 'answer');
  h.closing = true;
  h.fast.closeIdle();
  await idle.until((x) => x.closed, 'idle connection closed');
  const c = new Client(h.port).send(GET('/late'));
  await c.until((x) => x.closed, 'closed after its answer');
  assert.match(c.data, /Connection: close\r\n[\s\S]*ok \/late$/);
  await h.close();
});

test('with writes held to the end of the turn: answers arrive whole, also when the connection is closed in the same turn', async () => {
  const batch = new WriteBatch();
  let held = 0;
  const h = await harness((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(`ok ${req.url}`.length) });
    res.end(`ok ${req.url}`);
    held = batch.size;
    if (req.url === '/last') h.fast.closeIdle(); // graceful stop right after the answer, before the turn ends
  }, {}, batch);
  const c = new Client(h.port).send(GET('/1'));
  await c.until((x) => x.data.includes('ok /1'), 'first answer');
  assert.equal(held, 1, 'the answer was held, not written at once');
  c.send(GET('/last'));
  await c.until((x) => x.closed, 'closed after the answer');
  assert.match(c.data, /ok \/1HTTP\/1\.1 200 OK\r\n[\s\S]*ok \/last$/);
  await h.close();
});

test('a large body is written without a copy and backpressure reaches the caller as drain', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024, 'x');
  let sawFalse = false;
  let drained = false;
  const h = await harness((_req, res) => {
    res.writeHead(200, { 'content-length': String(big.length * 2) });
    if (!res.write(big)) {
      sawFalse = true;
      res.once('drain', () => {
        drained = true;
        res.end(big);
      });
    } else res.end(big);
  });
  const c = new Client(h.port).send(GET());
  c.socket.pause();
  await new Promise((r) => setTimeout(r, 100));
  c.socket.resume();
  await c.until((x) => x.data.length >= big.length * 2, 'whole body');
  assert.equal(sawFalse, drained);
  assert.ok(sawFalse, 'a 4 MiB write to a paused client fills the socket buffer');
  c.socket.destroy();
  await h.close();
});
