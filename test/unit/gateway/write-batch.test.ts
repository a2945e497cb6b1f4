// Writes held to the end of the event-loop turn (net/write-batch.ts), on real sockets: nothing of a
// held write leaves before the turn ends, every byte arrives in order afterwards, a large write
// still reports backpressure and drains, and end() during a hold still delivers everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { WriteBatch } from '../../../src/gateway/net/write-batch.js';

/** A connected client socket and what the server side receives on it. */
async function pair(): Promise<{ client: net.Socket; received: () => string; ended: Promise<void>; close(): void }> {
  let data = '';
  let onEnd!: () => void;
  const ended = new Promise<void>((r) => (onEnd = r));
  const server = net.createServer((s) => {
    s.setEncoding('latin1');
    s.on('data', (d: string) => (data += d));
    s.on('end', onEnd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', r));
  return { client, received: () => data, ended, close: () => (client.destroy(), server.close()) };
}

const turn = () => new Promise<void>((r) => setImmediate(r));
const settle = () => new Promise<void>((r) => setTimeout(r, 50));

test('held writes of several sockets leave at the end of the turn, in order', async () => {
  const a = await pair();
  const b = await pair();
  const batch = new WriteBatch();
  batch.hold(a.client);
  a.client.write('one ');
  batch.hold(b.client);
  b.client.write('first ');
  batch.hold(a.client); // a second hold in the same turn changes nothing
  a.client.write('two');
  b.client.write('second');
  assert.equal(batch.size, 2);
  assert.equal(a.client.writableCorked, 1, 'corked once, whatever the number of holds');
  await settle(); // the turn ends, the bytes travel
  assert.equal(a.received(), 'one two');
  assert.equal(b.received(), 'first second');
  assert.equal(a.client.writableCorked, 0);
  assert.equal(batch.size, 0);
  a.close();
  b.close();
});

test('nothing leaves before the turn ends; a disabled batch writes at once', async () => {
  const a = await pair();
  const batch = new WriteBatch();
  batch.hold(a.client);
  a.client.write('held');
  assert.equal(a.client.writableLength, 4, 'still in the socket, not handed to the kernel');
  await turn();
  assert.equal(a.client.writableLength, 0);
  const off = new WriteBatch(false);
  off.hold(a.client);
  assert.equal(a.client.writableCorked, 0);
  a.client.write('!');
  assert.equal(a.client.writableLength, 0, 'written at once');
  await settle();
  assert.equal(a.received(), 'held!');
  a.close();
});

test('a large held write reports backpressure and drains after the turn; end() delivers everything', async () => {
  const a = await pair();
  const batch = new WriteBatch();
  batch.hold(a.client);
  const big = 'x'.repeat(a.client.writableHighWaterMark * 4);
  assert.equal(a.client.write(big), false, 'over the high-water mark: the caller is told to wait');
  const drained = new Promise<void>((r) => a.client.once('drain', r));
  await drained;
  batch.hold(a.client);
  a.client.write('tail');
  a.client.end();
  await a.ended;
  assert.equal(a.received().length, big.length + 4);
  assert.ok(a.received().endsWith('xtail'));
  await turn(); // the flush after end() is harmless
  a.close();
});

test('a destroyed socket is not held', async () => {
  const a = await pair();
  a.client.destroy();
  const batch = new WriteBatch();
  batch.hold(a.client);
  assert.equal(batch.size, 0);
  a.close();
});
