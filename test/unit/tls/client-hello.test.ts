import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duplexPair } from 'node:stream';
import tls from 'node:tls';
import { parseClientHello } from '../../../src/gateway/tls/client-hello.js';

/** The ClientHello node's TLS client sends, captured from an in-memory stream (no network). */
function clientHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve) => {
    const [a, b] = duplexPair();
    const s = tls.connect({ socket: a, ...opts });
    s.on('error', () => undefined);
    b.once('data', (d: Buffer) => {
      s.destroy();
      resolve(d);
    });
  });
}

test('SNI, ALPN and TLS 1.3 are read from a real ClientHello', async () => {
  const hello = await clientHello({ servername: 'Shop.Example.com', ALPNProtocols: ['h2', 'http/1.1'] });
  const r = parseClientHello(hello);
  assert.equal(r.state, 'done');
  if (r.state !== 'done') return;
  assert.equal(r.hello.sni, 'shop.example.com');
  assert.deepEqual(r.hello.alpn, ['h2', 'http/1.1']);
  assert.equal(r.hello.maxVersion, 0x0304);
});

test('a ClientHello without SNI', async () => {
  const r = parseClientHello(await clientHello({ maxVersion: 'TLSv1.2' }));
  assert.equal(r.state, 'done');
  if (r.state === 'done') {
    assert.equal(r.hello.sni, undefined);
    assert.equal(r.hello.maxVersion, 0x0303);
  }
});

test('bytes arriving one at a time: more until the whole message is there', async () => {
  const hello = await clientHello({ servername: 'a.test' });
  for (let i = 1; i < hello.length; i++) assert.equal(parseClientHello(hello.subarray(0, i)).state, 'more', `at ${i}`);
  assert.equal(parseClientHello(hello).state, 'done');
});

test('a ClientHello split over two records', async () => {
  const hello = await clientHello({ servername: 'split.test' });
  const body = hello.subarray(5);
  const cut = 40;
  const rec = (b: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
  const two = Buffer.concat([rec(body.subarray(0, cut)), rec(body.subarray(cut))]);
  const r = parseClientHello(two);
  assert.equal(r.state, 'done');
  if (r.state === 'done') assert.equal(r.hello.sni, 'split.test');
  assert.equal(parseClientHello(two.subarray(0, 5 + cut + 3)).state, 'more');
});

test('garbage is refused early', () => {
  assert.equal(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')).state, 'error');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])).state, 'error'); // ServerHello
  assert.equal(parseClientHello(Buffer.from([0x16, 0x02, 0x00, 0x00, 0x04])).state, 'error');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])).state, 'error');
  assert.equal(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0xff, 0xff, 0xff, 0x03, 0x03])).state, 'error', 'a 16 MB ClientHello');
  const malformed = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0x03, 0x03, 0x00, 0x00]);
  assert.equal(parseClientHello(malformed).state, 'error');
  assert.equal(parseClientHello(Buffer.alloc(0)).state, 'more');
});

test('random and truncated input never throws', async () => {
  const hello = await clientHello({ servername: 'fuzz.test', ALPNProtocols: ['h2'] });
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(hello);
    for (let k = 0; k < 4; k++) b[5 + Math.floor(rnd() * (b.length - 5))] = Math.floor(rnd() * 256);
    const cut = b.subarray(0, Math.floor(rnd() * b.length) + 1);
    const r = parseClientHello(cut);
    assert.ok(r.state === 'more' || r.state === 'done' || r.state === 'error');
  }
});
